"""benchmarks/bench_kernels.py: its helpers on the CPU, its GEMM section on a NumPy stand-in for CuPy,
its conv passes against PyTorch on the CPU, the no-GPU exit, and (gpu) one real run."""
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_kernels.py"


@pytest.fixture(scope="module")
def bk():
    spec = importlib.util.spec_from_file_location("bench_kernels", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_kernels"] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    yield module
    del sys.modules["bench_kernels"]


def run_script(*args, env_extra=None, timeout=120):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout, check=False)


# ---- command line -------------------------------------------------------------------------------
def test_without_gpu_exits_2_with_install_hint():
    # CUDA_VISIBLE_DEVICES="" hides any GPU, so this runs (and means the same) on every machine
    proc = run_script("--sizes", "64", env_extra={"CUDA_VISIBLE_DEVICES": ""})
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "needs CuPy and a CUDA GPU" in lines[0]
    assert "pip install -e .[cuda12]" in lines[0] and ".[cuda13]" in lines[0]


@pytest.mark.parametrize("argv", [["--sizes", "0"], ["--sizes", "-8"], ["--sizes", "64", "0"],
                                  ["--sizes", "abc"], ["--trans-sizes", "0"], ["--repeat", "0"],
                                  ["--batch", "0"], ["--warmup", "-1"], ["--sections", "fft"],
                                  ["--workloads", "mlp_gan"]])
def test_bad_arguments_are_argparse_errors(bk, argv, capsys):
    with pytest.raises(SystemExit) as exc:
        bk.parse_args(argv)
    assert exc.value.code == 2
    assert "error: argument" in capsys.readouterr().err


def test_bad_size_is_rejected_before_looking_for_a_gpu():
    proc = run_script("--sizes", "0")
    assert proc.returncode == 2
    assert "--sizes: must be a positive integer, got 0" in proc.stderr
    assert "CuPy" not in proc.stderr


def test_defaults_and_choices(bk):
    args = bk.parse_args([])
    assert args.sizes == [1024, 2048, 4096, 8192] and args.trans_sizes == [4096]
    assert args.sections == ["gemm", "conv"] and args.workloads == ["dcgan64", "dcgan28"]
    assert args.batch == 128 and not args.markdown and args.json is None
    args = bk.parse_args(["--sizes", "256", "512", "--trans-sizes", "--sections", "conv", "--warmup", "0"])
    assert args.sizes == [256, 512] and args.trans_sizes == [] and args.sections == ["conv"]
    assert args.warmup == 0


# ---- pure helpers -------------------------------------------------------------------------------
def test_flops_and_tflops(bk):
    assert bk.gemm_flops(2, 3, 4) == 48
    assert bk.tflops(bk.gemm_flops(4096, 4096, 4096), 1000.0) == pytest.approx(2 * 4096**3 / 1e12)
    # PERF.md: cuBLAS at 4096 runs 50.9 TFLOP/s, i.e. 2.70 ms per product
    assert bk.tflops(bk.gemm_flops(4096, 4096, 4096), 2.70) == pytest.approx(50.9, rel=2e-3)
    assert bk.ratio(4.0, 5.0) == 0.8 and bk.ratio(None, 5.0) is None


def test_max_rel_error(bk):
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((5, 7)).astype(np.float32)
    assert bk.max_rel_error(ref.copy(), ref) == 0.0
    ours = ref.copy()
    ours[2, 3] += 0.5
    assert bk.max_rel_error(ours, ref) == pytest.approx(0.5 / np.abs(ref).max(), rel=1e-6)
    assert bk.max_rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert bk.max_rel_error(np.array([np.nan, 1.0]), np.ones(2)) != bk.max_rel_error(np.ones(2), np.ones(2))


def test_format_table_plain_and_markdown(bk):
    headers, rows = ["op", "ms"], [["NN", "1.250"], ["TN", "12.500"]]
    plain = bk.format_table(headers, rows).splitlines()
    assert plain == ["op      ms", "--  ------", "NN   1.250", "TN  12.500"]
    md = bk.format_table(headers, rows, markdown=True).splitlines()
    assert md == ["| op | ms |", "|---|---|", "| NN | 1.250 |", "| TN | 12.500 |"]


def test_conv_table_without_and_with_torch(bk):
    row = {"layer": "dcgan28 D[0]", "op": "conv2d", "in_shape": [128, 1, 28, 28], "weight_shape": [64, 1, 4, 4],
           "pass": "fwd", "ok": True, "max_rel_err": 1e-7, "tinygan_ms": 0.5, "tinygan_cublas_ms": 0.25}
    wrong = {**row, "pass": "bwd-data", "ok": False, "max_rel_err": 0.02}
    plain = bk.conv_table([row, wrong], with_torch=False).splitlines()
    assert "cuDNN" not in plain[0] and "128x1x28x28" in plain[2] and plain[2].endswith("0.500              0.250")
    assert "WRONG" in plain[3] and "2.0e-02" in plain[3]
    md = bk.conv_table([{**row, "cudnn_ms": 0.4, "ratio": 0.8}], with_torch=True, markdown=True).splitlines()
    assert md[0].endswith("| cuDNN ms | cuDNN ms/tinygan ms |")
    assert md[2] == "| dcgan28 D[0] | conv2d | 128x1x28x28 | 64x1x4x4 | fwd | 0.500 | 0.250 | 0.400 | 0.80 |"


