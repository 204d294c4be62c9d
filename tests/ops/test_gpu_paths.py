"""The float32 paths that run tinygan's own CUDA kernels on a GPU, against float64 on the CPU.

On a cupy float32 array a few ops leave the ``xp`` code for a kernel (``ops/dispatch.py``,
``ops/norm.py``): matmul and linear (SGEMM, transposed views passed as flags), conv2d and
conv_transpose2d (im2col/col2im + SGEMM), batch and instance norm (fused statistics and backward),
dropout masks (Philox on the device) and Adam (a fused update; ``capturable=True`` keeps the step
count on the device). Each test runs the op on float32 leaves on ``device`` and on float64 leaves on
the CPU, and compares outputs and gradients of a random projection (rtol 1e-4; atol 1e-5 times the
largest magnitude, since float32 rounding grows with the terms of a sum).

``device`` is 'cpu' (NumPy and Numba float32 paths, always run: they prove the test logic) and
'cuda' (marked ``gpu``: skipped without CuPy and a GPU, the kernels on a machine with one).
"""
import math

import numpy as np
import pytest

import tinygan
import tinygan.nn.functional as F
from tinygan import Tensor, backend
from tinygan.optim import Adam, flatten_state_dict, unflatten_state_dict

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
on_each_device = pytest.mark.parametrize("device", DEVICES)


def host(t: Tensor) -> np.ndarray:
    return backend.to_numpy(t.data)


def assert_close(got, want, what: str, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """float32 ``got`` against float64 ``want``; atol scales with the largest magnitude of ``want``."""
    got = host(got) if isinstance(got, Tensor) else backend.to_numpy(got)
    want = host(want) if isinstance(want, Tensor) else np.asarray(want)
    assert got.shape == want.shape, what
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale, err_msg=what)


