"""The layers: shapes, values against NumPy, PyTorch's default init, modes, gradients, and PyTorch itself."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
from tinygan import nn
from tinygan.gradcheck import gradcheck


def randn(*shape, dtype=np.float32):
    return tinygan.randn(*shape, dtype=dtype)


# ---- shapes -----------------------------------------------------------------------------
SHAPES = [
    (lambda: nn.Linear(3, 5), (2, 3), (2, 5)),
    (lambda: nn.Linear(3, 5, bias=False), (2, 4, 3), (2, 4, 5)),
    (lambda: nn.Conv2d(3, 4, 3), (2, 3, 8, 8), (2, 4, 6, 6)),
    (lambda: nn.Conv2d(3, 4, 4, stride=2, padding=1), (2, 3, 8, 8), (2, 4, 4, 4)),
    (lambda: nn.Conv2d(3, 4, 3, padding=2, dilation=2), (2, 3, 8, 8), (2, 4, 8, 8)),
    (lambda: nn.Conv2d(3, 4, (3, 1)), (2, 3, 8, 8), (2, 4, 6, 8)),
    (lambda: nn.Conv2d(3, 4, 3, padding="valid"), (2, 3, 8, 8), (2, 4, 6, 6)),
    (lambda: nn.Conv2d(3, 4, 4, padding="same"), (2, 3, 8, 7), (2, 4, 8, 7)),
    (lambda: nn.Conv2d(3, 4, (2, 3), padding="same", dilation=(3, 2)), (3, 7, 8), (4, 7, 8)),
    (lambda: nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1), (2, 4, 4, 4), (2, 2, 8, 8)),
    (lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1), (2, 4, 4, 4), (2, 2, 8, 8)),
    (lambda: nn.ConvTranspose2d(4, 2, 4, 1, 0, bias=False), (1, 4, 1, 1), (1, 2, 4, 4)),  # DCGAN's first
    (lambda: nn.BatchNorm1d(3), (4, 3), (4, 3)),
    (lambda: nn.BatchNorm1d(3), (4, 3, 5), (4, 3, 5)),
    (lambda: nn.BatchNorm2d(3), (2, 3, 4, 4), (2, 3, 4, 4)),
    (lambda: nn.InstanceNorm2d(3), (2, 3, 4, 4), (2, 3, 4, 4)),
    (lambda: nn.InstanceNorm2d(3, affine=True), (3, 4, 4), (3, 4, 4)),
    (lambda: nn.LayerNorm((4, 4)), (2, 3, 4, 4), (2, 3, 4, 4)),
    (lambda: nn.LayerNorm(4), (2, 4), (2, 4)),
    (lambda: nn.Dropout(0.2), (2, 3, 4), (2, 3, 4)),
    (lambda: nn.ReLU(inplace=True), (2, 3), (2, 3)),
    (lambda: nn.LeakyReLU(0.2, inplace=True), (2, 3), (2, 3)),
    (lambda: nn.Tanh(), (2, 3), (2, 3)),
    (lambda: nn.Sigmoid(), (2, 3), (2, 3)),
    (lambda: nn.Identity(54, unused=1), (2, 3), (2, 3)),
    (lambda: nn.Maxout(3, 4, 5), (2, 3), (2, 4)),
    (lambda: nn.Flatten(), (2, 3, 4, 4), (2, 48)),
    (lambda: nn.Flatten(0, 1), (2, 3, 4, 4), (6, 4, 4)),
    (lambda: nn.Unflatten(1, (3, 16)), (2, 48), (2, 3, 16)),
    (lambda: nn.Unflatten(-1, (2, 2)), (2, 3, 4), (2, 3, 2, 2)),
    (lambda: nn.Upsample(scale_factor=2), (2, 3, 4, 4), (2, 3, 8, 8)),
    (lambda: nn.Upsample(size=(8, 12)), (2, 3, 4, 4), (2, 3, 8, 12)),
    (lambda: nn.ReflectionPad2d(2), (2, 3, 4, 4), (2, 3, 8, 8)),
    (lambda: nn.ReflectionPad2d((1, 0, 2, 3)), (2, 3, 4, 4), (2, 3, 9, 5)),
]


@pytest.mark.parametrize("make, in_shape, out_shape", SHAPES)
def test_output_shape(make, in_shape, out_shape):
    layer = make()
    assert layer(randn(*in_shape)).shape == out_shape


def test_embedding_and_adain_shapes():
    assert nn.Embedding(10, 4)(tinygan.tensor([[1, 2, 3], [9, 0, 0]])).shape == (2, 3, 4)
    assert nn.AdaIN()(randn(2, 3, 4, 4), randn(2, 3, 6, 6)).shape == (2, 3, 4, 4)


def test_dtype_and_device_arguments():
    lin = nn.Linear(2, 3, dtype=np.float64, device="cpu")
    assert lin.weight.dtype == np.float64 and lin.bias.dtype == np.float64 and lin.device == "cpu"
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    assert bn.weight.dtype == bn.running_var.dtype == np.float64 and bn.num_batches_tracked.dtype == np.int64
    assert nn.Conv2d(1, 2, 3, dtype="float64").weight.dtype == np.float64
    assert nn.Linear(2, 3).weight.dtype == np.float32


# ---- values -------------------------------------------------------------------------------
def test_activations_match_numpy():
    x = randn(3, 7, dtype=np.float64)
    a = x.data
    np.testing.assert_allclose(nn.ReLU()(x).data, np.maximum(a, 0))
    np.testing.assert_allclose(nn.LeakyReLU(0.2)(x).data, np.where(a > 0, a, 0.2 * a))
    np.testing.assert_allclose(nn.LeakyReLU()(x).data, np.where(a > 0, a, 0.01 * a))
    np.testing.assert_allclose(nn.Tanh()(x).data, np.tanh(a))
    np.testing.assert_allclose(nn.Sigmoid()(x).data, 1 / (1 + np.exp(-a)))
    assert nn.Identity()(x) is x


def test_shape_layers_match_numpy():
    x = randn(2, 3, 4, 5, dtype=np.float64)
    a = x.data
    np.testing.assert_array_equal(nn.ReflectionPad2d((1, 2, 3, 0))(x).data,
                                  np.pad(a, ((0, 0), (0, 0), (3, 0), (1, 2)), mode="reflect"))
    np.testing.assert_array_equal(nn.Upsample(scale_factor=2)(x).data, a.repeat(2, axis=2).repeat(2, axis=3))
    flat = nn.Flatten()(x)
    np.testing.assert_array_equal(flat.data, a.reshape(2, 60))
    np.testing.assert_array_equal(nn.Unflatten(1, (3, 4, 5))(flat).data, a)


def test_dropout_train_and_eval():
    tinygan.manual_seed(0)
    drop = nn.Dropout(p=0.3)
    x = tinygan.ones(200, 100)
    y = drop(x).data
    np.testing.assert_allclose(np.unique(y), [0.0, 1 / 0.7], rtol=1e-6)   # dropped, or scaled by 1/(1-p)
    assert np.mean(y == 0) == pytest.approx(0.3, abs=0.02)
    z = drop(x).data
    assert not np.array_equal(y, z)                       # a fresh mask each call
    drop.eval()
    np.testing.assert_array_equal(drop(x).data, x.data)
    assert nn.Dropout(0.0)(x).data.min() == 1.0
    with pytest.raises(ValueError):
        nn.Dropout(1.5)


def numpy_running_stats(batches, momentum=0.1):
    """PyTorch's update: running = (1 - m) running + m stat, with the unbiased batch variance."""
    C = batches[0].shape[1]
    mean, var = np.zeros(C), np.ones(C)
    for x in batches:
        axes = (0,) + tuple(range(2, x.ndim))
        n = x.size // C
        mean = (1 - momentum) * mean + momentum * x.mean(axis=axes)
        var = (1 - momentum) * var + momentum * x.var(axis=axes) * n / (n - 1)
    return mean, var


