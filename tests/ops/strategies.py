"""Hypothesis strategies shared by the op tests: small shapes, broadcastable pairs, float64 arrays.

Gradients are checked by central differences (``tinygan.gradcheck``, eps = 1e-6), which are
only right where the op is smooth. So generated values keep a margin from the kinks:
``arrays(..., avoid=(0.0,))`` pushes every element at least ``gap`` away from 0 (relu, abs),
and ``distinct_arrays`` spaces all elements apart (max/min without ties).
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygan
from tinygan import Tensor

# every property runs float64 gradchecks on tiny shapes: fast, but too uneven for a deadline
SETTINGS = settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(SETTINGS, max_examples=15)  # for the costlier gradgradchecks


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes like (), (3,), (2, 1, 4)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_pairs(min_dims: int = 0, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy:
    """Pairs of shapes that broadcast together, scalars () included: ((2, 1, 3), (4, 1))."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=min_dims, max_dims=max_dims,
                                             min_side=1, max_side=max_side).map(lambda b: b.input_shapes)


def _resolve(draw, shape) -> tuple:
    """``shape`` as a tuple: given, drawn from a strategy, or (None) drawn from ``shapes()``."""
    if shape is None:
        shape = shapes()
    return shape if isinstance(shape, tuple) else draw(shape)


@st.composite
def arrays(draw, shape=None, lo: float = -2.0, hi: float = 2.0, avoid=(), gap: float = 0.1) -> np.ndarray:
    """A float64 array with values in [lo, hi], each at least ``gap`` away from the points in ``avoid``."""
    shape = _resolve(draw, shape)
    a = draw(hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_subnormal=False)))
    for k in avoid:
        a = np.where(np.abs(a - k) < gap, k + np.where(a >= k, gap, -gap), a)
    return a


def positive(shape=None, lo: float = 0.5, hi: float = 3.0) -> st.SearchStrategy:
    """Values in [lo, hi]: the domain of log, sqrt and fractional powers."""
    return arrays(shape, lo, hi)


@st.composite
def distinct_arrays(draw, shape=None, spacing: float = 0.3) -> np.ndarray:
    """A float64 array whose elements differ pairwise by at least ``spacing`` (no ties for max/min)."""
    shape = _resolve(draw, shape)
    n = math.prod(shape)
    order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
    shift = draw(st.floats(-1.0, 1.0))
    return ((order - n / 2) * spacing + shift).reshape(shape)


@st.composite
def dims(draw, ndim: int, allow_none: bool = True, allow_tuple: bool = True):
    """A ``dim`` argument for a reduction over an ``ndim``-dim tensor: None, an int or a tuple, maybe negative."""
    if ndim == 0:
        return None
    choices = [st.none()] if allow_none else []
    choices.append(st.integers(-ndim, ndim - 1))
    if allow_tuple:
        choices.append(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
            lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes])))
    return draw(st.one_of(choices))


def leaf(a) -> Tensor:
    """A float64 leaf tensor that requires grad, holding a copy of ``a``."""
    return tinygan.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)