# ---- timing, with a host clock standing in for CUDA events ---------------------------------------
class HostEvent:
    def record(self):
        self.t = time.perf_counter()

    def synchronize(self):
        pass


def host_clock(bk, syncs=None):
    return bk.Clock(HostEvent, lambda a, b: (b.t - a.t) * 1e3, lambda: syncs.append(1) if syncs is not None else None)


def test_median_ms_warms_up_then_alternates(bk):
    calls, syncs = [], []
    clock = host_clock(bk, syncs)
    fast = lambda: calls.append("fast")
    slow = lambda: (calls.append("slow"), time.sleep(0.01))
    ms = bk.median_ms({"fast": (fast, clock), "slow": (slow, clock)}, warmup=2, repeat=3)
    assert calls == ["fast"] * 2 + ["slow"] * 2 + ["fast", "slow"] * 3
    assert len(syncs) == 2 + 6  # after each candidate's warm-up, and before every timed call
    assert set(ms) == {"fast", "slow"}
    assert ms["slow"] >= 10.0 > ms["fast"] >= 0.0


def test_median_ms_reports_the_median(bk):
    elapsed = iter([5.0, 1.0, 3.0, 100.0, 2.0])
    clock = bk.Clock(HostEvent, lambda a, b: next(elapsed), lambda: None)
    assert bk.median_ms({"k": (lambda: None, clock)}, warmup=0, repeat=5) == {"k": 3.0}


# ---- the GEMM section on a NumPy stand-in for CuPy -------------------------------------------------
def numpy_cupy():
    """Just the CuPy surface bench_kernels uses, backed by NumPy and the host clock."""
    class RandomState:
        def __init__(self, seed):
            self.rng = np.random.default_rng(seed)

        def standard_normal(self, shape, dtype):
            return self.rng.standard_normal(shape, dtype=dtype)

    runtime = SimpleNamespace(getDeviceProperties=lambda i: {"name": b"NumPy stand-in"},
                              runtimeGetVersion=lambda: 12040, driverGetVersion=lambda: 12080)
    cuda = SimpleNamespace(Event=HostEvent, get_elapsed_time=lambda a, b: (b.t - a.t) * 1e3,
                           Device=lambda: SimpleNamespace(synchronize=lambda: None), runtime=runtime)
    return SimpleNamespace(__version__="stand-in", cuda=cuda, float32=np.float32, empty=np.empty,
                           matmul=np.matmul, random=SimpleNamespace(RandomState=RandomState),
                           get_default_memory_pool=lambda: SimpleNamespace(free_all_blocks=lambda: None))


def numpy_sgemm(error: float = 0.0):
    def sgemm(a, b, trans_a=False, trans_b=False, out=None):
        np.matmul(a.T if trans_a else a, b.T if trans_b else b, out=out)
        out *= 1 + error
        return out
    return sgemm


@pytest.fixture
def on_numpy(bk, monkeypatch):
    import tinygan.kernels.gemm
    monkeypatch.setattr(bk, "load_cupy", numpy_cupy)
    monkeypatch.setenv("CUPY_TF32", "1")  # main() must switch TF32 off (monkeypatch restores the env)
    return lambda error=0.0: monkeypatch.setattr(tinygan.kernels.gemm, "sgemm", numpy_sgemm(error))


def test_gemm_section_end_to_end(bk, on_numpy, tmp_path, capsys):
    on_numpy()
    out = tmp_path / "k.json"
    code = bk.main(["--sections", "gemm", "--sizes", "16", "40", "--trans-sizes", "24", "--repeat", "3",
                    "--json", str(out)])
    assert code == 0
    results = json.loads(out.read_text())
    assert results["info"]["gpu"] == "NumPy stand-in" and results["info"]["cuda_runtime"] == "12.4"
    assert results["info"]["cupy_tf32"] == "0" and results["wrong"] == 0 and "conv" not in results
    assert [(r["op"], r["m"]) for r in results["gemm"]] == [("NN", 16), ("NN", 40), ("NT", 24), ("TN", 24)]
    for r in results["gemm"]:
        assert r["ok"] and r["max_rel_err"] < 1e-5
        assert r["ours_ms"] > 0 and r["cublas_ms"] > 0
        assert r["ours_tflops"] == pytest.approx(2 * r["m"] ** 3 / (r["ours_ms"] * 1e-3) / 1e12)
        assert r["ratio"] == pytest.approx(r["cublas_ms"] / r["ours_ms"])
    printed = capsys.readouterr().out
    assert "NumPy stand-in" in printed and "CUPY_TF32=0" in printed
    assert "ours/cuBLAS speed" in printed and "WRONG" not in printed


