"""tinygan.optim against NumPy re-implementations of the update formulas and against torch.optim."""
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygan
from tinygan import optim
from tinygan.tensor import Tensor

# ---- straightforward NumPy references, written from the formulas in the docstrings --------------


def ref_sgd(p, grads, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, maximize=False):
    buf = None
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum != 0:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def ref_adam(p, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, maximize=False):
    (b1, b2), m, v, vmax = betas, 0.0, 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g ** 2
        vmax = np.maximum(vmax, v)
        denom = np.sqrt(vmax if amsgrad else v) / np.sqrt(1 - b2 ** t) + eps
        p = p - lr / (1 - b1 ** t) * m / denom
    return p


def ref_rmsprop(p, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                maximize=False):
    square_avg, grad_avg, buf = 0.0, 0.0, 0.0
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        square_avg = alpha * square_avg + (1 - alpha) * g ** 2
        grad_avg = alpha * grad_avg + (1 - alpha) * g
        denom = np.sqrt(square_avg - grad_avg ** 2 if centered else square_avg) + eps
        if momentum > 0:
            buf = momentum * buf + g / denom
            p = p - lr * buf
        else:
            p = p - lr * g / denom
    return p


REFERENCES = {optim.SGD: ref_sgd, optim.Adam: ref_adam, optim.RMSprop: ref_rmsprop}
CONFIGS = [
    (optim.SGD, {"lr": 0.1}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.8, "nesterov": True}),
    (optim.SGD, {"lr": 0.1, "weight_decay": 0.1}),
    (optim.SGD, {"lr": 0.1, "maximize": True}),
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05, "maximize": True}),
    (optim.Adam, {"lr": 0.1}),
    (optim.Adam, {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3}),
    (optim.Adam, {"lr": 0.1, "weight_decay": 0.1}),
    (optim.Adam, {"lr": 0.1, "amsgrad": True}),
    (optim.Adam, {"lr": 0.1, "maximize": True}),
    (optim.Adam, {"lr": 0.1, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    (optim.RMSprop, {"lr": 0.01}),
    (optim.RMSprop, {"lr": 0.01, "momentum": 0.9}),
    (optim.RMSprop, {"lr": 0.01, "centered": True}),
    (optim.RMSprop, {"lr": 0.01, "weight_decay": 0.1, "alpha": 0.9}),
    (optim.RMSprop, {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1, "maximize": True}),
]
IDS = [f"{cls.__name__}-" + "-".join(f"{k}={v}" for k, v in kw.items()) for cls, kw in CONFIGS]


def make_grads(steps, shape, seed=0):
    """Gradients that shrink from step to step, so AMSGrad's running max matters."""
    rng = np.random.default_rng(seed)
    scales = np.array([2.0, 1.0, 0.05, 0.5, 0.01])[:steps].reshape((steps,) + (1,) * len(shape))
    return rng.standard_normal((steps,) + shape) * scales


def run_steps(cls, kwargs, p0s, grads_per_param):
    """Steps of a tinygan optimizer over several parameters with given gradient arrays."""
    params = [Tensor(p0.copy(), requires_grad=True) for p0 in p0s]
    opt = cls(params, **kwargs)
    for step_grads in zip(*grads_per_param):
        for p, g in zip(params, step_grads):
            p.grad = Tensor(g)
        opt.step()
    return params, opt


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_matches_numpy_reference(cls, kwargs):
    rng = np.random.default_rng(1)
    p0s = [rng.standard_normal((2, 3)), np.array(0.7)]  # a matrix and a 0-d parameter
    grads = [make_grads(3, p.shape, seed=i) for i, p in enumerate(p0s)]
    originals = [g.copy() for g in grads]
    params, _ = run_steps(cls, kwargs, p0s, grads)
    for p, p0, g, g0 in zip(params, p0s, grads, originals):
        np.testing.assert_allclose(p.data, REFERENCES[cls](p0, g0, **kwargs), rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(g, g0)  # gradient arrays are never written
        assert not np.allclose(p.data, p0)


@pytest.mark.parametrize(("cls", "kwargs"), CONFIGS, ids=IDS)
def test_matches_torch(cls, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    p0 = rng.standard_normal((3, 4))
    grads = make_grads(5, p0.shape, seed=3)
    (p,), _ = run_steps(cls, kwargs, [p0], [grads])
    tp = torch.tensor(p0, requires_grad=True)
    topt = getattr(torch.optim, cls.__name__)([tp], **kwargs)
    for g in grads:
        tp.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_adam_lets_nan_and_inf_gradients_flow_as_torch_does(dtype):
    """A NaN or infinite gradient entry makes that parameter entry NaN and leaves the others alone,
    without raising (the fused Numba loop once raised ZeroDivisionError here): the training loop's
    guard then names the step. Compared with torch where it is installed, with ref_adam always."""
    p0 = np.array([1.0, 1.0, 1.0, 1.0])
    grads = np.array([[np.nan, np.inf, 0.5, 0.0]] * 2)
    (p,), _ = run_steps(optim.Adam, {"lr": 1e10}, [p0.astype(dtype)], [grads.astype(dtype)])
    with np.errstate(invalid="ignore"):
        expected = ref_adam(p0, grads, lr=1e10)
    np.testing.assert_allclose(p.data, expected, rtol=1e-5)  # NaN where expected is NaN, and only there
    assert np.isnan(p.data[:2]).all() and np.isfinite(p.data[2:]).all()
    torch = pytest.importorskip("torch")
    tp = torch.tensor(p0.astype(dtype), requires_grad=True)
    topt = torch.optim.Adam([tp], lr=1e10)
    for g in grads.astype(dtype):
        tp.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-5)


@settings(deadline=None, max_examples=30)
@given(data=st.data())
def test_random_hyperparameters_match_reference(data):
    cls = data.draw(st.sampled_from([optim.SGD, optim.Adam, optim.RMSprop]))
    unit = st.floats(0.0, 0.99)
    kwargs = {"lr": data.draw(st.floats(1e-4, 1.0)), "weight_decay": data.draw(st.floats(0.0, 0.5)),
              "maximize": data.draw(st.booleans())}
    if cls is optim.SGD:
        kwargs.update(momentum=data.draw(unit), nesterov=data.draw(st.booleans()))
        kwargs["nesterov"] &= kwargs["momentum"] > 0
    elif cls is optim.Adam:
        kwargs.update(betas=(data.draw(unit), data.draw(unit)), eps=data.draw(st.floats(1e-8, 1e-2)),
                      amsgrad=data.draw(st.booleans()))
    else:
        kwargs.update(alpha=data.draw(unit), momentum=data.draw(unit), centered=data.draw(st.booleans()),
                      eps=data.draw(st.floats(1e-8, 1e-2)))
    p0 = np.random.default_rng(4).standard_normal((3,))
    grads = make_grads(4, p0.shape, seed=data.draw(st.integers(0, 100)))
    (p,), _ = run_steps(cls, kwargs, [p0], [grads])
    np.testing.assert_allclose(p.data, REFERENCES[cls](p0, grads, **kwargs), rtol=1e-10, atol=1e-12)


def test_updates_in_place_and_keeps_dtype():
    p = Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    view = p.data[0]  # a reference that must see the update
    opt = optim.Adam([p], lr=0.1, amsgrad=True)
    shared = np.full((2, 2), 0.5, np.float32)
    p.grad = Tensor(shared)
    opt.step()
    assert p.data.dtype == np.float32 and all(v.dtype == np.float32 for k, v in opt.state[p].items() if k != "step")
    np.testing.assert_allclose(view, 0.9, rtol=1e-6)  # first Adam step moves by lr * sign(g)
    np.testing.assert_array_equal(shared, 0.5)


# ---- bookkeeping ----------------------------------------------------------------------------------


def test_zero_grad():
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(3), requires_grad=True)
    shared = np.ones(3)
    a.grad, b.grad = Tensor(shared), Tensor(shared)
    opt = optim.SGD([a, b])
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(a.grad.data, 0.0)
    assert a.grad.data is not shared and a.grad.data is not b.grad.data
    np.testing.assert_array_equal(shared, 1.0)  # zeroed by replacement, not by writing the shared array
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_params_without_grad_are_skipped():
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = Tensor(np.ones(3))
    opt.step()
    np.testing.assert_array_equal(b.data, 1.0)
    assert not np.allclose(a.data, 1.0)
    assert opt.state.get(b, {}) == {} and opt.state[a]["step"] == 1
    assert list(opt.state_dict()["state"]) == [0]


def test_param_groups_with_different_lr():
    a, b = Tensor(np.zeros(2), requires_grad=True), Tensor(np.zeros(2), requires_grad=True)
    opt = optim.SGD([{"params": [a], "lr": 0.1}, {"params": b}], lr=0.01, momentum=0.5)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert all(g["momentum"] == 0.5 for g in opt.param_groups)
    a.grad, b.grad = Tensor(np.ones(2)), Tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(a.data, -0.1)
    np.testing.assert_allclose(b.data, -0.01)


def test_step_closure_returns_loss():
    x = Tensor(np.array(1.0), requires_grad=True)
    opt = optim.SGD([x], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 1.0
    assert x.item() == 0.5


@pytest.mark.parametrize(("make", "match"), [
    (lambda p: optim.SGD(p, lr=-0.1), r"SGD.*lr.*-0\.1"),
    (lambda p: optim.SGD(p, momentum=-0.5), r"SGD.*momentum.*-0\.5"),
    (lambda p: optim.SGD(p, weight_decay=-1.0), r"SGD.*weight_decay.*-1\.0"),
    (lambda p: optim.SGD(p, nesterov=True), r"SGD.*nesterov.*momentum=0"),
    (lambda p: optim.SGD(p, momentum=0.9, dampening=0.1, nesterov=True), r"SGD.*dampening=0\.1"),
    (lambda p: optim.Adam(p, lr=-1.0), r"Adam.*lr.*-1\.0"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.999)), r"Adam.*index 0: 1\.0"),
    (lambda p: optim.Adam(p, betas=(0.9, -0.1)), r"Adam.*index 1: -0\.1"),
    (lambda p: optim.Adam(p, eps=-1e-8), r"Adam.*eps.*-1e-08"),
    (lambda p: optim.Adam([{"params": p, "lr": -2.0}]), r"Adam.*lr.*-2\.0"),
    (lambda p: optim.RMSprop(p, alpha=-0.9), r"RMSprop.*alpha.*-0\.9"),
    (lambda p: optim.RMSprop(p, momentum=-0.9), r"RMSprop.*momentum.*-0\.9"),
    (lambda p: optim.RMSprop(p, eps=-1.0), r"RMSprop.*eps.*-1\.0"),
    (lambda p: optim.Adam([]), r"Adam.*empty"),
    (lambda p: optim.Adam(p + p), r"Adam.*more than once"),
    (lambda p: optim.SGD([p[0] * 2]), r"SGD.*non-leaf"),
])
def test_invalid_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make([Tensor(np.ones(2), requires_grad=True)])


