"""Mode-collapse scores on the 2D mixtures: the README's tables, and the commands behind them.

    python benchmarks/mixtures.py                          # every variant's defaults, ring8 + grid25, 3 seeds
    python benchmarks/mixtures.py --configs gan pacgan2 --datasets ring8 --seeds 0 1 2 3 4
    python benchmarks/mixtures.py --paper pacgan --seeds 0 1 2 3 4 --steps 20000 --score-every 10000
    python benchmarks/mixtures.py --paper unrolled --seeds 0 1 2
    python benchmarks/mixtures.py --table ablation         # why the old defaults collapsed
    python benchmarks/mixtures.py --table tuned --seeds 0 1 2 3 4   # the best grid25 configuration
    python benchmarks/mixtures.py --jobs 2                 # two runs at a time (one BLAS thread each)

Each run is one ``python -m tinygan train`` command (printed before it starts) writing into
``runs/mixtures/<table>/CONFIG-DATASET-SEED/``; a finished run is read back instead of trained
again, and an interrupted one is resumed (benchmarks/runs.py). Scores are
the VEEGAN / PacGAN protocol of ``tinygan/metrics.py`` on 2500 samples (modes captured, % high
quality, reverse KL of the mode histogram to uniform), read from the run's ``metrics.jsonl`` at
every ``--score-every`` steps and at the last step. The table gives mean +- standard error
over seeds, and for ``--paper`` the paper's own numbers beside ours.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from runs import report, run_jobs, train_or_read


@dataclass(frozen=True)
class Config:
    args: tuple           # CLI arguments after "train" (the variant and its switches)
    batch_per_pack: bool = False  # --batch-size is the batch per packed D input, times --pack


# The defaults table: each variant and trick with nothing but its own defaults.
DEFAULTS = {
    "gan": Config(("gan",)),
    "gan-minimax": Config(("gan", "--loss", "minimax")),
    "lsgan": Config(("lsgan",)),
    "hinge": Config(("hinge",)),
    "wgan": Config(("wgan",)),
    "wgan_gp": Config(("wgan_gp",)),
    "ebgan": Config(("ebgan",)),
    "began": Config(("began",)),
    "unrolled": Config(("unrolled",)),
    "pacgan2": Config(("gan", "--pack", "2")),
    "pacgan3": Config(("gan", "--pack", "3")),
    "pacgan4": Config(("gan", "--pack", "4")),
    "minibatch-discrimination": Config(("gan", "--minibatch-discrimination", "8")),
    "feature-matching": Config(("gan", "--feature-matching")),
    "label-smoothing": Config(("gan", "--label-smoothing", "0.9")),
}

# Why the old defaults collapsed: the main job with one of them put back at a time, and all of them
# (z of 64, width 256, Adam lr 2e-4 for both, constant lr, 2000 steps: 0 of 8 ring8 modes); and
# equal learning rates for G and D (1e-3) instead of G's half rate.
ABLATION = {
    "main-job": Config(("gan",)),
    "z_dim-64": Config(("gan", "--set", "z_dim=64")),
    "width-256": Config(("gan", "--set", "hidden=256")),
    "lr-2e-4": Config(("gan", "--lr", "2e-4")),
    "constant-lr": Config(("gan", "--lr-decay", "0")),
    "equal-lr": Config(("gan", "--lr", "1e-3")),
    "old-defaults": Config(("gan", "--set", "z_dim=64", "--set", "hidden=256", "--lr", "2e-4", "--lr-decay", "0",
                            "--batch-size", "256", "--steps", "2000")),
}

# PacGAN's synthetic experiment (Lin et al. 2018, Sec. 5.1; the public config of
# github.com/fjxmlzn/PacGAN): G 4 x [Linear 400 (no bias), BatchNorm, ReLU] on z ~ N(0, I_2);
# D 3 maxout layers of 200 units x 5 pieces; N(0, 0.02) init; Adam(1e-4, beta1 0.8); batch 100
# packed samples; constant learning rates; 100,000 training points; 2500 samples scored. Packing m
# makes D's input m samples.
PACGAN_NETS = ("--set", "g_batchnorm=true", "--set", "hidden=400", "--set", "g_layers=4", "--set", "z_dim=2",
               "--set", "d_hidden=200", "--set", "d_layers=3", "--set", "maxout=5", "--set", "init_std=0.02",
               "--set", "lr_g=1e-4", "--set", "lr_d=1e-4", "--set", "betas=0.8,0.999", "--lr-decay", "0",
               "--batch-size", "100")
PACGAN = {f"pacgan{m}" if m > 1 else "gan": Config(("gan", "--pack", str(m), *PACGAN_NETS), batch_per_pack=True)
          for m in (1, 2, 3, 4)}
# Their Table 1: mean +- standard error over 10 runs of 400 epochs (400,000 steps).
PACGAN_TABLE = {  # (config, dataset): (modes, high quality %, reverse KL)
    ("gan", "ring8"): ("6.3 ± 0.5", "98.2 ± 0.2", "0.45 ± 0.09"),
    ("pacgan2", "ring8"): ("7.9 ± 0.1", "95.6 ± 2.0", "0.07 ± 0.03"),
    ("pacgan3", "ring8"): ("7.8 ± 0.1", "97.7 ± 0.3", "0.10 ± 0.02"),
    ("pacgan4", "ring8"): ("7.8 ± 0.1", "95.9 ± 1.4", "0.07 ± 0.02"),
    ("gan", "grid25"): ("17.3 ± 0.8", "94.8 ± 0.7", "0.70 ± 0.07"),
    ("pacgan2", "grid25"): ("23.8 ± 0.7", "91.3 ± 0.8", "0.13 ± 0.04"),
    ("pacgan3", "grid25"): ("24.6 ± 0.4", "94.2 ± 0.4", "0.06 ± 0.02"),
    ("pacgan4", "grid25"): ("24.8 ± 0.2", "93.6 ± 0.6", "0.04 ± 0.01"),
}

# Metz et al. (2017), Sec. 3.1 and App. A, their 2D mixture experiment: G 2 x [Linear 128, ReLU] on
# z ~ N(0, I_256), D one hidden layer of 128, Adam(1e-4, beta1 0.5) for both, batch 512 (the
# authors' notebook), D's Adam unrolled (their code), G descending the minimax saddle objective (their
# code minimizes -f_K), K = 10 unrolling steps (their Fig. 1) against the same networks and optimizer
# with K = 0. Their ring has radius 2 and std 0.02: ring8 scaled by 2. Not copied: their orthogonal
# init (gain 0.8), their D's ReLU (ours is LeakyReLU 0.2), their simultaneous G and D updates.
METZ_NETS = ("--set", "g_layers=2", "--set", "hidden=128", "--set", "z_dim=256", "--set", "d_layers=1",
             "--lr", "1e-4", "--set", "unroll_optimizer=adam", "--lr-decay", "0", "--batch-size", "512",
             "--loss", "minimax")
UNROLLED = {
    "unrolled10": Config(("unrolled", *METZ_NETS, "--set", "unroll_steps=10")),
    "unrolled0": Config(("unrolled", *METZ_NETS, "--set", "unroll_steps=0")),
}

# The best configuration found for grid25: equal learning rates (G's half rate slows the spreading
# over 25 modes) and four times the steps (at 10000, one seed in five ends with 24 modes).
TUNED = {"gan-lr1e-3-20k": Config(("gan", "--lr", "1e-3", "--steps", "20000"))}

DATASETS = ("ring8", "grid25")
TABLES = {  # name: (configurations, default datasets)
    "defaults": (DEFAULTS, DATASETS), "ablation": (ABLATION, ("ring8",)), "tuned": (TUNED, ("grid25",)),
    "pacgan": (PACGAN, DATASETS), "unrolled": (UNROLLED, ("ring8",)),
}


def command(cfg: Config, dataset: str, seed: int, steps: int | None, score_every: int | None) -> list[str]:
    """The arguments after ``python -m tinygan train`` of one run."""
    args = list(cfg.args)
    if cfg.batch_per_pack:  # PacGAN's batch counts packed D inputs: m samples each
        i = args.index("--batch-size")
        args[i + 1] = str(int(args[i + 1]) * int(args[args.index("--pack") + 1]))
    args += ["--dataset", dataset, "--seed", str(seed)]
    if steps:
        args += ["--steps", str(steps)]
    if score_every:
        args += ["--sample-every", str(score_every), "--checkpoint-every", str(score_every)]
    return args


def run_one(job) -> dict:
    """Train one configuration (or read back a finished run); its scored rows and wall time."""
    name, cfg, dataset, seed, steps, score_every, root = job
    result = train_or_read(command(cfg, dataset, seed, steps, score_every), root / f"{name}-{dataset}-{seed}",
                           scored="modes_captured")
    return {"name": name, "dataset": dataset, "seed": seed, **result}


def mean_se(values: list[float], fmt: str) -> str:
    """'mean ± standard error' (just the value for one seed; inf if any value is, e.g. the reverse KL
    of a run without a high-quality sample)."""
    if not all(math.isfinite(v) for v in values):
        return "inf"
    if len(values) == 1:
        return format(values[0], fmt)
    se = statistics.stdev(values) / math.sqrt(len(values))
    return f"{format(statistics.mean(values), fmt)} ± {format(se, fmt)}"


def table(results: list[dict], paper: str | None, every: int | None) -> list[str]:
    """One row per configuration and dataset at its last step (and at every ``every`` steps)."""
    lines = ["| config | data | step | seeds | modes | high quality % | reverse KL | per seed: modes / HQ % "
             "| wall s (1 core) |" + (" paper: modes / HQ % / rev-KL |" if paper == "pacgan" else ""),
             "|---|---|---:|---:|---|---|---|---|---:|" + ("---|" if paper == "pacgan" else "")]
    keys = list(dict.fromkeys((r["name"], r["dataset"]) for r in results))
    for name, dataset in keys:
        rs = [r for r in results if (r["name"], r["dataset"]) == (name, dataset)]
        failed = [r for r in rs if "error" in r]
        if failed:
            lines.append(f"| {name} | {dataset} | failed: {failed[0]['error'][-200:]!r} |")
            continue
        steps = sorted({s["step"] for r in rs for s in r["scores"]})
        for step in [s for s in steps if s == steps[-1] or (every and s % every == 0)]:
            at = [next((s for s in r["scores"] if s["step"] == step), None) for r in rs]
            if any(s is None for s in at):
                continue
            modes = [s["modes_captured"] for s in at]
            hq = [100 * s["high_quality"] for s in at]
            kl = [s["reverse_kl"] if s["reverse_kl"] is not None else math.inf for s in at]
            per_seed = ", ".join(f"{m}/{h:.0f}" for m, h in zip(modes, hq))
            wall = statistics.mean(r["seconds"] for r in rs)
            ref = PACGAN_TABLE.get((name, dataset))
            extra = f" {' / '.join(ref)} |" if paper == "pacgan" and ref else (" |" if paper == "pacgan" else "")
            lines.append(f"| {name} | {dataset} | {step} | {len(at)} | {mean_se(modes, '.1f')} of "
                         f"{at[0]['num_modes']} | {mean_se(hq, '.1f')} | {mean_se(kl, '.3f')} | {per_seed} | "
                         f"{wall:.0f} |{extra}")
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table", choices=list(TABLES), default="defaults",
                   help="defaults (each variant as it comes), ablation (the main job with one old default put "
                        "back at a time), tuned (the best grid25 configuration), or a paper's setup")
    p.add_argument("--paper", choices=["pacgan", "unrolled"], help="the same as --table pacgan / unrolled")
    p.add_argument("--configs", nargs="+", help="a subset of the table's configurations")
    p.add_argument("--datasets", nargs="+", choices=DATASETS, help="default: ring8 and grid25")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--steps", type=int, help="training steps (default: each variant's own default)")
    p.add_argument("--score-every", type=int, help="also score (and checkpoint) every N steps")
    p.add_argument("--jobs", type=int, default=1, help="runs at a time, each on one core")
    p.add_argument("--out", default="runs/mixtures")
    p.add_argument("--markdown", help="also write the table to this file")
    args = p.parse_args(argv)
    name = args.paper or args.table
    configs, datasets = TABLES[name]
    unknown = set(args.configs or []) - set(configs)
    if unknown:
        p.error(f"unknown configs {sorted(unknown)}; choose from {list(configs)}")
    names = args.configs or list(configs)
    root = Path(args.out) / name
    jobs = [(n, configs[n], d, s, args.steps, args.score_every, root)
            for d in (args.datasets or datasets) for n in names for s in args.seeds]
    results = run_jobs(run_one, jobs, args.jobs, threads=1)
    return report(table(results, name, args.score_every), results, args.markdown)


if __name__ == "__main__":
    sys.exit(main())
