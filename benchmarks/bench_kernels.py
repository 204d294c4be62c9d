"""Time tinygan's own CUDA kernels against cuBLAS (SGEMM) and cuDNN (convolution), on one GPU.

    python benchmarks/bench_kernels.py                              # both sections, default sizes
    python benchmarks/bench_kernels.py --sections gemm --sizes 1024 4096 --repeat 50
    python benchmarks/bench_kernels.py --sections conv --workloads dcgan64 --markdown
    python benchmarks/bench_kernels.py --json kernels.json          # also write every figure

gemm: square float32 C = A @ B at each of ``--sizes`` (and the NT and TN forms, A @ B^T and
A^T @ B, at ``--trans-sizes``: the forms the conv backward uses), tinygan's ``sgemm``
(kernels/gemm.cu) against cuBLAS through ``cupy.matmul``. TF32 is off: this script sets
CUPY_TF32=0 before CuPy is imported (CuPy uses TF32 only when CUPY_TF32=1). TFLOP/s =
2*M*N*K / time. Before timing, our C is checked against cuBLAS's: max |ours - cuBLAS| /
max |cuBLAS| must stay under 1e-4, else the size is reported WRONG (and not timed) and the
script exits 1 at the end.

conv: every conv2d and conv_transpose2d layer of the ``dcgan64`` and ``dcgan28`` workloads
(benchmarks/workloads.py) at its real input shape, batch ``--batch`` (128), without bias. Three
passes are timed separately: forward (``tinygan.nn.functional.conv2d`` / ``conv_transpose2d``),
backward-data and backward-weight (the layer's ``grad_fn.backward`` with only the input, or only
the weight, requiring grad: exactly the code ``Tensor.backward`` runs). Both backward passes of a conv2d
cut their im2col columns themselves (the forward keeps none, to save memory); a conv_transpose2d
cuts the columns of the output gradient in its backward, so both its columns include that im2col.
Columns: tinygan with its own SGEMM, tinygan with cuBLAS for the GEMMs
(``tinygan.backend.use_cublas``), and PyTorch + cuDNN when ``import torch`` works and sees the
GPU (``F.conv2d`` / ``F.conv_transpose2d`` forward, ``aten.convolution_backward`` with one output
mask per gradient; TF32 off, ``cudnn.benchmark = True``). Each tinygan result is checked first
against PyTorch's from the same inputs (without PyTorch: against tinygan's cuBLAS route, which
checks only the GEMMs): max relative error under 1e-3 (the weight gradient sums N*Ho*Wo products).

How: every candidate gets ``--warmup`` untimed launches, then ``--repeat`` timed ones, the
candidates alternating launch by launch (shared machines drift by ~5%). Each timed launch starts
on an idle device and is bracketed by two CUDA events on the stream that library launches on;
the median is reported. The event time includes host-side launch gaps, so tinygan's Python
overhead per op is part of its figure. Ratio = reference ms / tinygan ms: 1.00 is as fast,
0.80 is 80% of the reference's speed.

Target: our SGEMM >= 80% of cuBLAS at 4096 (cuBLAS fp32 measured on an H100 with TF32 off:
8.2 TFLOP/s at 1024, 50.9 at 4096, 51.6 at 8192).

Needs CuPy and a CUDA GPU (``pip install -e .[cuda12]`` or ``.[cuda13]``); without them it says
so on stderr and exits 2.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
GEMM_RTOL = 1e-4   # max |ours - cuBLAS| / max |cuBLAS|, fp32
CONV_RTOL = 1e-3   # the same for the convolutions (longer sums, other algorithms in cuDNN)
GEMM_TARGET = 0.80  # our SGEMM at 4096 reaches at least this fraction of cuBLAS
GEMM_OPS = {"NN": (False, False), "NT": (False, True), "TN": (True, False)}  # (trans_a, trans_b)
CONV_PASSES = ("fwd", "bwd-data", "bwd-weight")
CONV_WORKLOADS = ("dcgan64", "dcgan28")


# ---- pure helpers ---------------------------------------------------------------------------
def gemm_flops(m: int, n: int, k: int) -> int:
    """Floating-point operations of an (M, K) @ (K, N) product: one multiply and one add each."""
    return 2 * m * n * k


def tflops(flops: float, ms: float) -> float:
    """TFLOP/s of `flops` operations done in `ms` milliseconds."""
    return flops / (ms * 1e-3) / 1e12


def max_rel_error(ours, ref) -> float:
    """max |ours - ref| / max |ref| for NumPy or CuPy arrays (0 when both are all zero)."""
    scale = float(abs(ref).max())
    err = float(abs(ours - ref).max())
    return err / scale if scale > 0 else err


def format_table(headers: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    """Rows of strings as aligned plain text, or as a GitHub markdown table."""
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
    fmt = lambda r: "  ".join(str(c).rjust(w) for c, w in zip(r, widths)).rstrip()
    return "\n".join([fmt(headers), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows])


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def ratio(ref_ms: float | None, ours_ms: float | None) -> float | None:
    """Reference time / our time: our speed as a fraction of the reference's."""
    return ref_ms / ours_ms if ref_ms and ours_ms else None


