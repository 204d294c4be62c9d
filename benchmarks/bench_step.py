"""Time one full GAN training step (D update, then G update) in tinygan and in PyTorch.

    python benchmarks/bench_step.py                    # all three workloads on the CPU
    python benchmarks/bench_step.py --device cuda      # on the GPU (TF32 off in PyTorch)
    python benchmarks/bench_step.py --workloads mlp_gan dcgan28 --steps 20

Each (library, workload) pair runs in its own process, so peak memory is measured per
library, and the libraries alternate over ``--rounds`` rounds (shared machines drift by
~5%); the best round's median is reported. PyTorch is optional: without it only tinygan's
column is printed. Ratio = PyTorch ms / tinygan ms, so >= 1.00 means tinygan is as fast or faster.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_STEPS = {"mlp_gan": 30, "dcgan28": 10, "dcgan64": 3}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(lib_name: str, workload: str, device: str, steps: int, warmup: int) -> dict:
    """Run in a child process: build the workload in one library and time its steps."""
    import numpy as np

    sys.path.insert(0, HERE)
    from workloads import WORKLOADS, make_step, noise_shape

    if lib_name == "torch":
        import torch as lib
        torch = lib
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.manual_seed(0)

        def sync():
            if device == "cuda":
                torch.cuda.synchronize()
    else:
        import tinygan as lib
        lib.manual_seed(0)

        def sync():
            if device == "cuda":
                from tinygan import backend
                backend.cupy().cuda.Device().synchronize()

    rng = np.random.default_rng(0)
    batch, _, shape = WORKLOADS[workload]
    step, _, _ = make_step(lib, workload, device)
    real = lib.tensor(rng.uniform(-1, 1, (batch,) + shape).astype(np.float32), device=device)
    zs = [lib.tensor(rng.standard_normal(noise_shape(workload)).astype(np.float32), device=device)
          for _ in range(4)]
    for i in range(warmup):
        step(real, zs[i % 4])
    sync()
    rss_before = _rss_mb()
    times = []
    for i in range(steps):
        t0 = time.perf_counter()
        d_loss, g_loss = step(real, zs[i % 4])
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    finite = bool(np.isfinite(float(d_loss.item())) and np.isfinite(float(g_loss.item())))
    if device == "cuda":
        if lib_name == "torch":
            peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            from tinygan import backend
            peak = backend.cupy().get_default_memory_pool().total_bytes() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    return {"ms": statistics.median(times), "peak_mb": peak, "finite": finite}


def run_child(lib_name: str, workload: str, args) -> dict | None:
    cmd = [sys.executable, __file__, "--worker", lib_name, "--workloads", workload, "--device", args.device,
           "--steps", str(args.steps or DEFAULT_STEPS[workload]), "--warmup", str(args.warmup)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"[{lib_name} {workload}] failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def torch_available() -> bool:
    try:
        import importlib.util
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--workloads", nargs="+", default=list(DEFAULT_STEPS), choices=list(DEFAULT_STEPS))
    p.add_argument("--steps", type=int, default=None, help="timed steps per round (default: per workload)")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best median is kept")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        p.error("--steps must be >= 1")

    if args.worker:
        print(json.dumps(worker(args.worker, args.workloads[0], args.device,
                                args.steps or DEFAULT_STEPS[args.workloads[0]], args.warmup)))
        return 0

    libs = ["tinygan"] + (["torch"] if torch_available() and not args.no_torch else [])
    print(f"# full GAN step (D update + G update), float32, device={args.device}, "
          f"threads={os.cpu_count()}, libraries: {', '.join(libs)}", flush=True)
    print("| workload | tinygan ms/step | PyTorch ms/step | ratio (PyTorch/tinygan) | "
          "tinygan peak MB | PyTorch peak MB |")
    print("|---|---:|---:|---:|---:|---:|")
    results = {}
    for workload in args.workloads:
        best = {}
        for _ in range(args.rounds):
            for lib_name in libs:
                r = run_child(lib_name, workload, args)
                if r and (lib_name not in best or r["ms"] < best[lib_name]["ms"]):
                    best[lib_name] = r
        results[workload] = best
        t, pt = best.get("tinygan"), best.get("torch")
        ratio = f"{pt['ms'] / t['ms']:.2f}" if t and pt else "-"
        fmt = lambda r, k, f: f % r[k] if r else "-"
        print(f"| {workload} | {fmt(t, 'ms', '%.1f')} | {fmt(pt, 'ms', '%.1f')} | {ratio} | "
              f"{fmt(t, 'peak_mb', '%.0f')} | {fmt(pt, 'peak_mb', '%.0f')} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": args.device, "results": results}, f, indent=1)
    return 0 if all(r.get("tinygan", {}).get("finite") for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
