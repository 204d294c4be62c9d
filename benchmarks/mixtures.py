"""Mode-collapse scores on the 2D mixtures: the table in the README, and the commands behind it.

    python benchmarks/mixtures.py                       # every configuration, 3 seeds, both mixtures
    python benchmarks/mixtures.py --configs gan pacgan4 --datasets ring8 --seeds 0
    python benchmarks/mixtures.py --jobs 2              # two runs at a time (one BLAS thread each)

Each run is one ``python -m tinygan train`` command (printed before it starts), and its
scores are the VEEGAN / PacGAN protocol of ``tinygan/metrics.py`` on 2500 samples at the
last step. Runs land in ``runs/mixtures/CONFIG-DATASET-SEED/``.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# name: (CLI arguments after "train", steps); every run also gets --dataset, --seed, --steps, --out.
# unrolled and wgan_gp cost ~10x more per step (5 unrolled D updates through create_graph; 5 critic
# steps with a double-backward penalty), so they get fewer steps for a similar CPU budget.
CONFIGS = {
    "gan": (["gan"], 25000),
    "pacgan4": (["gan", "--pack", "4"], 25000),
    "unrolled": (["unrolled"], 3000),
    "wgan_gp": (["wgan_gp"], 3000),
}
DATASETS = ("ring8", "grid25")
COMMON = ["--batch-size", "256", "--no-progress", "--set", "hidden=128"]


def command(config: str, dataset: str, seed: int, steps: int, out: Path) -> list[str]:
    return [sys.executable, "-m", "tinygan", "train", *CONFIGS[config][0], "--dataset", dataset, "--seed", str(seed),
            "--steps", str(steps), "--sample-every", str(steps), "--checkpoint-every", str(steps),
            "--out", str(out), *COMMON]


def run_one(args) -> dict:
    config, dataset, seed, steps, root = args
    out = root / f"{config}-{dataset}-{seed}"
    cmd = command(config, dataset, seed, steps, out)
    print("$ python " + " ".join(cmd[1:]), flush=True)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        return {"config": config, "dataset": dataset, "seed": seed, "error": proc.stderr[-500:]}
    last = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])
    return {"config": config, "dataset": dataset, "seed": seed, **last}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--steps", type=int, help="override the per-config step counts")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--out", default="runs/mixtures")
    p.add_argument("--json", help="also write every run's final row to this file")
    args = p.parse_args(argv)
    root = Path(args.out)
    jobs = [(c, d, s, args.steps or CONFIGS[c][1], root) for d in args.datasets for c in args.configs
            for s in args.seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(run_one, jobs))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    print("\n| config | dataset | steps | modes (per seed) | mean modes | high quality % (per seed) | mean HQ % |")
    print("|---|---|---:|---|---:|---|---:|")
    failed = False
    for d in args.datasets:
        for c in args.configs:
            rs = [r for r in rows if r["config"] == c and r["dataset"] == d]
            if not rs:
                continue
            if any("error" in r for r in rs):
                failed = True
                print(f"| {c} | {d} | - | failed: {[r.get('error', '')[-120:] for r in rs if 'error' in r]} |")
                continue
            modes = [r["modes_captured"] for r in rs]
            hq = [100 * r["high_quality"] for r in rs]
            print(f"| {c} | {d} | {args.steps or CONFIGS[c][1]} | {' / '.join(map(str, modes))} of {rs[0]['num_modes']} | "
                  f"{statistics.mean(modes):.1f} | {' / '.join(f'{h:.1f}' for h in hq)} | {statistics.mean(hq):.1f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