# ---- timing with CUDA events ------------------------------------------------------------------
@dataclass(frozen=True)
class Clock:
    """One library's CUDA events: new_event() has record() and synchronize(); elapsed_ms(a, b)."""
    new_event: Callable
    elapsed_ms: Callable
    sync: Callable  # waits until the whole device is idle


def cupy_clock(cp) -> Clock:
    return Clock(cp.cuda.Event, cp.cuda.get_elapsed_time, lambda: cp.cuda.Device().synchronize())


def torch_clock(torch) -> Clock:
    return Clock(lambda: torch.cuda.Event(enable_timing=True), lambda a, b: a.elapsed_time(b),
                 torch.cuda.synchronize)


def time_once(fn: Callable, clock: Clock) -> float:
    """Milliseconds between two events around one call of fn, started on an idle device."""
    clock.sync()
    start, stop = clock.new_event(), clock.new_event()
    start.record()
    fn()
    stop.record()
    stop.synchronize()
    return clock.elapsed_ms(start, stop)


def median_ms(candidates: dict[str, tuple[Callable, Clock]], warmup: int, repeat: int) -> dict[str, float]:
    """Median ms of each candidate (fn, clock): warm-up calls, then timed calls taken in turns."""
    for fn, clock in candidates.values():
        for _ in range(warmup):
            fn()
        clock.sync()
    times = {name: [] for name in candidates}
    for _ in range(repeat):
        for name, (fn, clock) in candidates.items():
            times[name].append(time_once(fn, clock))
    return {name: statistics.median(t) for name, t in times.items()}


# ---- environment --------------------------------------------------------------------------------
def load_cupy():
    """The cupy module, or None after one line on stderr saying what is missing."""
    from tinygan import backend
    try:
        return backend.cupy()
    except RuntimeError as e:
        print(f"bench_kernels.py needs CuPy and a CUDA GPU: {e}", file=sys.stderr)
        return None


def kernels_importable() -> bool:
    """True when tinygan's CUDA kernels import (the package maps kernels/ to tinygan.kernels)."""
    try:
        import tinygan.kernels.gemm  # noqa: F401
    except ImportError as e:
        print(f"bench_kernels.py: tinygan.kernels does not import ({e}); install the checkout with "
              "pip install -e .[cuda12] (or .[cuda13])", file=sys.stderr)
        return False
    return True


def cupy_fp32_compute_type() -> str | None:
    """The compute type CuPy's float32 matmul uses (COMPUTE_TYPE_TF32 would mean TF32 is on)."""
    try:
        from cupy._core import _routines_linalg as linalg  # private: read only to report it
        return str(linalg.compute_type_to_str(linalg.get_compute_type("f")))
    except (ImportError, AttributeError):
        return None


def load_torch(skip: bool) -> tuple[object | None, str]:
    """(torch with TF32 off and cudnn.benchmark on, "") or (None, why it is not used)."""
    if skip:
        return None, "--no-torch given"
    try:
        import torch
    except ImportError as e:
        return None, f"PyTorch is not installed ({e})"
    if not torch.cuda.is_available():
        return None, f"PyTorch {torch.__version__} sees no CUDA device"
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    return torch, ""