def test_wrong_kernel_is_reported_not_timed_and_exits_1(bk, on_numpy, tmp_path, capsys):
    on_numpy(error=1e-3)  # every entry 0.1% off: far beyond fp32 rounding
    out = tmp_path / "k.json"
    code = bk.main(["--sections", "gemm", "--sizes", "32", "--trans-sizes", "--markdown", "--json", str(out)])
    assert code == 1
    (row,) = json.loads(out.read_text())["gemm"]
    assert not row["ok"] and row["max_rel_err"] == pytest.approx(1e-3, rel=1e-3) and "ours_ms" not in row
    captured = capsys.readouterr()
    assert "| NN | 32 | WRONG |" in captured.out and "WRONG" in captured.err


# ---- the conv section's layers and passes, on the CPU -------------------------------------------
def test_conv_layers_follow_the_workloads(bk):
    layers = bk.conv_layers("dcgan64", 128)
    assert [(layer.net, layer.op) for layer in layers] == [("G", "conv_transpose2d")] * 5 + [("D", "conv2d")] * 5
    g0, d1 = layers[0], layers[6]
    assert g0.in_shape == (128, 100, 1, 1) and g0.out_shape == (128, 512, 4, 4) and g0.stride == (1, 1)
    assert d1.name == "dcgan64 D[2]" and d1.in_shape == (128, 64, 32, 32)
    assert d1.weight_shape == (128, 64, 4, 4) and d1.out_shape == (128, 128, 16, 16)
    assert d1.flops() == 2 * 128 * 16 * 16 * 128 * 64 * 16
    assert layers[4].out_shape == (128, 3, 64, 64) and layers[-1].out_shape == (128, 1, 1, 1)
    shapes = [(layer.name, layer.in_shape, layer.out_shape) for layer in bk.conv_layers("dcgan28", 4)]
    assert shapes == [("dcgan28 G[4]", (4, 128, 7, 7), (4, 64, 14, 14)),
                      ("dcgan28 G[7]", (4, 64, 14, 14), (4, 1, 28, 28)),
                      ("dcgan28 D[0]", (4, 1, 28, 28), (4, 64, 14, 14)),
                      ("dcgan28 D[2]", (4, 64, 14, 14), (4, 128, 7, 7))]


@pytest.mark.parametrize("workload", ["dcgan28", "dcgan64"])
def test_tinygan_passes_match_torch_on_cpu(bk, workload):
    torch = pytest.importorskip("torch")
    for layer in bk.conv_layers(workload, 2):
        arrays = bk.conv_arrays(layer, seed=1)
        ours, ref = bk.tinygan_passes(layer, arrays, "cpu"), bk.torch_passes(torch, layer, arrays, "cpu")
        assert [ours[p]().shape for p in bk.CONV_PASSES] == [layer.out_shape, layer.in_shape, layer.weight_shape]
        errors = bk.check_conv(ours, ref, lambda t: t.numpy())
        assert max(errors.values()) < 1e-5, (layer.name, errors)


def test_check_conv_catches_a_wrong_pass(bk):
    torch = pytest.importorskip("torch")
    layer = bk.conv_layers("dcgan28", 2)[0]
    arrays = bk.conv_arrays(layer, seed=2)
    ours = bk.tinygan_passes(layer, arrays, "cpu")
    ours["bwd-weight"] = lambda f=ours["bwd-weight"]: f() * 1.01
    errors = bk.check_conv(ours, bk.torch_passes(torch, layer, arrays, "cpu"), lambda t: t.numpy())
    assert errors["fwd"] < 1e-5 and errors["bwd-data"] < 1e-5
    assert errors["bwd-weight"] == pytest.approx(0.01, rel=1e-3) and errors["bwd-weight"] > bk.CONV_RTOL


# ---- one real run ---------------------------------------------------------------------------------
@pytest.mark.gpu
def test_real_run_on_the_gpu(tmp_path):
    out = tmp_path / "kernels.json"
    proc = run_script("--sizes", "256", "--trans-sizes", "256", "--repeat", "2", "--warmup", "1",
                      "--batch", "8", "--sections", "gemm", "conv", "--json", str(out), timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["info"]["gpu"] and results["info"]["cupy_tf32"] == "0" and results["wrong"] == 0
    assert results["info"]["cupy_fp32_compute_type"] != "COMPUTE_TYPE_TF32"
    assert [r["op"] for r in results["gemm"]] == ["NN", "NT", "TN"]
    for r in results["gemm"]:
        assert r["ok"] and r["ours_ms"] > 0 and r["cublas_ms"] > 0 and r["ours_tflops"] > 0
    assert len(results["conv"]) == 3 * (10 + 4)  # three passes of the dcgan64 and dcgan28 conv layers
    with_cudnn = "torch" in results["info"]
    for r in results["conv"]:
        assert r["ok"] and r["tinygan_ms"] > 0 and r["tinygan_cublas_ms"] > 0
        assert r["checked_against"] == ("cudnn" if with_cudnn else "tinygan+cublas")
        assert (r.get("cudnn_ms", 0) > 0) == with_cudnn
    assert "SGEMM" in proc.stdout and "conv, batch 8" in proc.stdout
