"""nn.utils.weight_norm (w = g v / ||v||), nn.GaussianNoise and nn.Softplus: values, gradients, PyTorch's names."""
import numpy as np
import pytest

import tinygan
from tinygan import nn
from tinygan.gradcheck import gradcheck


def _wn_linear(n_in=5, n_out=3, dtype=np.float64):
    tinygan.manual_seed(0)
    return nn.utils.weight_norm(nn.Linear(n_in, n_out).to(dtype=dtype))


def test_weight_norm_keeps_the_function_and_takes_pytorchs_names():
    tinygan.manual_seed(0)
    lin = nn.Linear(5, 3)
    w, b = lin.weight.data.copy(), lin.bias.data.copy()
    nn.utils.weight_norm(lin)
    assert list(lin.state_dict()) == ["bias", "weight_g", "weight_v"]  # as torch.nn.utils.weight_norm
    assert lin.weight_g.shape == (3, 1) and lin.weight_v.shape == (3, 5)
    np.testing.assert_allclose(lin.weight_g.data[:, 0], np.linalg.norm(w, axis=1), rtol=1e-6)
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    np.testing.assert_allclose(lin(tinygan.tensor(x)).detach().numpy(), x @ w.T + b, rtol=1e-5, atol=1e-6)


def test_weight_norm_computes_g_v_over_norm_v():
    lin = _wn_linear()
    rng = np.random.default_rng(1)
    lin.weight_g.data[...] = rng.uniform(0.5, 2.0, (3, 1))
    lin.weight_v.data[...] = rng.standard_normal((3, 5))
    x = rng.standard_normal((2, 5))
    v, g = lin.weight_v.data, lin.weight_g.data
    expected = x @ (g * v / np.linalg.norm(v, axis=1, keepdims=True)).T + lin.bias.data
    np.testing.assert_allclose(lin(tinygan.tensor(x)).detach().numpy(), expected, rtol=1e-12)
    assert [n for n, _ in lin.named_parameters()] == ["bias", "weight_g", "weight_v"]  # w is not a parameter


def test_weight_norm_gradcheck():
    """Gradients reach g, v, b and the input through w = g v / ||v|| (float64 central differences)."""
    rng = np.random.default_rng(2)
    g, v, b, x = (tinygan.tensor(rng.standard_normal(shape), requires_grad=True)
                  for shape in ((3, 1), (3, 5), (3,), (4, 5)))

    def layer(g, v, b, x):  # the weight-normed Linear as a function of its parameters, through its own code
        lin = nn.utils.weight_norm(nn.Linear(5, 3))
        lin._parameters.update(weight_g=g, weight_v=v, bias=b)  # the tensors under test, graph and all
        return lin(x)

    assert gradcheck(layer, (g, v, b, x))


def test_weight_norm_along_dim_1_and_errors():
    tinygan.manual_seed(0)
    lin = nn.utils.weight_norm(nn.Linear(5, 3), dim=1)
    assert lin.weight_g.shape == (1, 5)
    with pytest.raises(TypeError, match="not a Parameter"):
        nn.utils.weight_norm(nn.ReLU())


def test_data_dependent_init_gives_unit_preactivations():
    """Salimans & Kingma 2016, Sec. 3: after the init, each weight-normed unit's pre-activation on the batch
    has mean 0 and std 1, layer after layer (the biases included)."""
    tinygan.manual_seed(0)
    layers = [nn.utils.weight_norm(nn.Linear(6, 8)), nn.ReLU(), nn.utils.weight_norm(nn.Linear(8, 3))]
    x = tinygan.tensor(np.random.default_rng(0).uniform(0, 5, (50, 6)).astype(np.float32))
    out = nn.utils.data_dependent_init_(layers, x).numpy()
    h = layers[1](layers[0](x)).detach()
    np.testing.assert_allclose(layers[0](x).detach().numpy().mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(layers[0](x).detach().numpy().std(0), 1, rtol=1e-4)
    np.testing.assert_allclose(out, layers[2](h).detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, rtol=1e-4)


def test_gaussian_noise_in_training_only():
    layer = nn.GaussianNoise(0.5)
    x = tinygan.zeros(200, 500)
    tinygan.manual_seed(3)
    a = layer(x).numpy()
    assert abs(a.std() - 0.5) < 0.01 and abs(a.mean()) < 0.01
    tinygan.manual_seed(3)
    np.testing.assert_array_equal(layer(x).numpy(), a)  # drawn from tinygan's seeded generator
    layer.eval()
    assert layer(x) is x
    with pytest.raises(ValueError, match="std must be >= 0"):
        nn.GaussianNoise(-1.0)


def test_softplus_layer():
    x = tinygan.tensor(np.array([-30.0, 0.0, 2.0]), requires_grad=True)
    np.testing.assert_allclose(nn.Softplus()(x).detach().numpy(), np.log1p(np.exp([-30.0, 0.0, 2.0])), rtol=1e-12)
    assert gradcheck(nn.Softplus(), (x,))