def _version(v: int) -> str:
    return f"{v // 1000}.{v % 1000 // 10}"  # CUDA encodes 12.4 as 12040


def device_info(cp, torch) -> dict:
    name = cp.cuda.runtime.getDeviceProperties(0)["name"]
    info = {"gpu": name.decode() if isinstance(name, bytes) else str(name),
            "cupy": cp.__version__,
            "cuda_runtime": _version(cp.cuda.runtime.runtimeGetVersion()),
            "cuda_driver": _version(cp.cuda.runtime.driverGetVersion()),
            "cupy_tf32": os.environ.get("CUPY_TF32"), "cupy_fp32_compute_type": cupy_fp32_compute_type()}
    if torch is not None:
        info.update(torch=torch.__version__, cudnn=torch.backends.cudnn.version(),
                    torch_tf32=False, cudnn_benchmark=torch.backends.cudnn.benchmark)
    return info


# ---- section 1: SGEMM ---------------------------------------------------------------------------
def gemm_operands(cp, op: str, m: int, n: int, k: int, seed: int):
    """Random A, B stored as the op wants them (A^T (K, M) for TN, B^T (N, K) for NT), and two Cs."""
    trans_a, trans_b = GEMM_OPS[op]
    rs = cp.random.RandomState(seed)
    a = rs.standard_normal((k, m) if trans_a else (m, k), dtype=cp.float32)
    b = rs.standard_normal((n, k) if trans_b else (k, n), dtype=cp.float32)
    return a, b, cp.empty((m, n), dtype=cp.float32), cp.empty((m, n), dtype=cp.float32)


def bench_gemm(cp, op: str, size: int, args) -> dict:
    """One square GEMM: correctness against cuBLAS, then timings of both."""
    from tinygan.kernels.gemm import sgemm
    trans_a, trans_b = GEMM_OPS[op]
    a, b, c_ours, c_ref = gemm_operands(cp, op, size, size, size, args.seed)
    ours = lambda: sgemm(a, b, trans_a=trans_a, trans_b=trans_b, out=c_ours)
    cublas = lambda: cp.matmul(a.T if trans_a else a, b.T if trans_b else b, out=c_ref)
    ours()
    cublas()
    row = {"op": op, "m": size, "n": size, "k": size, "max_rel_err": max_rel_error(c_ours, c_ref)}
    row["ok"] = row["max_rel_err"] < GEMM_RTOL
    if row["ok"]:
        clock = cupy_clock(cp)
        ms = median_ms({"ours": (ours, clock), "cublas": (cublas, clock)}, args.warmup, args.repeat)
        flops = gemm_flops(size, size, size)
        row.update(ours_ms=ms["ours"], cublas_ms=ms["cublas"], ours_tflops=tflops(flops, ms["ours"]),
                   cublas_tflops=tflops(flops, ms["cublas"]), ratio=ratio(ms["cublas"], ms["ours"]))
    return row


def gemm_section(cp, args) -> list[dict]:
    cases = [("NN", s) for s in args.sizes] + [(op, s) for s in args.trans_sizes for op in ("NT", "TN")]
    rows = []
    for op, size in cases:
        rows.append(bench_gemm(cp, op, size, args))
        cp.get_default_memory_pool().free_all_blocks()  # the operands died with bench_gemm's frame
        print(f"  gemm {op} {size}: done", file=sys.stderr, flush=True)
    return rows


def gemm_table(rows: list[dict], markdown: bool = False) -> str:
    headers = ["op", "M=N=K", "ours ms", "cuBLAS ms", "ours TFLOP/s", "cuBLAS TFLOP/s",
               "ours/cuBLAS speed", "max rel err"]
    lines = []
    for r in rows:
        if not r["ok"]:
            lines.append([r["op"], str(r["m"]), "WRONG", "-", "-", "-", "-", f"{r['max_rel_err']:.1e}"])
            continue
        lines.append([r["op"], str(r["m"]), f"{r['ours_ms']:.3f}", f"{r['cublas_ms']:.3f}",
                      f"{r['ours_tflops']:.1f}", f"{r['cublas_tflops']:.1f}", _num(r["ratio"], ".2f"),
                      f"{r['max_rel_err']:.1e}"])
    return format_table(headers, lines, markdown)


