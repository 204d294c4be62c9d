"""Every op family's gradients against finite differences on each device (float64).

The op tests beside this file check values and gradients on the CPU with generous budgets. Here
their op tables (UNARY, BINARY, REDUCE, the conv geometries, GRADGRAD, ...) run through
``tinygan.gradcheck`` on float64 leaves made on ``device``: 'cpu' always, 'cuda' (marked ``gpu``,
skipped without CuPy and a GPU) on a machine that has one. On the GPU float64 arrays run the ``xp``
code of each op (tinygan's CUDA kernels are float32 only; test_gpu_paths.py compares those with the
CPU), so this checks that every forward and backward is written once for both array modules:
outputs and gradients stay on the device, and they agree with central differences.

Budgets are small (5 hypothesis examples per op and device) and shapes tiny, so the CPU half runs in
seconds and the GPU half in well under a minute.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import arrays, broadcastable_pairs, distinct_arrays, shapes
from test_conv import arrays as conv_arrays
from test_conv import conv2d_ref, conv_args, conv_transpose2d_ref, convt_args, geometries
from test_elementwise import BINARY, BINARY_IDS, UNARY, UNARY_IDS
from test_functional import GRADGRAD, REDUCTIONS, away_from_zero
from test_matmul import MATMUL_SHAPES
from test_norm import shapes4
from test_reduce import IDS as REDUCE_IDS
from test_reduce import REDUCE, draw_case
from test_shape import cat_inputs, expansions, numpy_widths, pads, reshape_targets

import tinygan
import tinygan.nn.functional as F
from tinygan import Tensor, backend
from tinygan import losses as L
from tinygan.gradcheck import gradcheck, gradgradcheck

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
on_each_device = pytest.mark.parametrize("device", DEVICES)
FAST = settings(deadline=None, max_examples=5, suppress_health_check=[HealthCheck.too_slow,
                                                                      HealthCheck.filter_too_much])
SMALL = shapes(max_dims=3, max_side=3)
seeds = st.integers(0, 2**16)


def leaf(a, device: str) -> Tensor:
    """A float64 leaf on ``device`` that requires grad, holding a copy of ``a``."""
    return tinygan.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=True)


def const(a, device: str) -> Tensor:
    """A constant (no grad) on ``device``, dtype kept: integer targets, masks, running statistics."""
    return tinygan.tensor(np.asarray(a), device=device)


def host(t: Tensor) -> np.ndarray:
    return backend.to_numpy(t.data)


def check(fn, inputs: list, device: str, expected=None) -> None:
    """fn's output is float64 on ``device`` (and equals ``expected`` if given), the gradients of
    its differentiable inputs are on ``device`` too, and they pass gradcheck."""
    out = fn(*inputs)
    assert out.device == device and out.dtype == np.float64
    if expected is not None:
        np.testing.assert_allclose(host(out), expected, rtol=1e-10, atol=1e-12)
    wrt = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if out.requires_grad:
        grads = tinygan.grad(out, wrt, tinygan.ones_like(out), allow_unused=True)
        assert all(g is None or g.device == device for g in grads)
    assert gradcheck(fn, inputs)


# ---- elementwise: the tables of test_elementwise.py -------------------------------------------------
@on_each_device
@pytest.mark.parametrize("name,op,ref,domain", UNARY, ids=UNARY_IDS)
@FAST
@given(data=st.data())
def test_unary(device, name, op, ref, domain, data):
    a = data.draw(domain(SMALL))
    check(op, [leaf(a, device)], device, ref(a))


@on_each_device
@pytest.mark.parametrize("name,op,ref,dom_a,dom_b", BINARY, ids=BINARY_IDS)
@FAST
@given(data=st.data(), pair=broadcastable_pairs(max_side=3), which=st.sampled_from(["both", "first", "second"]))
def test_binary_broadcasting(device, name, op, ref, dom_a, dom_b, data, pair, which):
    a, b = data.draw(dom_a(pair[0])), data.draw(dom_b(pair[1]))
    x = leaf(a, device) if which != "second" else const(a, device)
    y = leaf(b, device) if which != "first" else const(b, device)
    check(op, [x, y], device, ref(a, b))


@on_each_device
@FAST
@given(data=st.data(), shapes3=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3))
def test_where(device, data, shapes3):
    sc, sa, sb = shapes3.input_shapes
    cond = data.draw(hnp.arrays(bool, sc))
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    c = const(cond, device)
    check(lambda x, y: tinygan.where(c, x, y), [leaf(a, device), leaf(b, device)], device, np.where(cond, a, b))


# ---- reductions: the table of test_reduce.py ------------------------------------------------------
@on_each_device
@pytest.mark.parametrize("name,op,ref,domain,allow_none", REDUCE, ids=REDUCE_IDS)
@FAST
@given(data=st.data(), keepdim=st.booleans())
def test_reduce(device, name, op, ref, domain, allow_none, data, keepdim):
    a, dim, count = draw_case(data, domain, allow_none, max_side=3)
    if name.startswith(("var", "std")):
        assume(count >= 2)  # one element: var is nan (unbiased), std has no derivative (biased)
    check(lambda x: op(x, dim, keepdim), [leaf(a, device)], device, ref(a, axis=dim, keepdims=keepdim))


@on_each_device
@pytest.mark.parametrize("fn,np_fn,np_arg", [(tinygan.max, np.max, np.argmax), (tinygan.min, np.min, np.argmin)],
                         ids=["max", "min"])
@FAST
@given(data=st.data(), keepdim=st.booleans())
def test_max_min_over_a_dim(device, fn, np_fn, np_arg, data, keepdim):
    a = data.draw(distinct_arrays(shapes(min_dims=1, max_side=3)))
    dim = data.draw(st.integers(-a.ndim, a.ndim - 1))
    indices = fn(const(a, device), dim, keepdim=keepdim).indices
    assert indices.device == device
    np.testing.assert_array_equal(host(indices), np_arg(a, axis=dim, keepdims=keepdim))
    check(lambda x: fn(x, dim, keepdim=keepdim).values, [leaf(a, device)], device,
          np_fn(a, axis=dim, keepdims=keepdim))
    check(fn, [leaf(a, device)], device, np_fn(a))  # over every element


# ---- shape ops and indexing (strategies of test_shape.py) ----------------------------------------------
# Each case draws (op, NumPy reference, input arrays); index arrays and masks go to `device`.
def _reshape(data, device):
    a = data.draw(arrays(SMALL))
    t = data.draw(reshape_targets(a.shape))
    return lambda x: x.reshape(t), lambda a: a.reshape(t), [a]


def _permute(data, device):
    a = data.draw(arrays(shapes(min_dims=1, max_side=3)))
    p = data.draw(st.permutations(range(a.ndim)))
    return lambda x: x.permute(p), lambda a: a.transpose(p), [a]


def _transpose_and_T(data, device):
    a = data.draw(arrays(shapes(min_dims=2, max_side=3)))
    return lambda x: x.transpose(0, -1).T, lambda a: np.swapaxes(a, 0, -1).T, [a]


def _flatten_unsqueeze_squeeze(data, device):
    a = data.draw(arrays(shapes(min_dims=2, max_side=3)))
    u = data.draw(st.integers(-3, 2))  # a place in the flattened (N, -1)
    return (lambda x: x.flatten(1).unsqueeze(u).squeeze(),
            lambda a: np.squeeze(np.expand_dims(a.reshape(a.shape[0], -1), u)), [a])


def _expand(data, device):
    a = data.draw(arrays(SMALL))
    full, written = data.draw(expansions(a.shape))
    return lambda x: x.expand(*written), lambda a: np.broadcast_to(a, full), [a]


def _basic_index(data, device):
    a = data.draw(arrays(shapes(min_dims=1, max_side=4)))
    key = data.draw(hnp.basic_indices(a.shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    return lambda x: x[key], lambda a: a[key], [a]


def _integer_array_index(data, device):  # NumPy index arrays, repeated indices adding up in backward
    a = data.draw(arrays(shapes(min_dims=1, max_side=3)))
    key = data.draw(hnp.integer_array_indices(a.shape, result_shape=hnp.array_shapes(max_dims=2, max_side=4)))
    return lambda x: x[key], lambda a: a[key], [a]


def _tensor_index(data, device):  # an integer Tensor on the device, after an Ellipsis
    a = data.draw(arrays(shapes(min_dims=1, max_side=3)))
    idx = data.draw(hnp.arrays(np.int64, data.draw(st.integers(1, 5)),
                               elements=st.integers(-a.shape[-1], a.shape[-1] - 1)))
    t = const(idx, device)
    return lambda x: x[..., t], lambda a: a[..., idx], [a]


def _boolean_mask(data, device):
    a = data.draw(arrays(shapes(min_dims=1, max_side=3)))
    mask = a > 0.3
    assume(mask.any())
    m = const(mask, device)
    return lambda x: x[m], lambda a: a[mask], [a]


def _cat(data, device):
    xs, dim = data.draw(cat_inputs(stacked=False))
    return lambda *ts: tinygan.cat(ts, dim), lambda *arrs: np.concatenate(arrs, dim), xs


def _stack(data, device):
    xs, dim = data.draw(cat_inputs(stacked=True))
    return lambda *ts: tinygan.stack(ts, dim), lambda *arrs: np.stack(arrs, dim), xs


def _pad_constant(data, device):
    a = data.draw(arrays(shapes(min_dims=1, max_side=3)))
    p, value = data.draw(pads(a.shape)), data.draw(st.floats(-2, 2))
    return (lambda x: F.pad(x, p, value=value),
            lambda a: np.pad(a, numpy_widths(a.ndim, p), constant_values=value), [a])


def _pad_reflect(data, device):
    a = data.draw(arrays(shapes(min_dims=1, max_side=4)))
    p = data.draw(pads(a.shape, reflect=True))
    return lambda x: F.pad(x, p, mode="reflect"), lambda a: np.pad(a, numpy_widths(a.ndim, p), mode="reflect"), [a]


SHAPE = [_reshape, _permute, _transpose_and_T, _flatten_unsqueeze_squeeze, _expand, _basic_index,
         _integer_array_index, _tensor_index, _boolean_mask, _cat, _stack, _pad_constant, _pad_reflect]


@on_each_device
@pytest.mark.parametrize("case", SHAPE, ids=[c.__name__[1:] for c in SHAPE])
@FAST
@given(data=st.data())
def test_shape_op(device, case, data):
    op, ref, inputs = case(data, device)
    check(op, [leaf(a, device) for a in inputs], device, ref(*inputs))


# ---- matmul and linear ----------------------------------------------------------------------------
@on_each_device
@FAST
@given(data=st.data(), shapes=MATMUL_SHAPES)
def test_matmul(device, data, shapes):
    sa, sb = shapes.input_shapes
    a, b = data.draw(arrays(sa)), data.draw(arrays(sb))
    check(tinygan.matmul, [leaf(a, device), leaf(b, device)], device, np.matmul(a, b))


@on_each_device
@pytest.mark.parametrize("name,op,ref,sa,sb", [
    ("a.T @ b", lambda a, b: a.T @ b, lambda a, b: a.T @ b, (3, 2), (3, 4)),
    ("a @ b.T", lambda a, b: a @ b.T, lambda a, b: a @ b.T, (2, 3), (4, 3)),
    ("a.T @ b.T", lambda a, b: a.T @ b.T, lambda a, b: a.T @ b.T, (3, 2), (4, 3)),
], ids=["aT_b", "a_bT", "aT_bT"])
@pytest.mark.parametrize("seed", [0, 1])
def test_matmul_of_transposed_views(device, name, op, ref, sa, sb, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    check(op, [leaf(a, device), leaf(b, device)], device, ref(a, b))


@on_each_device
@FAST
@given(data=st.data(), lead=st.lists(st.integers(1, 3), max_size=2), n_in=st.integers(1, 3),
       n_out=st.integers(1, 3), with_bias=st.booleans())
def test_linear(device, data, lead, n_in, n_out, with_bias):
    x, w, b = data.draw(arrays((*lead, n_in))), data.draw(arrays((n_out, n_in))), data.draw(arrays((n_out,)))
    inputs = [x, w, b] if with_bias else [x, w]
    check(F.linear, [leaf(a, device) for a in inputs], device, x @ w.T + (b if with_bias else 0))


# ---- convolutions (geometries and loop references of test_conv.py) -------------------------------------
SMALL_CONV = {"max_batch": 2, "max_channels": 2, "max_size": 5}
DCGAN_LIKE = [  # the DCGAN 4x4 stride-2 layer, an asymmetric dilated one, output_padding >= stride
    {"n": 2, "c_in": 2, "c_out": 3, "size": (4, 4), "kernel": (4, 4), "stride": (2, 2), "padding": (1, 1),
     "dilation": (1, 1), "output_padding": (0, 0)},
    {"n": 1, "c_in": 2, "c_out": 2, "size": (5, 4), "kernel": (2, 3), "stride": (1, 2), "padding": (2, 0),
     "dilation": (2, 1), "output_padding": (0, 1)},
    {"n": 1, "c_in": 1, "c_out": 2, "size": (3, 3), "kernel": (3, 3), "stride": (1, 1), "padding": (1, 1),
     "dilation": (2, 2), "output_padding": (1, 1)},
]


def check_conv2d(g, seed, device):
    x, w, b = conv_arrays(g, False, seed)
    ref = conv2d_ref(x, w, g["stride"], g["padding"], g["dilation"]) + b.reshape(1, -1, 1, 1)
    check(lambda x, w, b: F.conv2d(x, w, b, **conv_args(g)), [leaf(a, device) for a in (x, w, b)], device, ref)


def check_conv_transpose2d(g, seed, device):
    x, w, b = conv_arrays(g, True, seed)
    ref = conv_transpose2d_ref(x, w, g["stride"], g["padding"], g["output_padding"], g["dilation"])
    check(lambda x, w, b: F.conv_transpose2d(x, w, b, **convt_args(g)), [leaf(a, device) for a in (x, w, b)],
          device, ref + b.reshape(1, -1, 1, 1))


@on_each_device
@FAST
@given(g=geometries(**SMALL_CONV), seed=seeds)
def test_conv2d(device, g, seed):
    check_conv2d(g, seed, device)


@on_each_device
@FAST
@given(g=geometries(transpose=True, **SMALL_CONV), seed=seeds)
def test_conv_transpose2d(device, g, seed):
    check_conv_transpose2d(g, seed, device)


@on_each_device
@pytest.mark.parametrize("g", DCGAN_LIKE, ids=["dcgan_4x4_s2", "asymmetric_dilated", "output_padding"])
def test_conv_fixed_geometries(device, g):
    check_conv2d(g, 0, device)
    check_conv_transpose2d(g, 1, device)


# ---- normalization ---------------------------------------------------------------------------------
def _running_stats(rng, C: int, device: str) -> tuple[Tensor, Tensor]:
    return const(rng.normal(size=C), device), const(rng.uniform(0.5, 2.0, C), device)


@on_each_device
@pytest.mark.parametrize("training", [True, False], ids=["training", "eval"])
@FAST
@given(shape=shapes4, flat=st.booleans(), seed=seeds)
def test_batch_norm(device, training, shape, flat, seed):
    shape = shape[:2] if flat else shape  # (N, C) as after a linear layer, or (N, C, H, W)
    if training and np.prod(shape) // shape[1] < 2:
        shape = (2,) + shape[1:]  # one value per channel has no variance
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=shape), rng.normal(size=shape[1]), rng.normal(size=shape[1])
    rm, rv = _running_stats(rng, shape[1], device)  # updated on every call in training; harmless
    check(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=training), [leaf(a, device) for a in (x, w, b)],
          device)
    assert rm.device == rv.device == device


@on_each_device
@FAST
@given(shape=shapes4, seed=seeds)
def test_instance_norm(device, shape, seed):
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=shape), rng.normal(size=shape[1]), rng.normal(size=shape[1])
    rm, rv = _running_stats(rng, shape[1], device)
    check(lambda x, w, b: F.instance_norm(x, rm, rv, w, b), [leaf(a, device) for a in (x, w, b)], device)


@on_each_device
@FAST
@given(shape=shapes4, k=st.integers(1, 3), seed=seeds)
def test_layer_norm(device, shape, k, seed):
    rng = np.random.default_rng(seed)
    ns = shape[4 - k:]
    if np.prod(ns) < 2:
        ns, shape = (2,), shape[:3] + (2,)
    x, w, b = rng.normal(size=shape), rng.normal(size=ns), rng.normal(size=ns)
    check(lambda x, w, b: F.layer_norm(x, ns, w, b), [leaf(a, device) for a in (x, w, b)], device)


@on_each_device
@FAST
@given(shape=shapes4, style_hw=st.tuples(st.integers(1, 3), st.integers(2, 3)), seed=seeds)
def test_adaptive_instance_norm(device, shape, style_hw, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=shape), rng.normal(size=shape[:2] + style_hw)
    check(F.adaptive_instance_norm, [leaf(x, device), leaf(y, device)], device)


# ---- nn.functional: activations (the GRADGRAD table of test_functional.py), resampling, losses ---------
@on_each_device
@pytest.mark.parametrize("name", list(GRADGRAD))
@pytest.mark.parametrize("seed", [0, 1])
def test_functional_table(device, name, seed):
    fn, make = GRADGRAD[name]
    check(fn, [leaf(a, device) for a in make(np.random.default_rng(seed))], device)


RESAMPLING = [
    ("softmax", lambda x: F.softmax(x, 1), (2, 3, 2)),
    ("log_softmax", lambda x: F.log_softmax(x, -1), (2, 3, 2)),
    ("avg_pool2d_overlapping", lambda x: F.avg_pool2d(x, 3, 2, 1), (1, 2, 5, 4)),
    ("avg_pool2d_disjoint", lambda x: F.avg_pool2d(x, 2), (1, 2, 5, 4)),
    ("interpolate", lambda x: F.interpolate(x, scale_factor=2), (1, 2, 2, 3)),
    ("pad_reflect_2d", lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"), (1, 2, 3, 4)),
]


@on_each_device
@pytest.mark.parametrize("name,fn,shape", RESAMPLING, ids=[r[0] for r in RESAMPLING])
@pytest.mark.parametrize("seed", [0, 1])
def test_softmax_pooling_resampling(device, name, fn, shape, seed):
    check(fn, [leaf(np.random.default_rng(seed).normal(size=shape), device)], device)


def _losses(rng, shape: tuple, reduction: str, device: str) -> dict:
    """name -> (loss as a function of its differentiable inputs, their arrays); constants on ``device``."""
    N, C = shape
    a, b = rng.normal(size=shape), rng.normal(size=shape)
    a = np.where(np.abs(a - b) < 0.1, b + 0.1, a)  # l1: away from the kink at x == y
    prob, target = rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)
    w, pos_weight = const(rng.uniform(0.5, 2.0, C), device), rng.uniform(0.5, 2.0, C)
    t = const(rng.integers(0, C, N), device)
    return {
        "mse_loss": (lambda x, y: F.mse_loss(x, y, reduction=reduction), [a, b]),
        "l1_loss": (lambda x, y: F.l1_loss(x, y, reduction=reduction), [a, b]),
        "binary_cross_entropy": (lambda x, y: F.binary_cross_entropy(x, y, w, reduction), [prob, target]),
        "binary_cross_entropy_with_logits": (lambda x, y, p: F.binary_cross_entropy_with_logits(
            x, y, w, reduction, pos_weight=p), [a, target, pos_weight]),
        "cross_entropy": (lambda x: F.cross_entropy(x, t, w, reduction, label_smoothing=0.1), [a]),
        "nll_loss": (lambda x: F.nll_loss(x, t, w, reduction), [a]),
    }


LOSSES = list(_losses(np.random.default_rng(0), (1, 2), "mean", "cpu"))


@on_each_device
@pytest.mark.parametrize("name", LOSSES)
@FAST
@given(shape=st.tuples(st.integers(1, 3), st.integers(2, 4)), reduction=st.sampled_from(REDUCTIONS), seed=seeds)
def test_loss(device, name, shape, reduction, seed):
    fn, inputs = _losses(np.random.default_rng(seed), shape, reduction, device)[name]
    check(fn, [leaf(a, device) for a in inputs], device)


@on_each_device
@pytest.mark.parametrize("seed", [0, 1])
def test_embedding(device, seed):
    rng = np.random.default_rng(seed)
    idx = const(rng.integers(0, 4, (2, 3)), device)  # (2, 3) indices into 4 rows, some repeated
    check(lambda w: F.embedding(idx, w), [leaf(rng.normal(size=(4, 3)), device)], device)


@on_each_device
@pytest.mark.parametrize("seed", [0, 1])
def test_dropout_with_a_fixed_seed(device, seed):
    state = tinygan.get_rng_state()

    def fn(x):
        tinygan.manual_seed(seed)  # seeds the CPU and the CUDA generator: the same mask on every call
        return F.dropout(x, 0.4)
    try:
        check(fn, [leaf(np.random.default_rng(seed).normal(size=(3, 4)), device)], device)
    finally:
        tinygan.set_rng_state(state)


def _gan_losses(rng, device: str) -> dict:
    """The GAN losses of tinygan.losses that make arrays of their own (codes, the interpolation eps,
    a mask): name -> (loss of its differentiable inputs, their arrays). The penalties are checked as
    functions of the critic's weights, a second derivative through conv2d."""
    real, fake = const(rng.normal(size=(2, 1, 4, 4)), device), const(rng.normal(size=(2, 1, 4, 4)), device)
    codes = rng.integers(0, 3, 4)  # NumPy codes: the loss moves them to the logits' device

    def critic(w):  # (N, 1, 4, 4) -> conv 3x3 -> tanh -> (N,)
        return lambda x: F.conv2d(x, w).tanh().reshape(x.shape[0], -1).sum(dim=1)
    return {
        "pullaway_term": (L.pullaway_term, [rng.normal(size=(4, 3))]),
        "infogan_categorical_loss": (lambda q: L.infogan_categorical_loss(q, codes), [rng.normal(size=(4, 3))]),
        "gradient_penalty": (lambda w: L.gradient_penalty(critic(w), real, fake, rng=np.random.default_rng(0)),
                             [rng.normal(size=(2, 1, 3, 3))]),
        "r1_penalty": (lambda w: L.r1_penalty(critic(w), real), [rng.normal(size=(2, 1, 3, 3))]),
    }


