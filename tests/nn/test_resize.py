"""Resizing (``F.interpolate``, ``nn.Upsample``): nearest by integer factors both ways, and bilinear with
align_corners=False, by PyTorch's values, against torch where it is installed, with first and second
derivatives checked by finite differences (bilinear upsampling sits inside GAN generators and their penalties)."""
import numpy as np
import pytest

import tinygan
from tinygan import nn
from tinygan.gradcheck import gradcheck, gradgradcheck
from tinygan.nn import functional as F

X = np.arange(12, dtype=np.float64).reshape(1, 1, 3, 4) ** 1.5
TORCH_2x5 = [[2.0, 3.081559, 4.67032, 6.615042, 8.527179], [18.970563, 21.822728, 25.218201, 28.771588, 31.992219]]


def test_bilinear_matches_pytorchs_values():
    out = F.interpolate(tinygan.tensor(X), size=(2, 5), mode="bilinear", align_corners=False).numpy()
    np.testing.assert_allclose(out[0, 0], TORCH_2x5, atol=1e-6)


@pytest.mark.parametrize("kw", [{"scale_factor": 2}, {"size": (9, 4)}, {"size": (3, 3)}, {"scale_factor": 1.5},
                                {"scale_factor": (0.5, 3)}])
def test_bilinear_against_torch(kw):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 7))
    ours = F.interpolate(tinygan.tensor(x), mode="bilinear", align_corners=False, **kw).numpy()
    theirs = torch.nn.functional.interpolate(torch.tensor(x), mode="bilinear", align_corners=False, **kw).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_bilinear_first_and_second_derivatives():
    x = tinygan.randn(1, 2, 3, 4, dtype=np.float64, requires_grad=True)
    up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
    assert gradcheck(lambda x: up(x), (x,))
    assert gradgradcheck(lambda x: (up(x) ** 2), (x,))


def test_bilinear_of_a_constant_is_the_constant():
    out = F.interpolate(tinygan.full((1, 1, 3, 3), 2.5), size=(7, 5), mode="bilinear").numpy()
    np.testing.assert_allclose(out, 2.5, rtol=1e-6)


def test_nearest_down_and_up():
    x = tinygan.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(F.interpolate(x, size=(2, 2)).numpy()[0, 0], [[0, 2], [8, 10]])
    np.testing.assert_array_equal(F.interpolate(x, scale_factor=2).numpy()[0, 0, :2, :2], [[0, 0], [0, 0]])


def test_resize_errors_name_the_argument():
    x = tinygan.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="align_corners=False"):
        F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    with pytest.raises(ValueError, match="'nearest' or 'bilinear'"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match="align_corners is for mode='bilinear'"):
        F.interpolate(x, scale_factor=2, align_corners=False)
    with pytest.raises(ValueError, match=r"expects an input \(N, C, H, W\)"):
        F.interpolate(tinygan.zeros(1, 1, 4), scale_factor=2, mode="bilinear")
