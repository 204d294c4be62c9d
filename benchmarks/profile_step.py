"""Where a tinygan training step spends its time, beside PyTorch's whole step on the same workload.

    python benchmarks/profile_step.py                         # every CPU workload, 2 threads
    python benchmarks/profile_step.py --workloads dcgan64 --steps 2

The hot functions of ``tinygan/ops/dispatch.py`` (the GEMMs, im2col and col2im, the norms, LeakyReLU,
Adam) are wrapped with timers for ``--steps`` steps after a warm-up; "the rest" is the step minus
them: Python and autograd bookkeeping, NumPy's elementwise ops and the layout copies around each GEMM.
The GEMM row alone is a floor for this design (im2col + one BLAS GEMM per conv): where it is close to
PyTorch's whole step, no change outside the GEMMs can bring the step to PyTorch's speed. Like
bench_step.py, every process runs without the OpenBLAS pinning of these machines (machine.py).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from machine import bench_env, blas_kernel

TIMED = ("matmul", "im2col", "col2im", "normalize", "normalize_backward", "leaky_relu", "masked_scale",
         "adam_update")


def worker(lib_name: str, workload: str, steps: int) -> dict:
    """In a child process: ms per step, and for tinygan the ms per step in each timed dispatch function."""
    from workloads import inputs, make_step

    if lib_name == "torch":
        import torch as lib
    else:
        import tinygan as lib
        from tinygan.ops import dispatch
        spent = collections.Counter()

        def timed(name, fn):
            def wrapper(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    spent[name] += time.perf_counter() - start
            return wrapper

        for name in TIMED:  # the ops look their kernels up in dispatch at call time
            setattr(dispatch, name, timed(name, getattr(dispatch, name)))
    lib.manual_seed(0)
    step, _, _ = make_step(lib, workload)
    real, (z,) = inputs(lib, workload)
    for _ in range(2):
        step(real, z)
    if lib_name != "torch":
        spent.clear()
    start = time.perf_counter()
    for _ in range(steps):
        step(real, z)
    total = (time.perf_counter() - start) * 1e3 / steps
    parts = {} if lib_name == "torch" else {k: v * 1e3 / steps for k, v in spent.items()}
    return {"ms": total, "parts": parts}


def run(lib_name: str, workload: str, steps: int, threads: int) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", lib_name, "--workloads", workload, "--steps", str(steps)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=bench_env(threads), check=False)
    if proc.returncode != 0:
        print(f"[{lib_name} {workload}] failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    from workloads import WORKLOADS

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", nargs="+", default=[w for w in WORKLOADS if w != "toy2d"], choices=list(WORKLOADS))
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.workloads[0], args.steps)))
        return 0
    print(f"# ms per step, {args.threads} threads; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset; NumPy's BLAS: "
          f"{blas_kernel(bench_env(args.threads))}")
    print("| workload | tinygan step | " + " | ".join(TIMED) + " | the rest | PyTorch step | PyTorch / tinygan GEMMs |")
    print("|---|" + "---:|" * (len(TIMED) + 4))
    for workload in args.workloads:
        ours, theirs = run("tinygan", workload, args.steps, args.threads), run("torch", workload, args.steps,
                                                                               args.threads)
        if ours is None:
            continue
        parts = ours["parts"]
        rest = ours["ms"] - sum(parts.values())
        torch_ms = f"{theirs['ms']:.1f}" if theirs else "-"
        floor = f"{theirs['ms'] / parts['matmul']:.2f}" if theirs and parts.get("matmul") else "-"
        print(f"| {workload} | {ours['ms']:.1f} | " + " | ".join(f"{parts.get(k, 0.0):.1f}" for k in TIMED)
              + f" | {rest:.1f} | {torch_ms} | {floor} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