GAN_LOSSES = list(_gan_losses(np.random.default_rng(0), "cpu"))


@on_each_device
@pytest.mark.parametrize("name", GAN_LOSSES)
@pytest.mark.parametrize("seed", [0, 1])
def test_gan_loss(device, name, seed):
    fn, inputs = _gan_losses(np.random.default_rng(seed), device)[name]
    check(fn, [leaf(a, device) for a in inputs], device)


# ---- second derivatives, which gradient penalties take (create_graph=True) -----------------------------
GRADGRAD_ON_DEVICE = {
    "linear": GRADGRAD["linear"],
    "leaky_relu": GRADGRAD["leaky_relu"],
    "conv2d": (lambda x, w: F.conv2d(x, w, stride=2, padding=1).tanh(),
               lambda rng: [rng.normal(size=(1, 2, 4, 4)), rng.normal(size=(2, 2, 3, 3))]),
    "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1),
                         lambda rng: [rng.normal(size=(1, 2, 2, 2)), rng.normal(size=(2, 1, 3, 3))]),
    "batch_norm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                   lambda rng: [rng.normal(size=(3, 2, 2, 2)), rng.normal(size=2), rng.normal(size=2)]),
    "dcgan_block": (lambda x, w: F.leaky_relu(F.batch_norm(F.conv2d(x, w, stride=2, padding=1), None, None,
                                                           training=True), 0.2),
                    lambda rng: [away_from_zero(rng, (2, 1, 4, 4)), rng.normal(size=(2, 1, 3, 3))]),
}


@on_each_device
@pytest.mark.parametrize("name", list(GRADGRAD_ON_DEVICE))
def test_gradgradcheck(device, name):
    fn, make = GRADGRAD_ON_DEVICE[name]
    inputs = [leaf(a, device) for a in make(np.random.default_rng(0))]
    (first,) = tinygan.grad(fn(*inputs).sum(), inputs[:1], create_graph=True)
    assert first.device == device
    assert gradgradcheck(fn, inputs)
