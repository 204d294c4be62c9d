"""The image variants' defaults on MNIST and Fashion-MNIST, scored by tinygan's own classifiers.

    python benchmarks/image_quality.py                        # dcgan, cgan, infogan on both datasets, seed 0
    python benchmarks/image_quality.py --variants dcgan --datasets mnist --seeds 0 1 2 --steps 6000 --jobs 2

Each run is ``python -m tinygan train VARIANT --dataset DATA --eval-every N`` (printed before it starts)
in ``runs/image_quality/VARIANT-DATA-SEED/``, so its metrics.jsonl holds classifier-FID and the classes
covered against steps; then ``python -m tinygan eval`` scores 10,000 samples of the final G beside
10,000 real training images (eval.json). The table checks each variant's target:

    dcgan    10 of 10 classes, and classifier-FID within 2x of real train images' (train vs test)
    cgan     >= 95% of the samples classified as the label they were generated for
    infogan  the 10-way code matches the classes up to a permutation: cluster purity >= 85%
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from machine import bench_env
from runs import add_run_arguments, report, run_jobs, train_or_read

VARIANTS = ("dcgan", "cgan", "infogan")
DATASETS = ("mnist", "fashion-mnist")
REAL = "real (train images)"


def target(variant: str, generated: dict, real: dict) -> str:
    """Whether the variant's target is met, with the figure it is judged on."""
    if variant == "cgan":
        acc = generated["label_accuracy"]
        return f"{'met' if acc >= 0.95 else 'NOT met'}: {100 * acc:.1f}% requested label (>= 95%)"
    if variant == "infogan":
        purity = generated["code_purity"]
        return f"{'met' if purity >= 0.85 else 'NOT met'}: purity {100 * purity:.1f}% (>= 85%)"
    ratio = generated["classifier_fid"] / real["classifier_fid"]
    ok = generated["classes_covered"] == 10 and ratio <= 2
    return f"{'met' if ok else 'NOT met'}: {generated['classes_covered']} classes, FID {ratio:.1f}x real's (<= 2x)"


def evaluate(out: Path, threads: int) -> dict:
    """eval.json of the run's final checkpoint (made now unless it is newer than the checkpoint)."""
    result = out / "eval.json"
    if not result.exists() or result.stat().st_mtime < (out / "checkpoint.npz").stat().st_mtime:
        cmd = [sys.executable, "-m", "tinygan", "eval", str(out)]
        print("$ python " + " ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, check=True, capture_output=True, env=bench_env(threads=threads))
    return json.loads(result.read_text())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    p.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--steps", type=int, help="training steps (default: the variant's own)")
    p.add_argument("--eval-every", type=int, default=500, help="classifier-FID and classes every N steps")
    add_run_arguments(p, out="runs/image_quality")
    args = p.parse_args(argv)
    jobs = [(v, d, s) for d in args.datasets for v in args.variants for s in args.seeds]

    def run(job):
        variant, dataset, seed = job
        out = Path(args.out) / f"{variant}-{dataset}-{seed}"
        train_args = [variant, "--dataset", dataset, "--seed", str(seed), "--eval-every", str(args.eval_every)]
        trained = train_or_read(train_args + (["--steps", str(args.steps)] if args.steps else []), out,
                                scored="classifier_fid", threads=args.threads)
        if "error" in trained:
            return {"job": job, **trained}
        return {"job": job, **trained, "eval": evaluate(out, args.threads)}

    results = run_jobs(run, jobs, args.jobs, args.threads)
    lines = [("| variant | data | seed | steps | classes | KL to uniform | confidence | classifier-FID (real) | "
             "precision | recall | requested label | code purity | target |"),
             "|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for r in results:
        variant, dataset, seed = r["job"]
        if "error" in r:
            lines.append(f"| {variant} | {dataset} | {seed} | failed: {r['error'][-200:]!r} |")
            continue
        g, real = r["eval"]["scores"]["generated"], r["eval"]["scores"][REAL]
        opt = {k: f"{100 * g[k]:.1f}%" if k in g else "" for k in ("label_accuracy", "code_purity")}
        lines.append(f"| {variant} | {dataset} | {seed} | {r['eval']['step']} | {g['classes_covered']} | "
                     f"{g['kl_to_uniform']:.3f} | {g['mean_confidence']:.3f} | {g['classifier_fid']:.1f} "
                     f"({real['classifier_fid']:.1f}) | {g['precision']:.3f} | {g['recall']:.3f} | "
                     f"{opt['label_accuracy']} | {opt['code_purity']} | {target(variant, g, real)} |")
    return report(lines, results, args.markdown)


if __name__ == "__main__":
    sys.exit(main())