def compare(fn, arrays: list, device: str, rtol: float = 1e-4, atol: float = 1e-5, seed: int = 0) -> None:
    """fn on float32 leaves on ``device`` against fn on float64 leaves on the CPU: the output, and the
    gradient of every input for the same random output gradient."""
    xs32 = [tinygan.tensor(np.asarray(a, dtype=np.float32), device=device, requires_grad=True) for a in arrays]
    xs64 = [tinygan.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    y32, y64 = fn(*xs32), fn(*xs64)
    assert y32.device == device and y32.dtype == np.float32
    assert_close(y32, y64, "output", rtol, atol)
    g = np.random.default_rng(seed).standard_normal(y64.shape)
    y32.backward(tinygan.tensor(g.astype(np.float32), device=device))
    y64.backward(tinygan.tensor(g))
    for i, (x32, x64) in enumerate(zip(xs32, xs64)):
        assert x32.grad.device == device and x32.grad.dtype == np.float32
        assert_close(x32.grad, x64.grad, f"gradient of input {i}", rtol, atol)


def normal(*shape, seed: int = 0, scale: float = 1.0, loc: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(loc, scale, shape)


# ---- matmul and linear: SGEMM, transposed views as flags -------------------------------------------
MATMULS = [  # odd sizes: partial tiles on every edge of the kernel's blocking
    ("a @ b", lambda a, b: a @ b, (33, 17), (17, 65)),
    ("a.T @ b", lambda a, b: a.T @ b, (17, 33), (17, 65)),
    ("a @ b.T", lambda a, b: a @ b.T, (33, 17), (65, 17)),
    ("a.T @ b.T", lambda a, b: a.T @ b.T, (17, 33), (65, 17)),
    ("matmul, long K", tinygan.matmul, (40, 300), (300, 24)),
    ("matmul method, vector", lambda a, b: a.matmul(b), (7, 5), (5,)),
]


@on_each_device
@pytest.mark.parametrize("name,op,sa,sb", MATMULS, ids=[m[0] for m in MATMULS])
def test_matmul(device, name, op, sa, sb):
    compare(op, [normal(*sa, seed=1), normal(*sb, seed=2)], device)


@on_each_device
def test_T_of_a_contiguous_matrix_is_a_transposed_view(device):
    """What dispatch.matmul passes to SGEMM as a transpose flag instead of copying."""
    x = tinygan.tensor(normal(3, 5).astype(np.float32), device=device)
    t = x.T.data
    assert not t.flags.c_contiguous and t.T.flags.c_contiguous
    np.testing.assert_array_equal(backend.to_numpy(t), host(x).T)


@on_each_device
@pytest.mark.parametrize("x_shape", [(37, 29), (3, 5, 29)], ids=["2d", "3d"])
@pytest.mark.parametrize("with_bias", [True, False], ids=["bias", "no_bias"])
def test_linear(device, x_shape, with_bias):
    arrays = [normal(*x_shape, seed=1), normal(23, 29, seed=2)] + ([normal(23, seed=3)] if with_bias else [])
    compare(F.linear, arrays, device)


# ---- convolutions: im2col / col2im + SGEMM ------------------------------------------------------------
CONV = [
    ("dcgan_down_k4_s2_p1", (4, 4), {"stride": 2, "padding": 1}),
    ("k3_s1_p1", (3, 3), {"stride": 1, "padding": 1}),
    ("asymmetric_dilated", (3, 2), {"stride": (1, 2), "padding": (2, 0), "dilation": (2, 1)}),
    ("k1", (1, 1), {}),
    ("k5_s3_p2", (5, 5), {"stride": 3, "padding": 2}),
]
CONV_T = [
    ("dcgan_up_k4_s2_p1", (4, 4), {"stride": 2, "padding": 1}),
    ("k3_s2_output_padding", (3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ("dilated_output_padding", (3, 3), {"stride": 1, "padding": 1, "dilation": 2, "output_padding": 1}),
    ("k2_s3_output_padding_2", (2, 3), {"stride": 3, "padding": 0, "output_padding": 2}),
]


@on_each_device
@pytest.mark.parametrize("name,kernel,geometry", CONV, ids=[c[0] for c in CONV])
def test_conv2d(device, name, kernel, geometry):
    arrays = [normal(3, 5, 11, 10, seed=1), normal(6, 5, *kernel, seed=2), normal(6, seed=3)]
    compare(lambda x, w, b: F.conv2d(x, w, b, **geometry), arrays, device)


@on_each_device
@pytest.mark.parametrize("name,kernel,geometry", CONV_T, ids=[c[0] for c in CONV_T])
def test_conv_transpose2d(device, name, kernel, geometry):
    arrays = [normal(3, 6, 5, 4, seed=1), normal(6, 5, *kernel, seed=2), normal(5, seed=3)]
    compare(lambda x, w, b: F.conv_transpose2d(x, w, b, **geometry), arrays, device)


# ---- normalization: fused statistics, apply and backward ----------------------------------------------
def running_stats(C: int, device: str) -> dict:
    """Fresh running statistics (as nn.BatchNorm2d makes them) for each side of a comparison:
    float32 on ``device`` and float64 on the CPU, keyed by the dtype of the input they serve."""
    return {np.float32: (tinygan.zeros(C, device=device), tinygan.ones(C, device=device)),
            np.float64: (tinygan.zeros(C, dtype=np.float64), tinygan.ones(C, dtype=np.float64))}


def assert_running_stats_close(running: dict, what: str) -> None:
    for name, r32, r64 in zip(("running_mean", "running_var"), running[np.float32], running[np.float64]):
        assert r32.dtype == np.float32
        assert_close(r32, r64, f"{name} {what}")


@on_each_device
@pytest.mark.parametrize("shape", [(8, 5, 6, 7), (16, 5)], ids=["NCHW", "NC"])
def test_batch_norm_training_updates_running_stats_then_eval(device, shape):
    C = shape[1]
    running = running_stats(C, device)

    def bn(training):
        return lambda x, w, b: F.batch_norm(x, *running[x.dtype.type], w, b, training=training, momentum=0.1)

    weight, bias = normal(C, seed=3, scale=0.5, loc=1.0), normal(C, seed=4)
    for step in range(2):  # two steps: the second starts from running stats the first moved
        x = normal(*shape, seed=10 + step, scale=2.0, loc=1.5)
        compare(bn(True), [x, weight, bias], device, seed=step)
        assert_running_stats_close(running, f"after training step {step}")
    compare(bn(False), [normal(*shape, seed=20), weight, bias], device)
    assert_running_stats_close(running, "after eval (unchanged)")


@on_each_device
def test_instance_norm_with_running_stats(device):
    running = running_stats(3, device)
    arrays = [normal(4, 3, 6, 5, seed=1, scale=3.0, loc=-1.0), normal(3, seed=2), normal(3, seed=3)]
    compare(lambda x, w, b: F.instance_norm(x, *running[x.dtype.type], w, b, momentum=0.2), arrays, device)
    assert_running_stats_close(running, "after instance_norm")


@on_each_device
def test_adaptive_instance_norm(device):
    content, style = normal(4, 3, 6, 5, seed=1, scale=2.0, loc=1.0), normal(4, 3, 7, 4, seed=2, scale=0.5)
    compare(F.adaptive_instance_norm, [content, style], device)


# ---- one DCGAN block of each network, chained, with backward ------------------------------------------
@on_each_device
@pytest.mark.parametrize("block", ["discriminator", "generator"])
def test_dcgan_block(device, block):
    """D: conv 4x4/2 -> batch norm -> leaky relu 0.2;  G: conv_transpose 4x4/2 -> batch norm -> relu."""
    C_in, C_out = 4, 8
    running = running_stats(C_out, device)

    def layer(x, w, gamma, beta):
        if block == "discriminator":
            h = F.conv2d(x, w, stride=2, padding=1)
        else:
            h = F.conv_transpose2d(x, w, stride=2, padding=1)
        h = F.batch_norm(h, *running[x.dtype.type], gamma, beta, training=True)
        return F.leaky_relu(h, 0.2) if block == "discriminator" else F.relu(h)

    x = normal(8, C_in, 16, 16, seed=1) if block == "discriminator" else normal(8, C_in, 4, 4, seed=1)
    w = normal(*((C_out, C_in) if block == "discriminator" else (C_in, C_out)), 4, 4, seed=2, scale=0.1)
    compare(layer, [x, w, normal(C_out, seed=3, scale=0.1, loc=1.0), normal(C_out, seed=4, scale=0.1)], device)
    assert_running_stats_close(running, "after the block")


# ---- dropout: masks from the device's generator ---------------------------------------------------------
@pytest.fixture
def restore_rng():
    """Keep the seeding in these tests from leaking into others (the default CPU generator's state)."""
    state = tinygan.get_rng_state()
    yield
    tinygan.set_rng_state(state)


@on_each_device
def test_dropout_masks_follow_the_seed(device, restore_rng):
    x = tinygan.ones(4096, device=device)
    tinygan.manual_seed(7)
    first, second = host(F.dropout(x, 0.5)), host(F.dropout(x, 0.5))
    assert (first != second).any()  # the stream moves on between draws
    tinygan.manual_seed(7)
    np.testing.assert_array_equal(host(F.dropout(x, 0.5)), first)  # re-seeding replays it
    tinygan.manual_seed(8)
    assert (host(F.dropout(x, 0.5)) != first).any()  # another seed, another mask


@on_each_device
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_statistics_and_scaling(device, p, restore_rng):
    n = 100_000
    a = np.random.default_rng(0).uniform(1.0, 2.0, n).astype(np.float32)  # no zeros: y == 0 means dropped
    x = tinygan.tensor(a, device=device, requires_grad=True)
    tinygan.manual_seed(int(p * 10))
    y = F.dropout(x, p)
    assert y.device == device and y.dtype == np.float32
    out = host(y.detach())
    kept = out != 0
    assert abs(kept.mean() - (1 - p)) <= 3 * math.sqrt(p * (1 - p) / n)  # within 3 sigma of a Binomial
    np.testing.assert_allclose(out[kept], a[kept] / (1 - p), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), kept / (1 - p), rtol=1e-6)  # dy/dx = mask / (1 - p)


# ---- Adam: the fused update, and capturable=True (step count on the device) -----------------------------
HYPER = {"lr": 1e-2, "betas": (0.5, 0.999), "eps": 1e-8, "weight_decay": 1e-2}
PARAM_SHAPES = [(5, 3), (7,), (2, 3, 4, 4)]


def adam_run(device: str, steps: int, **options) -> tuple[list, Adam]:
    """``steps`` Adam steps on float32 parameters on ``device``, with the same gradients every run."""
    rng = np.random.default_rng(0)
    params = [tinygan.tensor(rng.normal(size=s).astype(np.float32), device=device, requires_grad=True)
              for s in PARAM_SHAPES]
    opt = Adam(params, **HYPER, **options)
    for step in range(steps):
        set_grads(params, step)
        opt.step()
    return params, opt


def set_grads(params: list, step: int) -> None:
    rng = np.random.default_rng(100 + step)
    for p in params:
        p.grad = tinygan.tensor(rng.normal(size=p.shape).astype(np.float32), device=p.device)


def assert_states_equal(a: dict, b: dict, rtol: float, atol: float) -> None:
    """Two optimizer state_dicts: the same step counts (ints) and moment arrays."""
    assert a["state"].keys() == b["state"].keys()
    for j in a["state"]:
        sa, sb = a["state"][j], b["state"][j]
        assert sa.keys() == sb.keys()
        assert isinstance(sa["step"], int) and sa["step"] == sb["step"]
        for key in sa.keys() - {"step"}:
            np.testing.assert_allclose(sa[key], sb[key], rtol=rtol, atol=atol, err_msg=f"state {j} {key}")


@pytest.mark.gpu
def test_adam_capturable_matches_adam_and_round_trips_its_state():
    params, opt = adam_run("cuda", 5)
    cparams, copt = adam_run("cuda", 5, capturable=True)
    for i, (p, c) in enumerate(zip(params, cparams)):
        np.testing.assert_allclose(host(c), host(p), rtol=1e-6, atol=1e-6, err_msg=f"param {i}")
    saved = copt.state_dict()
    assert all(s["step"] == 5 for s in saved["state"].values())
    assert_states_equal(saved, opt.state_dict(), rtol=1e-6, atol=1e-6)

    # a fresh capturable optimizer, loaded through the checkpoint format, goes on like the original
    fresh = [tinygan.tensor(host(c), device="cuda", requires_grad=True) for c in cparams]
    fopt = Adam(fresh, **HYPER, capturable=True)
    fopt.load_state_dict(unflatten_state_dict(flatten_state_dict(saved)))
    assert_states_equal(fopt.state_dict(), saved, rtol=0, atol=0)
    set_grads(cparams, 5)
    set_grads(fresh, 5)
    copt.step()
    fopt.step()
    for i, (c, f) in enumerate(zip(cparams, fresh)):
        np.testing.assert_allclose(host(f), host(c), rtol=1e-6, atol=1e-7, err_msg=f"param {i} after loading")
    assert_states_equal(fopt.state_dict(), copt.state_dict(), rtol=1e-6, atol=1e-7)
    assert all(s["step"] == 6 for s in fopt.state_dict()["state"].values())


@pytest.mark.parametrize("device,dtype", [("cpu", np.float32), ("cpu", np.float64),
                                          pytest.param("cuda", np.float64, marks=pytest.mark.gpu)])
def test_adam_capturable_needs_float32_parameters_on_cuda(device, dtype):
    p = tinygan.tensor(np.ones(3, dtype=dtype), device=device, requires_grad=True)
    opt = Adam([p], capturable=True)  # constructing is fine: the parameters are checked at the step
    p.grad = tinygan.ones_like(p)
    with pytest.raises(ValueError, match=r"Adam.*'cuda'"):
        opt.step()
    np.testing.assert_array_equal(host(p.detach()), 1.0)  # nothing was updated


@on_each_device
@pytest.mark.parametrize("option", ["amsgrad", "maximize"])
def test_adam_capturable_refuses_amsgrad_and_maximize_at_construction(device, option):
    p = tinygan.zeros(3, device=device, requires_grad=True)
    with pytest.raises(ValueError, match=f"Adam.*capturable.*{option}"):
        Adam([p], capturable=True, **{option: True})