def test_single_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(Tensor(np.ones(2), requires_grad=True))


# ---- checkpoints ------------------------------------------------------------------------------------


def save_and_load(flat):
    """Through an .npz file without pickle, as the checkpoint writer does."""
    buf = io.BytesIO()
    np.savez(buf, **flat)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


ROUND_TRIP = [(optim.SGD, {"momentum": 0.9, "nesterov": True}), (optim.Adam, {"amsgrad": True}),
              (optim.RMSprop, {"momentum": 0.5, "centered": True})]


@pytest.mark.parametrize(("cls", "kwargs"), ROUND_TRIP, ids=[c.__name__ for c, _ in ROUND_TRIP])
def test_state_dict_round_trip(cls, kwargs):
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal((4, 3, 2)), rng.standard_normal((4,))]

    def groups(params):
        return [{"params": [params[0]], "lr": 0.05}, {"params": [params[1]], "lr": 0.02}]

    params = [Tensor(rng.standard_normal((3, 2)), requires_grad=True), Tensor(np.array(0.3), requires_grad=True)]
    opt = cls(groups(params), **kwargs)
    for t in range(2):
        for p, g in zip(params, grads):
            p.grad = Tensor(g[t])
        opt.step()
    flat = optim.flatten_state_dict(opt.state_dict())
    assert all(isinstance(v, np.ndarray) for v in flat.values())
    assert flat["param_groups.1.lr"].shape == () and flat["param_groups.1.params"].tolist() == [1]
    restored = optim.unflatten_state_dict(save_and_load(flat))

    copies = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    fresh = cls(copies, lr=0.5)  # different hyperparameters and a single group ...
    with pytest.raises(ValueError, match="parameter groups"):
        fresh.load_state_dict(restored)
    resumed = cls(groups(copies), lr=0.5)  # ... the groups must match; their lr comes from the file
    resumed.load_state_dict(restored)
    assert [g["lr"] for g in resumed.param_groups] == [0.05, 0.02]
    for t in range(2, 4):
        for p, q, g in zip(params, copies, grads):
            p.grad, q.grad = Tensor(g[t]), Tensor(g[t])
        opt.step()
        resumed.step()
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(p.data, q.data)