# ---- section 2: convolution ---------------------------------------------------------------------
@dataclass(frozen=True)
class ConvLayer:
    """One conv layer of a workload, as tinygan.nn and torch.nn both build it."""
    workload: str
    net: str              # "G" or "D"
    index: int            # position in the Sequential
    transposed: bool      # conv_transpose2d (weight (C_in, C_out, kh, kw)) or conv2d ((C_out, C_in, ...))
    in_shape: tuple       # (N, C_in, H, W)
    weight_shape: tuple
    stride: tuple
    padding: tuple
    dilation: tuple

    @property
    def name(self) -> str:
        return f"{self.workload} {self.net}[{self.index}]"

    @property
    def op(self) -> str:
        return "conv_transpose2d" if self.transposed else "conv2d"

    @property
    def out_shape(self) -> tuple:
        """(N, C_out, Ho, Wo), by the formulas of torch.nn.Conv2d's and ConvTranspose2d's docs."""
        from tinygan.ops.conv import conv_output_size, conv_transpose_output_size
        n, _, h, w = self.in_shape
        geometry = zip((h, w), self.weight_shape[2:], self.stride, self.padding, self.dilation)
        if self.transposed:
            size = tuple(conv_transpose_output_size(s, k, st, p, 0, d) for s, k, st, p, d in geometry)
            return (n, self.weight_shape[1]) + size
        return (n, self.weight_shape[0]) + tuple(conv_output_size(s, k, st, p, d) for s, k, st, p, d in geometry)

    def flops(self) -> int:
        """2 x the multiply-adds of each pass: every weight meets every pixel of the smaller image."""
        n, _, h, w = self.in_shape if self.transposed else self.out_shape
        return 2 * n * h * w * math.prod(self.weight_shape)


def conv_layers(workload: str, batch: int) -> list[ConvLayer]:
    """The conv layers of a workload with their input shapes, found by running G and D at batch 2."""
    import numpy as np

    import tinygan
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    from workloads import BUILDERS, WORKLOADS, noise_shape

    _, _, image = WORKLOADS[workload]
    G, D = BUILDERS[workload](tinygan.nn)
    layers = []
    for net_name, net, first in (("G", G, noise_shape(workload)), ("D", D, (batch,) + image)):
        x = tinygan.tensor(np.zeros((2,) + tuple(first[1:]), dtype=np.float32))
        net.eval()
        with tinygan.no_grad():
            for i, module in enumerate(net):
                if isinstance(module, (tinygan.nn.Conv2d, tinygan.nn.ConvTranspose2d)):
                    transposed = isinstance(module, tinygan.nn.ConvTranspose2d)
                    if transposed and module.output_padding != (0, 0):
                        raise ValueError(f"{workload} {net_name}[{i}]: output_padding is not benchmarked")
                    layers.append(ConvLayer(workload, net_name, i, transposed, (batch,) + x.shape[1:],
                                            module.weight.shape, module.stride, module.padding,
                                            module.dilation))
                x = module(x)
    return layers


def conv_arrays(layer: ConvLayer, seed: int) -> dict:
    """NumPy float32 input, weight and output gradient of a layer (the same for every library)."""
    import numpy as np
    rng = np.random.default_rng(seed)
    fan_in = layer.weight_shape[0 if layer.transposed else 1] * layer.weight_shape[2] * layer.weight_shape[3]
    return {"x": rng.standard_normal(layer.in_shape, dtype=np.float32),
            "w": (rng.standard_normal(layer.weight_shape) / fan_in ** 0.5).astype(np.float32),
            "gy": rng.standard_normal(layer.out_shape, dtype=np.float32)}