@pytest.mark.parametrize("make, shape", [
    (nn.BatchNorm1d, (8, 3)), (nn.BatchNorm1d, (4, 3, 5)), (nn.BatchNorm2d, (4, 3, 2, 3)),
])
def test_batchnorm_running_stats_and_eval(make, shape):
    tinygan.manual_seed(1)
    bn = make(3, dtype=np.float64)
    nn.init.uniform_(bn.weight, 0.5, 2.0)
    nn.init.uniform_(bn.bias, -1.0, 1.0)
    batches = [2.0 * randn(*shape, dtype=np.float64) + 3.0 for _ in range(4)]
    for x in batches:
        y = bn(x)
    axes = (0,) + tuple(range(2, len(shape)))
    cshape = (1, 3) + (1,) * (len(shape) - 2)
    w, b = bn.weight.data.reshape(cshape), bn.bias.data.reshape(cshape)
    last = batches[-1].data
    expected = (last - last.mean(axes, keepdims=True)) / np.sqrt(last.var(axes, keepdims=True) + 1e-5) * w + b
    np.testing.assert_allclose(y.data, expected, rtol=1e-10, atol=1e-12)     # training: batch statistics

    mean, var = numpy_running_stats([x.data for x in batches])
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.data, var, rtol=1e-12)
    assert bn.num_batches_tracked.item() == 4

    bn.eval()
    x = randn(*shape, dtype=np.float64)
    expected = (x.data - mean.reshape(cshape)) / np.sqrt(var.reshape(cshape) + 1e-5) * w + b
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean.data, mean, rtol=1e-12)       # eval leaves them alone
    assert bn.num_batches_tracked.item() == 4