def test_state_dict_is_a_snapshot_and_load_casts_to_param_dtype():
    p = Tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([p])
    p.grad = Tensor(np.ones(3))
    opt.step()
    sd = opt.state_dict()
    assert sd["state"][0]["step"] == 1 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    saved = sd["state"][0]["exp_avg"].copy()
    opt.step()
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"], saved)  # later steps leave it alone

    q = Tensor(np.ones(3, np.float32), requires_grad=True)
    other = optim.Adam([q])
    other.load_state_dict(sd)
    assert other.state[q]["exp_avg"].dtype == np.float32 and other.state[q]["step"] == 1
    sd["state"][0]["exp_avg"][:] = 7.0
    assert not np.any(other.state[q]["exp_avg"] == 7.0)  # loaded state is a copy


def test_flatten_with_prefix_keeps_optimizers_apart():
    a, b = Tensor(np.ones(2), requires_grad=True), Tensor(np.ones(5), requires_grad=True)
    opt_d, opt_g = optim.Adam([a], lr=0.1), optim.RMSprop([b], lr=0.2)
    a.grad, b.grad = Tensor(np.ones(2)), Tensor(np.ones(5))
    opt_d.step()
    opt_g.step()
    flat = {**optim.flatten_state_dict(opt_d.state_dict(), prefix="opt_D."),
            **optim.flatten_state_dict(opt_g.state_dict(), prefix="opt_G."), "model.weight": np.zeros(3)}
    assert "opt_D.state.0.exp_avg" in flat and "opt_G.state.0.square_avg" in flat
    sd_g = optim.unflatten_state_dict(save_and_load(flat), prefix="opt_G.")
    assert sd_g["param_groups"][0]["lr"] == 0.2 and set(sd_g["state"][0]) == {"step", "square_avg"}
    assert sd_g["state"][0]["step"] == 1 and isinstance(sd_g["state"][0]["step"], int)


