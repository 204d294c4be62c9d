"""Stacked MNIST: 1000 modes (three MNIST digits as the channels of one image), DCGAN against PacDCGAN.

    python benchmarks/stacked_mnist.py                                  # dcgan, pacdcgan2/3/4, seed 0
    python benchmarks/stacked_mnist.py --configs dcgan pacdcgan2 --seeds 0 1 2 --steps 6000 --jobs 2

The protocol of VEEGAN (Srivastava et al. 2017, Sec. 5.2) as PacGAN reuses it (Lin et al. 2018,
Table 2): DCGAN with Adam 2e-4, beta1 0.5, batch 64, z of 100, trained on 128,000 stacked images
(the `stacked-mnist` dataset); 26,000 samples are scored by labelling each channel with an MNIST
classifier (tinygan's own, ``tinygan/classifier.py``): the modes covered (of 1000) and the KL of the
mode histogram to uniform. PacDCGAN-m is the same DCGAN whose D judges m samples stacked along the
channels (``--pack m``; the batch is then 64 packed inputs, 64 m samples).

Each run is one ``python -m tinygan train dcgan --dataset stacked-mnist ... --eval-every N`` (printed
before it starts) in ``runs/stacked_mnist/CONFIG-SEED/``; the scores at every N steps come from its
metrics.jsonl, so the table shows modes and KL against training steps. Finished runs are read back and
interrupted ones resumed (benchmarks/runs.py).
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runs import add_run_arguments, report, run_jobs, train_or_read

CONFIGS = {"dcgan": 1, "pacdcgan2": 2, "pacdcgan3": 3, "pacdcgan4": 4}  # name: PacGAN degree m
# PacGAN (Lin et al. 2018), Table 2: modes (of 1000) / KL, 50 epochs of 128,000 images (100,000 steps of 64).
PAPER = {"dcgan": "99.0 / 3.40", "pacdcgan2": "1000.0 ± 0.0 / 0.06 ± 0.01", "pacdcgan4": "1000.0 ± 0.0 / 0.07 ± 0.01"}


def command(pack: int, seed: int, steps: int, every: int) -> list[str]:
    """The arguments after ``python -m tinygan train`` of one run."""
    return ["dcgan", "--dataset", "stacked-mnist", "--pack", str(pack), "--seed", str(seed), "--steps", str(steps),
            "--eval-every", str(every), "--sample-every", str(every)]


def mean_se(values: list[float], fmt: str) -> str:
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.mean(values), fmt)} ± {format(statistics.stdev(values) / math.sqrt(len(values)), fmt)}"


def table(results: list[dict]) -> list[str]:
    lines = [("| config | step | seeds | modes (of 1000) | KL to uniform | per seed: modes / KL | wall s per run | "
             "PacGAN Table 2 (100k steps): modes / KL |"), "|---|---:|---:|---|---|---|---:|---|"]
    for name in dict.fromkeys(r["name"] for r in results):
        rs = [r for r in results if r["name"] == name]
        if any("error" in r for r in rs):
            lines.append(f"| {name} | failed: {next(r['error'] for r in rs if 'error' in r)[-200:]!r} |")
            continue
        for step in sorted({s["step"] for r in rs for s in r["scores"]}):
            at = [next((s for s in r["scores"] if s["step"] == step), None) for r in rs]
            if None in at:
                continue
            modes, kl = [s["modes_covered"] for s in at], [s["kl_to_uniform"] for s in at]
            per_seed = ", ".join(f"{m} / {k:.2f}" for m, k in zip(modes, kl))
            wall = statistics.mean(r["seconds"] for r in rs)
            lines.append(f"| {name} | {step} | {len(at)} | {mean_se(modes, '.1f')} | {mean_se(kl, '.3f')} | {per_seed} | "
                         f"{wall:.0f} | {PAPER.get(name, '')} |")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--steps", type=int, default=3000, help="training steps of each run")
    p.add_argument("--eval-every", type=int, default=1000, help="score 26,000 samples every N steps")
    add_run_arguments(p, out="runs/stacked_mnist")
    args = p.parse_args(argv)
    jobs = [(name, seed) for name in args.configs for seed in args.seeds]

    def run(job):
        name, seed = job
        out = Path(args.out) / f"{name}-{seed}"
        return {"name": name, "seed": seed, **train_or_read(command(CONFIGS[name], seed, args.steps, args.eval_every),
                                                              out, scored="modes_covered", threads=args.threads)}

    results = run_jobs(run, jobs, args.jobs, args.threads)
    return report(table(results), results, args.markdown)


if __name__ == "__main__":
    sys.exit(main())