def test_batchnorm_cumulative_average_and_untracked():
    tinygan.manual_seed(0)
    bn = nn.BatchNorm1d(2, momentum=None, dtype=np.float64)
    batches = [randn(5, 2, dtype=np.float64) + i for i in range(3)]
    for x in batches:
        bn(x)
    np.testing.assert_allclose(bn.running_mean.data, np.mean([x.data.mean(0) for x in batches], axis=0))
    np.testing.assert_allclose(bn.running_var.data, np.mean([x.data.var(0, ddof=1) for x in batches], axis=0))

    free = nn.BatchNorm2d(2, affine=False, track_running_stats=False).eval()
    assert list(free.parameters()) == [] and list(free.buffers()) == [] and free.state_dict() == {}
    x = randn(3, 2, 2, 2, dtype=np.float64)
    y = free(x).data                                   # no running stats: batch statistics even in eval
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, rtol=1e-3)


def test_batchnorm_checks_its_input():
    with pytest.raises(ValueError, match="BatchNorm2d"):
        nn.BatchNorm2d(3)(randn(2, 3, 4))
    with pytest.raises(ValueError, match="BatchNorm1d"):
        nn.BatchNorm1d(3)(randn(2, 3, 4, 4))
    with pytest.raises(ValueError, match="channels"):
        nn.BatchNorm2d(3)(randn(2, 4, 2, 2))


def test_instance_norm_affine_and_values():
    tinygan.manual_seed(0)
    assert len(list(nn.InstanceNorm2d(4).parameters())) == 0
    norm = nn.InstanceNorm2d(4, affine=True, dtype=np.float64)
    assert [k for k, _ in norm.named_parameters()] == ["weight", "bias"]
    assert list(nn.InstanceNorm2d(4).state_dict()) == []
    assert "running_mean" in nn.InstanceNorm2d(4, track_running_stats=True).state_dict()
    nn.init.uniform_(norm.weight, 0.5, 2.0)
    nn.init.uniform_(norm.bias, -1.0, 1.0)
    x = 3.0 * randn(2, 4, 3, 5, dtype=np.float64) - 1.0
    a = x.data
    expected = (a - a.mean((2, 3), keepdims=True)) / np.sqrt(a.var((2, 3), keepdims=True) + 1e-5)
    expected = expected * norm.weight.data.reshape(1, 4, 1, 1) + norm.bias.data.reshape(1, 4, 1, 1)
    np.testing.assert_allclose(norm(x).data, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(norm(x[0]).data, expected[0], rtol=1e-10, atol=1e-12)


def test_layer_norm_and_adain_values():
    tinygan.manual_seed(0)
    x = randn(2, 3, 4, dtype=np.float64) * 2 + 1
    a = x.data
    ln = nn.LayerNorm((3, 4), dtype=np.float64)
    assert np.all(ln.weight.data == 1) and not np.any(ln.bias.data)
    expected = (a - a.mean((1, 2), keepdims=True)) / np.sqrt(a.var((1, 2), keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x).data, expected, rtol=1e-10, atol=1e-12)
    assert list(nn.LayerNorm(4, elementwise_affine=False).parameters()) == []

    content, style = randn(2, 3, 4, 4, dtype=np.float64), 3 * randn(2, 3, 5, 5, dtype=np.float64) + 2
    y = nn.AdaIN()(content, style).data
    s = style.data
    np.testing.assert_allclose(y.mean((2, 3)), s.mean((2, 3)), rtol=1e-9)
    np.testing.assert_allclose(y.var((2, 3)), s.var((2, 3)) + 1e-5, rtol=1e-4)


def test_embedding_picks_rows_and_starts_standard_normal():
    tinygan.manual_seed(0)
    emb = nn.Embedding(300, 40)
    assert emb.weight.data.mean() == pytest.approx(0, abs=0.02)
    assert emb.weight.data.std() == pytest.approx(1, abs=0.02)
    idx = tinygan.tensor([[3, 3], [0, 299]])
    np.testing.assert_array_equal(emb(idx).data, emb.weight.data[idx.data])


# ---- PyTorch's default initialisation ------------------------------------------------------
@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(50, 40), 50),
    (lambda: nn.Conv2d(4, 30, 3), 36),
    (lambda: nn.ConvTranspose2d(16, 20, 3), 180),   # weight (C_in, C_out, kh, kw): fan_in = C_out * kh * kw
    (lambda: nn.ConvTranspose2d(30, 2, (3, 2)), 12),
])
def test_default_init_bounds(make, fan_in):
    tinygan.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.data, layer.bias.data
    assert w.dtype == np.float32 and np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.mean()) < 0.1 * bound
    assert np.abs(b).max() <= bound
    if b.size >= 20:
        assert np.abs(b).max() > 0.5 * bound