def tinygan_passes(layer: ConvLayer, arrays: dict, device: str) -> dict[str, Callable]:
    """The three passes of a layer in tinygan, each a function returning an array."""
    import tinygan
    F = tinygan.nn.functional
    conv = F.conv_transpose2d if layer.transposed else F.conv2d
    geometry = {"stride": layer.stride, "padding": layer.padding, "dilation": layer.dilation}
    x, w, gy = (tinygan.tensor(arrays[k], device=device) for k in ("x", "w", "gy"))

    def grad_fn(wrt: str):  # the Function that Tensor.backward would call, needing only `wrt`'s gradient
        xr = tinygan.Tensor(x.data, requires_grad=wrt == "x")
        wr = tinygan.Tensor(w.data, requires_grad=wrt == "w")
        return conv(xr, wr, **geometry).grad_fn

    def backward(fn, index: int):
        def run():
            with tinygan.no_grad():
                return fn.backward(gy)[index].data
        return run

    def forward():
        return conv(x, w, **geometry).data  # x and w need no gradient: no graph is recorded

    return {"fwd": forward, "bwd-data": backward(grad_fn("x"), 0), "bwd-weight": backward(grad_fn("w"), 1)}


def torch_passes(torch, layer: ConvLayer, arrays: dict, device: str) -> dict[str, Callable]:
    """The three passes in PyTorch: F.conv*, and aten.convolution_backward with one output mask each."""
    x, w, gy = (torch.from_numpy(arrays[k]).to(device) for k in ("x", "w", "gy"))
    geometry = {"stride": layer.stride, "padding": layer.padding, "dilation": layer.dilation}
    F = torch.nn.functional
    conv = F.conv_transpose2d if layer.transposed else F.conv2d

    def backward(mask: list[bool], index: int):
        return lambda: torch.ops.aten.convolution_backward(
            gy, x, w, None, list(layer.stride), list(layer.padding), list(layer.dilation),
            layer.transposed, [0, 0], 1, mask)[index]

    return {"fwd": lambda: conv(x, w, **geometry), "bwd-data": backward([True, False, False], 0),
            "bwd-weight": backward([False, True, False], 1)}


def with_cublas(fn: Callable) -> Callable:
    """fn with tinygan's GPU matmuls routed to cuBLAS for the duration of the call."""
    from tinygan import backend

    def run():
        backend.use_cublas(True)
        try:
            return fn()
        finally:
            backend.use_cublas(False)
    return run


def check_conv(ours: dict[str, Callable], ref: dict[str, Callable], to_numpy: Callable) -> dict[str, float]:
    """Max relative error of each of our passes against the reference's (results to NumPy first)."""
    from tinygan import backend
    return {p: max_rel_error(backend.to_numpy(ours[p]()), to_numpy(ref[p]())) for p in CONV_PASSES}


def bench_conv_layer(cp, torch, layer: ConvLayer, args) -> list[dict]:
    """Check, then time the three passes of one layer: one row per pass."""
    arrays = conv_arrays(layer, args.seed)
    ours = tinygan_passes(layer, arrays, "cuda")
    ours_cublas = {p: with_cublas(fn) for p, fn in ours.items()}
    if torch is not None:
        ref, reference = torch_passes(torch, layer, arrays, "cuda"), "cudnn"
        errors = check_conv(ours, ref, lambda t: t.cpu().numpy())
    else:
        ref, reference = ours_cublas, "tinygan+cublas"
        errors = check_conv(ours, ref, lambda a: cp.asnumpy(a))
    rows = []
    for p in CONV_PASSES:
        row = {"layer": layer.name, "op": layer.op, "in_shape": list(layer.in_shape),
               "weight_shape": list(layer.weight_shape), "stride": list(layer.stride),
               "padding": list(layer.padding), "pass": p, "gflop": layer.flops() / 1e9,
               "checked_against": reference, "max_rel_err": errors[p], "ok": errors[p] < CONV_RTOL}
        if row["ok"]:
            candidates = {"tinygan": (ours[p], cupy_clock(cp)), "tinygan_cublas": (ours_cublas[p], cupy_clock(cp))}
            if torch is not None:
                candidates["cudnn"] = (ref[p], torch_clock(torch))
            ms = median_ms(candidates, args.warmup, args.repeat)
            row.update({f"{k}_ms": v for k, v in ms.items()},
                       tinygan_tflops=tflops(layer.flops(), ms["tinygan"]),
                       ratio=ratio(ms.get("cudnn"), ms["tinygan"]))
        rows.append(row)
    return rows