def test_load_state_dict_shape_mismatch():
    p = Tensor(np.ones((3, 2)), requires_grad=True)
    opt = optim.Adam([p])
    p.grad = Tensor(np.ones((3, 2)))
    opt.step()
    q = Tensor(np.ones((2, 3)), requires_grad=True)
    other = optim.Adam([q])
    with pytest.raises(ValueError, match=r"Adam\.load_state_dict.*parameter 0.*\(3, 2\).*\(2, 3\)"):
        other.load_state_dict(opt.state_dict())
    assert len(other.state) == 0  # nothing was loaded
    two = optim.Adam([q, Tensor(np.ones(1), requires_grad=True)])
    with pytest.raises(ValueError, match=r"Adam\.load_state_dict: parameter group 0 has 1"):
        two.load_state_dict(opt.state_dict())


# ---- learning ---------------------------------------------------------------------------------------


def test_adam_minimises_a_quadratic():
    x = tinygan.tensor(0.0, dtype="float64", requires_grad=True)
    opt = optim.Adam([x], lr=0.1)
    for _ in range(400):
        opt.zero_grad()
        loss = (x - 3.0) ** 2
        loss.backward()
        opt.step()
    assert abs(x.item() - 3.0) < 1e-3


def test_adam_on_a_large_parameter_matches_the_reference():
    """A parameter of at least kernels.cpu_numba.PARALLEL_MIN entries takes the parallel Adam loop."""
    from tinygan.kernels.cpu_numba import PARALLEL_MIN
    rng = np.random.default_rng(4)
    p0 = rng.standard_normal(PARALLEL_MIN + 5)
    grads = make_grads(3, p0.shape, seed=5)
    kwargs = {"lr": 1e-2, "betas": (0.8, 0.99), "weight_decay": 0.1}
    (p,), _ = run_steps(optim.Adam, kwargs, [p0], [[g.copy() for g in grads]])
    np.testing.assert_allclose(p.data, REFERENCES[optim.Adam](p0, grads, **kwargs), rtol=1e-12, atol=1e-14)