def test_default_init_follows_the_seed_and_norm_starts_at_identity():
    tinygan.manual_seed(5)
    a = nn.Linear(3, 4)
    tinygan.manual_seed(5)
    b = nn.Linear(3, 4)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    assert not np.array_equal(a.weight.data, nn.Linear(3, 4).weight.data)
    bn = nn.BatchNorm2d(3)
    assert np.all(bn.weight.data == 1) and not np.any(bn.bias.data)
    assert not np.any(bn.running_mean.data) and np.all(bn.running_var.data == 1)


def test_reprs():
    assert repr(nn.ConvTranspose2d(2, 3, 4, 2, 1, output_padding=1)) == (
        "ConvTranspose2d(2, 3, kernel_size=(4, 4), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))")
    assert repr(nn.Conv2d(2, 3, 3, bias=False)) == (
        "Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), bias=False)")
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.ReflectionPad2d(1)) == "ReflectionPad2d((1, 1, 1, 1))"
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Embedding(3, 4)) == "Embedding(3, 4)"


# ---- gradients ----------------------------------------------------------------------------
@settings(deadline=None, max_examples=5)
@given(st.integers(0, 10_000))
def test_gradcheck_linear_leaky_linear(seed):
    tinygan.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2), nn.Linear(4, 2)).double()
    x = tinygan.randn(2, 3, dtype=np.float64, requires_grad=True)
    params = list(model.parameters())
    # gradcheck perturbs every input's array in place, the parameters' included
    assert gradcheck(lambda x, *ps: model(x), (x, *params))


@pytest.mark.parametrize("training", [True, False])
def test_gradcheck_conv_batchnorm_relu(training):
    tinygan.manual_seed(2)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU()).double()
    for _ in range(2):
        model(tinygan.randn(2, 2, 4, 4, dtype=np.float64))   # non-trivial running statistics
    model.train(training)
    nn.init.uniform_(model[1].weight, 0.5, 1.5)
    nn.init.uniform_(model[1].bias, -0.5, 0.5)
    x = tinygan.randn(2, 2, 4, 4, dtype=np.float64, requires_grad=True)
    assert gradcheck(lambda x: model(x), (x,))
    assert gradcheck(lambda x, *ps: model(x), (x, *model.parameters()))


def test_maxout_is_the_max_over_each_units_pieces():
    """h_i = max_j (x W_ij + b_ij), piece j of unit i in column j * out_features + i."""
    tinygan.manual_seed(0)
    layer = nn.Maxout(3, 4, pieces=5)
    x = randn(6, 3)
    z = x.numpy() @ layer.linear.weight.detach().numpy().T + layer.linear.bias.detach().numpy()  # (6, 20)
    np.testing.assert_allclose(layer(x).detach().numpy(), z.reshape(6, 5, 4).max(1), rtol=1e-6)
    assert sorted(dict(layer.named_parameters())) == ["linear.bias", "linear.weight"]
    with pytest.raises(ValueError, match="pieces"):
        nn.Maxout(3, 4, 0)