def conv_section(cp, torch, args) -> list[dict]:
    rows = []
    for workload in args.workloads:
        for layer in conv_layers(workload, args.batch):
            rows += bench_conv_layer(cp, torch, layer, args)
            cp.get_default_memory_pool().free_all_blocks()
            print(f"  conv {layer.name}: done", file=sys.stderr, flush=True)
    return rows


def conv_table(rows: list[dict], with_torch: bool, markdown: bool = False) -> str:
    headers = ["layer", "op", "input", "weight", "pass", "tinygan ms", "tinygan+cuBLAS ms"]
    headers += ["cuDNN ms", "cuDNN ms/tinygan ms"] if with_torch else []
    lines = []
    for r in rows:
        line = [r["layer"], r["op"], "x".join(map(str, r["in_shape"])), "x".join(map(str, r["weight_shape"])),
                r["pass"]]
        if not r["ok"]:
            line += ["WRONG", f"(err {r['max_rel_err']:.1e})"] + (["-", "-"] if with_torch else [])
        else:
            line += [_num(r["tinygan_ms"], ".3f"), _num(r["tinygan_cublas_ms"], ".3f")]
            line += [_num(r.get("cudnn_ms"), ".3f"), _num(r.get("ratio"), ".2f")] if with_torch else []
        lines.append(line)
    return format_table(headers, lines, markdown)


# ---- command line -------------------------------------------------------------------------------
def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sections", nargs="+", choices=["gemm", "conv"], default=["gemm", "conv"])
    p.add_argument("--sizes", nargs="+", type=positive_int, default=[1024, 2048, 4096, 8192],
                   help="square SGEMM sizes M = N = K (NN form)")
    p.add_argument("--trans-sizes", nargs="*", type=positive_int, default=[4096],
                   help="sizes of the NT and TN forms (give none to skip them)")
    p.add_argument("--workloads", nargs="+", choices=CONV_WORKLOADS, default=list(CONV_WORKLOADS))
    p.add_argument("--batch", type=positive_int, default=128, help="batch size of the conv layers")
    p.add_argument("--repeat", type=positive_int, default=20, help="timed launches per candidate")
    p.add_argument("--warmup", type=non_negative_int, default=3, help="untimed launches per candidate")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch/cuDNN column")
    p.add_argument("--markdown", action="store_true", help="print the tables as markdown")
    p.add_argument("--json", help="also write every figure to this JSON file")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    os.environ["CUPY_TF32"] = "0"  # TF32 off: CuPy's matmul reads this before its first float32 GEMM
    cp = load_cupy()
    if cp is None or not kernels_importable():
        return 2
    torch, no_torch_reason = load_torch(args.no_torch) if "conv" in args.sections else (None, "")
    info = device_info(cp, torch)
    print(f"# {info['gpu']}, CuPy {info['cupy']}, CUDA runtime {info['cuda_runtime']} "
          f"(driver {info['cuda_driver']}), float32, CUPY_TF32=0 (set by this script; "
          f"CuPy float32 compute type: {info['cupy_fp32_compute_type']})")
    print(f"# median of {args.repeat} CUDA-event timed launches after {args.warmup} warm-up, alternating")
    results = {"info": info, "args": vars(args)}
    if "gemm" in args.sections:
        results["gemm"] = gemm_section(cp, args)
        print(f"\n## SGEMM: tinygan sgemm vs cuBLAS (cupy.matmul); target ours/cuBLAS >= {GEMM_TARGET:.2f} "
              "at 4096")
        print(gemm_table(results["gemm"], args.markdown))
    if "conv" in args.sections:
        results["conv"] = conv_section(cp, torch, args)
        if torch is not None:
            print(f"\n## conv, batch {args.batch}: tinygan vs PyTorch {info['torch']} + cuDNN "
                  f"{info['cudnn']} (TF32 off, cudnn.benchmark = True)")
        else:
            print(f"\n## conv, batch {args.batch}: tinygan only ({no_torch_reason}); "
                  "checked against tinygan's cuBLAS route")
        print(conv_table(results["conv"], torch is not None, args.markdown))
    wrong = [r for rows in (results.get("gemm", []), results.get("conv", [])) for r in rows if not r["ok"]]
    results["wrong"] = len(wrong)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    if wrong:
        print(f"\n{len(wrong)} result(s) WRONG: see max rel err above", file=sys.stderr)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
