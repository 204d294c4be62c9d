"""Time one full GAN training step (D update, then G update) in tinygan and in PyTorch.

    python benchmarks/bench_step.py                    # every workload on the CPU, 2 threads
    python benchmarks/bench_step.py --device cuda      # on the GPU (TF32 off in PyTorch)
    python benchmarks/bench_step.py --workloads toy2d dcgan28 --steps 20 --threads 1

The workloads (``benchmarks/workloads.py``, built by one function for both libraries): toy2d (the
main job's MLPs on 2-D points), mlp_gan, dcgan28, dcgan64, pix2pix64 (U-Net + PatchGAN) and
cyclegan64 (ResNet generator + PatchGAN). On the CPU every timed process runs without the
OpenBLAS pinning of these machines (``benchmarks/machine.py``), with ``--threads`` threads in
every library, and the header names the BLAS kernel that NumPy gets there.

On the GPU tinygan is timed twice: eager (one launch per kernel from Python) and with the whole
step captured into a CUDA graph and replayed (``tinygan.cuda.GraphedStep``, Adam with
``capturable=True``); the graph column also gives the number of nodes (kernels, memsets, copies)
in the captured step. ``--no-graph`` skips it. GPU memory: CuPy's pools (default + the graph's)
hold every byte tinygan ever allocated, so their total is compared with PyTorch's
``max_memory_reserved`` (its caching allocator's high-water mark).

Each (library, workload) pair runs in its own process, so peak memory is measured per
library, and the libraries alternate over ``--rounds`` rounds (shared machines drift by
~5%); the best round's median is reported. CPU peak memory comes from one more process per pair:
the growth of its peak RSS over one step after a warm-up step, with malloc returning every freed
block to the system (``run_child``), i.e. the most memory the step holds at once beyond the
parameters, optimizer state and inputs. PyTorch is optional: without it only tinygan's
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
DEFAULT_STEPS = {"toy2d": 100, "mlp_gan": 30, "dcgan28": 10, "dcgan64": 3, "pix2pix64": 5, "cyclegan64": 5}
sys.path.insert(0, HERE)
from machine import bench_env, blas_kernel


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(lib_name: str, workload: str, device: str, steps: int, warmup: int) -> dict:
    """Run in a child process: build the workload in one library and time its steps."""
    import numpy as np

    sys.path.insert(0, HERE)
    from workloads import inputs, make_step, noise_shape

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

    graphed = lib_name == "tinygan-graph"
    step, _, _ = make_step(lib, workload, device, capturable=graphed)
    real, zs = inputs(lib, workload, device, count=4)
    nodes = None
    if graphed:  # warm-up steps, then one capture; step(real, z) now copies z in and replays
        step = lib.cuda.GraphedStep(step, real, lib.zeros(*noise_shape(workload), device=device),
                                    warmup=max(warmup, 1))
        nodes = step.graph.num_nodes()
    else:
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
    extra = {}
    if device == "cuda":
        if lib_name == "torch":
            peak = torch.cuda.max_memory_reserved() / 2**20
            extra["max_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
        else:
            peak = lib.cuda.memory_reserved() / 2**20
            if graphed:
                peak += step.graph.pool().total_bytes() / 2**20
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss_before
    return {"ms": statistics.median(times), "peak_mb": peak, "finite": finite, "nodes": nodes, **extra}


def run_child(lib_name: str, workload: str, args, memory: bool = False) -> dict | None:
    """One worker process. ``memory``: one warm-up step and one measured step, for the peak memory only."""
    steps, warmup = (1, 1) if memory else (args.steps or DEFAULT_STEPS[workload], args.warmup)
    cmd = [sys.executable, __file__, "--worker", lib_name, "--workloads", workload, "--device", args.device,
           "--steps", str(steps), "--warmup", str(warmup)]
    env = None
    if args.device == "cpu":
        env = bench_env(args.threads)
        if memory:
            # glibc's malloc keeps freed memory in the process (and raises its mmap threshold after each
            # large free), so a peak RSS would count what either library freed long ago, differently for
            # NumPy and PyTorch. A fixed threshold maps every block over 128 kB on its own and unmaps it
            # when freed: RSS then follows the live arrays, and its peak during the measured step minus
            # the RSS before it is the step's own peak (params, optimizer state and inputs excluded).
            # Not for the timings: a fresh mapping per array costs page faults in both libraries.
            env["MALLOC_MMAP_THRESHOLD_"] = "131072"
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
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
    p.add_argument("--threads", type=int, default=2, help="CPU threads for every library (BLAS, OpenMP, Numba)")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds; the best median is kept")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    p.add_argument("--no-graph", action="store_true", help="on cuda, skip the CUDA-graph column")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        p.error("--steps must be >= 1")

    if args.worker:
        print(json.dumps(worker(args.worker, args.workloads[0], args.device,
                                args.steps or DEFAULT_STEPS[args.workloads[0]], args.warmup)))
        return 0

    graph = args.device == "cuda" and not args.no_graph
    libs = (["tinygan"] + (["tinygan-graph"] if graph else [])
            + (["torch"] if torch_available() and not args.no_torch else []))
    print(f"# full GAN step (D update + G update), float32, device={args.device}, libraries: {', '.join(libs)}",
          flush=True)
    if args.device == "cpu":
        print(f"# {args.threads} threads of {os.cpu_count()} CPUs; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset; "
              f"NumPy's BLAS: {blas_kernel(bench_env(args.threads))}", flush=True)
    print(TABLE_HEADER)
    results = {}
    for workload in args.workloads:
        best = {}
        for _ in range(args.rounds):
            for lib_name in libs:
                r = run_child(lib_name, workload, args)
                if r and (lib_name not in best or r["ms"] < best[lib_name]["ms"]):
                    best[lib_name] = r
        if args.device == "cpu":  # the peak memory from a run of its own (see run_child)
            for lib_name, result in best.items():
                r = run_child(lib_name, workload, args, memory=True)
                result["peak_mb"] = r["peak_mb"] if r else None
        results[workload] = best
        print(table_row(workload, best), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": args.device, "results": results}, f, indent=1)
    return 0 if all(r.get(lib, {}).get("finite") for r in results.values()
                    for lib in libs if lib.startswith("tinygan")) else 1


TABLE_HEADER = ("| workload | tinygan ms/step | tinygan graph ms/step | PyTorch ms/step | ratio eager | "
                "ratio graph | nodes in graph | tinygan peak MB | PyTorch peak MB |\n"
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|")


def table_row(workload: str, best: dict) -> str:
    """One markdown row; ratio = PyTorch ms / tinygan ms (>= 1.00: tinygan is as fast or faster)."""
    t, g, pt = best.get("tinygan"), best.get("tinygan-graph"), best.get("torch")

    def fmt(r, key, spec):
        return spec % r[key] if r and r.get(key) is not None else "-"

    def ratio(r):
        return f"{pt['ms'] / r['ms']:.2f}" if r and pt else "-"

    peak = max((r["peak_mb"] for r in (t, g) if r and r.get("peak_mb") is not None), default=None)
    return (f"| {workload} | {fmt(t, 'ms', '%.2f')} | {fmt(g, 'ms', '%.2f')} | {fmt(pt, 'ms', '%.2f')} | "
            f"{ratio(t)} | {ratio(g)} | {fmt(g, 'nodes', '%d')} | "
            f"{'-' if peak is None else f'{peak:.0f}'} | {fmt(pt, 'peak_mb', '%.0f')} |")


if __name__ == "__main__":
    sys.exit(main())