@settings(deadline=None, max_examples=5)
@given(st.integers(0, 10_000))
def test_gradcheck_maxout(seed):
    """The gradient reaches only the winning piece of each unit (random weights: no ties)."""
    tinygan.manual_seed(seed)
    model = nn.Sequential(nn.Maxout(3, 4, 3), nn.Maxout(4, 2, 2)).double()
    x = tinygan.randn(5, 3, dtype=np.float64, requires_grad=True)
    assert gradcheck(lambda x, *ps: model(x), (x, *model.parameters()))


# ---- against PyTorch ------------------------------------------------------------------------
BAD_CONV = {  # Conv2d arguments PyTorch refuses with a ValueError when the layer is built
    "unknown_padding_string": {"padding": "full"},
    "same_with_stride": {"padding": "same", "stride": 2},
}


@pytest.mark.parametrize("name", list(BAD_CONV))
def test_conv2d_refuses_a_bad_padding_string(name):
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2d(2, 3, 3, **BAD_CONV[name])


@pytest.mark.parametrize("name", list(BAD_CONV))
def test_conv2d_refuses_a_bad_padding_string_against_torch(name):
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="padding"):
        torch.nn.Conv2d(2, 3, 3, **BAD_CONV[name])


@pytest.mark.parametrize("kernel_size, dilation", [((4, 3), (1, 2)), ((2, 2), (3, 1)), ((3, 3), (1, 1))])
def test_conv2d_same_pads_half_each_side_the_odd_one_after(kernel_size, dilation):
    # PyTorch: d (k - 1) zeros per axis, total // 2 before and the rest after
    layer = nn.Conv2d(2, 3, kernel_size, padding="same", dilation=dilation).double()
    (th, tw) = (d * (k - 1) for d, k in zip(dilation, kernel_size))
    x = tinygan.tensor(np.random.default_rng(1).standard_normal((2, 2, 6, 7)))
    padded = tinygan.nn.functional.pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2))
    expected = tinygan.nn.functional.conv2d(padded, layer.weight, layer.bias, dilation=dilation)
    np.testing.assert_allclose(layer(x).detach().numpy(), expected.detach().numpy(), rtol=1e-12)
    assert nn.Conv2d(2, 3, kernel_size, padding="valid", dilation=dilation)(x.float()).shape == (
        2, 3, 6 - th, 7 - tw)


@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_padding_strings_against_torch(padding):
    torch = pytest.importorskip("torch")
    tinygan.manual_seed(0)
    ours = nn.Conv2d(2, 3, (4, 3), padding=padding, dilation=(1, 2)).double()
    theirs = torch.nn.Conv2d(2, 3, (4, 3), padding=padding, dilation=(1, 2)).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 7))
    out, expected = ours(tinygan.tensor(x)), theirs(torch.from_numpy(x))
    assert out.shape == tuple(expected.shape)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.data, theirs.weight.grad.numpy(), rtol=1e-10)


def test_state_dict_loads_into_torch_and_outputs_agree():
    torch = pytest.importorskip("torch")

    def build(lib):
        return lib.Sequential(
            lib.Conv2d(3, 4, 3, padding=1), lib.BatchNorm2d(4), lib.LeakyReLU(0.2),
            lib.ConvTranspose2d(4, 2, 4, stride=2, padding=1), lib.Tanh(),
            lib.Flatten(), lib.Linear(2 * 10 * 10, 3))

    tinygan.manual_seed(0)
    ours = build(nn).double()
    ours(tinygan.randn(4, 3, 5, 5, dtype=np.float64))         # one step: running stats off their init
    theirs = build(torch.nn).double()
    sd = ours.state_dict()
    assert list(sd) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})

    x = np.random.default_rng(0).standard_normal((4, 3, 5, 5))
    v = np.random.default_rng(1).standard_normal((4, 3))
    for training in (True, False):
        ours.train(training)
        theirs.train(training)
        ours.zero_grad()
        theirs.zero_grad()
        out = ours(tinygan.tensor(x))
        expected = theirs(torch.from_numpy(x))
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        (out * tinygan.tensor(v)).sum().backward()
        (expected * torch.from_numpy(v)).sum().backward()
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
            np.testing.assert_allclose(p.grad.data, q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
        for key, value in theirs.state_dict().items():      # running statistics and the batch counter
            np.testing.assert_allclose(ours.state_dict()[key], value.numpy(), rtol=1e-12, err_msg=key)
