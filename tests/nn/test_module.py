"""Module, Parameter, Sequential and ModuleList: registration, naming, modes, moves and checkpoints.

Expected names and orders are PyTorch's (checked against torch 2.x by hand).
"""
import copy
import re

import numpy as np
import pytest

import tinygan
from tinygan import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.body = nn.Sequential(nn.Linear(4, 4), nn.Sequential(nn.Linear(4, 2), nn.BatchNorm1d(2)))
        self.scale = nn.Parameter(tinygan.ones(1))   # assigned after the children, listed before them
        self.register_buffer("steps", tinygan.zeros(1))

    def forward(self, x):
        return self.body(self.fc(x).relu()) * self.scale


def small_model(seed: int) -> nn.Module:
    tinygan.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.LeakyReLU(0.2), nn.Linear(5, 2))


def test_parameter_is_a_leaf_that_requires_grad_and_shares_its_array():
    t = tinygan.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, tinygan.Tensor) and p.is_leaf and p.requires_grad
    assert p.data is t.data
    assert not nn.Parameter(np.zeros(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")


def test_names_and_order_follow_pytorch():
    net = Net()
    assert [k for k, _ in net.named_parameters()] == [
        "scale", "fc.weight", "fc.bias", "body.0.weight", "body.0.bias", "body.1.0.weight", "body.1.0.bias",
        "body.1.1.weight", "body.1.1.bias"]
    assert list(net.state_dict()) == [
        "scale", "steps", "fc.weight", "fc.bias", "body.0.weight", "body.0.bias", "body.1.0.weight",
        "body.1.0.bias", "body.1.1.weight", "body.1.1.bias", "body.1.1.running_mean", "body.1.1.running_var",
        "body.1.1.num_batches_tracked"]
    assert [k for k, _ in net.named_modules()] == [
        "", "fc", "body", "body.0", "body.1", "body.1.0", "body.1.1"]
    assert [k for k, _ in net.named_buffers()] == [
        "steps", "body.1.1.running_mean", "body.1.1.running_var", "body.1.1.num_batches_tracked"]
    assert [k for k, _ in net.named_children()] == ["fc", "body"]
    assert [k for k, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert list(net.parameters()) == [p for _, p in net.named_parameters()]


def test_nested_sequential_names():
    seq = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2), nn.Tanh()))
    assert [k for k, _ in seq.named_parameters()] == ["0.weight", "0.bias", "1.0.weight", "1.0.bias"]


def test_reassigning_keeps_order_and_plain_values_replace_nothing():
    lin = nn.Linear(2, 3)
    lin.weight = nn.Parameter(tinygan.zeros(3, 2))
    assert [k for k, _ in lin.named_parameters()] == ["weight", "bias"]
    assert np.all(lin.weight.data == 0)
    lin.bias = None
    assert lin.bias is None and [k for k, _ in lin.named_parameters()] == ["weight"]
    with pytest.raises(TypeError, match="parameter 'weight'"):
        lin.weight = tinygan.zeros(3, 2)          # a plain Tensor is not a Parameter
    lin.note = "hello"                            # any other value is an ordinary attribute
    assert lin.note == "hello" and "note" not in dict(lin.named_parameters())
    del lin.weight
    assert list(lin.parameters()) == []
    with pytest.raises(AttributeError, match="no attribute 'weight'"):
        _ = lin.weight


def test_buffers_persistent_and_not():
    m = nn.Module()
    m.register_buffer("kept", tinygan.ones(2))
    m.register_buffer("scratch", tinygan.zeros(2), persistent=False)
    assert [k for k, _ in m.named_buffers()] == ["kept", "scratch"]
    assert list(m.state_dict()) == ["kept"]
    m.kept = tinygan.full((2,), 3.0)              # assigning a Tensor to a buffer name replaces the buffer
    assert m.state_dict()["kept"].tolist() == [3.0, 3.0]
    with pytest.raises(TypeError):
        m.register_buffer("bad", np.zeros(2))
    with pytest.raises(KeyError):
        m.register_buffer("a.b", tinygan.zeros(1))


def test_shared_parameter_listed_once_but_saved_under_every_name():
    a = nn.Linear(2, 2)
    seq = nn.Sequential(a, nn.Tanh(), a)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(seq.modules())) == 3         # Sequential, Linear, Tanh: the shared Linear once


def test_state_dict_holds_numpy_copies_with_pytorch_dtypes():
    model = small_model(0)
    sd = model.state_dict()
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    assert sd["1.num_batches_tracked"].dtype == np.int64 and sd["1.num_batches_tracked"].shape == ()
    assert sd["0.weight"].dtype == np.float32 and sd["0.weight"].shape == (5, 3)
    sd["0.weight"][...] = 7.0
    assert not np.any(model[0].weight.data == 7.0)


def test_state_dict_round_trip_gives_identical_outputs():
    model = small_model(0)
    x = tinygan.randn(6, 3)
    for _ in range(3):                            # move the running statistics away from their init
        model(tinygan.randn(6, 3))
    model.eval()
    saved = model.state_dict()
    other = small_model(1).eval()
    assert not np.allclose(other(x).data, model(x).data)
    result = other.load_state_dict(saved)
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(other(x).data, model(x).data)
    assert int(other[1].num_batches_tracked.item()) == 3
    other.train()
    model.train()
    np.testing.assert_array_equal(other(x).data, model(x).data)


def test_load_state_dict_copies_into_existing_arrays_and_casts():
    model = small_model(0)
    arrays = [t.data for _, t in model._named_state()]
    sd = {k: v.astype(np.float64) if v.dtype == np.float32 else v
          for k, v in small_model(1).state_dict().items()}
    sd["0.bias"] = tinygan.tensor(sd["0.bias"])   # Tensors are accepted too
    model.load_state_dict(sd)
    assert [t.data for _, t in model._named_state()] == arrays       # same array objects
    assert model[0].weight.dtype == np.float32
    np.testing.assert_allclose(model[0].weight.data, small_model(1)[0].weight.data)


def test_batchnorm_state_dict_without_num_batches_tracked_loads_and_keeps_the_counter():
    """Older PyTorch checkpoints lack ``num_batches_tracked``; PyTorch loads them and keeps its counter."""
    model = small_model(0)
    for _ in range(2):
        model(tinygan.randn(6, 3))
    sd = small_model(1).state_dict()
    del sd["1.num_batches_tracked"]
    result = model.load_state_dict(sd)                 # strict, and no KeyError
    assert result.missing_keys == []
    assert int(model[1].num_batches_tracked.item()) == 2
    np.testing.assert_array_equal(model[1].running_mean.data, sd["1.running_mean"])
    del sd["1.running_mean"]                           # other buffers are still required
    with pytest.raises(KeyError, match=r"1\.running_mean"):
        model.load_state_dict(sd)


def test_strict_loading_reports_missing_and_unexpected_keys():
    model = small_model(0)
    sd = model.state_dict()
    del sd["3.bias"]
    with pytest.raises(KeyError, match=r"3\.bias"):
        small_model(1).load_state_dict(sd)
    sd = model.state_dict()
    sd["extra.weight"] = np.zeros(2)
    with pytest.raises(KeyError, match=r"extra\.weight"):
        small_model(1).load_state_dict(sd)
    del sd["3.bias"]
    target = small_model(1)
    result = target.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["3.bias"] and result.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(target[3].weight.data, model[3].weight.data)
    assert not np.array_equal(target[3].bias.data, model[3].bias.data)


def test_shape_mismatch_raises_and_copies_nothing():
    model = small_model(0)
    sd = model.state_dict()
    sd["3.weight"] = np.zeros((2, 4), np.float32)
    target = small_model(1)
    before = target.state_dict()
    with pytest.raises(ValueError) as err:
        target.load_state_dict(sd)
    message = str(err.value)
    assert "load_state_dict" in message and "3.weight" in message
    assert "(2, 4)" in message and "(2, 5)" in message
    for k, v in target.state_dict().items():     # not even the keys before 3.weight were loaded
        np.testing.assert_array_equal(v, before[k])
    with pytest.raises(ValueError, match="load_state_dict"):
        target.load_state_dict(sd, strict=False)


def test_train_and_eval_reach_every_submodule():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.body.train()
    assert not net.training and not net.fc.training and all(m.training for m in net.body.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_sets_none_or_zeros():
    model = small_model(0)
    model(tinygan.randn(4, 3)).sum().backward()
    assert all(p.grad is not None and np.any(p.grad.data != 0) for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and p.grad.shape == p.shape and not np.any(p.grad.data)
               for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_requires_grad_switches_every_parameter():
    model = small_model(0)
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    assert not model(tinygan.randn(4, 3)).requires_grad
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_to_double_keeps_the_parameter_objects():
    model = small_model(0)
    params = list(model.parameters())
    model(tinygan.randn(4, 3)).sum().backward()
    weight = model[0].weight.data.copy()
    assert model.to(tinygan.float64) is model
    assert all(a is b for a, b in zip(model.parameters(), params, strict=True))   # the same objects
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in params)
    assert model[1].running_mean.dtype == np.float64
    assert model[1].num_batches_tracked.dtype == np.int64   # integer buffers keep their dtype
    np.testing.assert_array_equal(model[0].weight.data, weight)
    out = model(tinygan.randn(4, 3, dtype=np.float64))
    assert out.dtype == np.float64
    # an "optimizer" holding the old objects still updates the model
    for p in params:
        p.data = p.data - 0.1 * p.grad.data
    np.testing.assert_allclose(model[0].weight.data, weight - 0.1 * params[0].grad.data)
    model.float()
    assert all(p.dtype == np.float32 for p in model.parameters())
    model.to(np.dtype("float64"))
    assert model[3].bias.dtype == np.float64
    assert model.double() is model and model.cpu() is model and model.device == "cpu"
    with pytest.raises(TypeError):
        model.to(np.int64)


def test_device_property_and_apply_order():
    assert nn.ReLU().device == "cpu" and small_model(0).device == "cpu"
    visited = []
    model = small_model(0)
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "BatchNorm1d", "LeakyReLU", "Linear", "Sequential"]

    def init_fn(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
    model.apply(init_fn)
    assert not np.any(model[0].weight.data) and not np.any(model[3].weight.data)


def test_sequential_indexing_and_containers():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and list(seq) == layers and seq[-1] is layers[2] and seq[0] is layers[0]
    head = seq[1:]
    assert isinstance(head, nn.Sequential) and list(head) == layers[1:]
    assert [k for k, _ in head.named_parameters()] == ["2.weight", "2.bias"]   # names kept, as PyTorch
    with pytest.raises(IndexError):
        seq[3]
    x = tinygan.randn(4, 2)
    np.testing.assert_allclose(seq(x).data, layers[2](layers[1](layers[0](x))).data)
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and isinstance(seq[3], nn.Sigmoid)

    blocks = nn.ModuleList([nn.Linear(2, 2)])
    blocks.append(nn.Linear(2, 2)).extend([nn.Tanh(), nn.Linear(2, 1)])
    assert len(blocks) == 4 and isinstance(blocks[2], nn.Tanh) and isinstance(blocks[-1], nn.Linear)
    expected = [f"{i}.{n}" for i in (0, 1, 3) for n in ("weight", "bias")]
    assert [k for k, _ in blocks.named_parameters()] == expected
    blocks[2] = nn.ReLU()
    assert isinstance(blocks[2], nn.ReLU) and [k for k, _ in blocks.named_children()] == ["0", "1", "2", "3"]
    holder = nn.Module()
    holder.blocks = blocks
    assert "blocks.3.bias" in dict(holder.named_parameters())
    with pytest.raises(NotImplementedError):
        blocks(x)


def test_repr_like_pytorch():
    text = repr(Net())
    assert text == (
        "Net(\n"
        "  (fc): Linear(in_features=3, out_features=4, bias=True)\n"
        "  (body): Sequential(\n"
        "    (0): Linear(in_features=4, out_features=4, bias=True)\n"
        "    (1): Sequential(\n"
        "      (0): Linear(in_features=4, out_features=2, bias=True)\n"
        "      (1): BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n"
        "    )\n"
        "  )\n"
        ")")


def test_deepcopy_gives_an_independent_model():
    model = small_model(0)
    twin = copy.deepcopy(model)
    x = tinygan.randn(4, 3)
    np.testing.assert_array_equal(twin.eval()(x).data, model.eval()(x).data)
    nn.init.zeros_(twin[0].weight)
    assert np.any(model[0].weight.data) and isinstance(twin[0].weight, nn.Parameter)


def test_module_before_init_and_missing_forward_raise_clearly():
    class Broken(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match=re.escape("Module.__init__()")):
        Broken()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(tinygan.zeros(1))


@pytest.mark.gpu
def test_cuda_moves_parameters_buffers_and_back():
    model = small_model(0)
    x = tinygan.randn(4, 3)
    expected = model(x).data
    params = list(model.parameters())
    assert model.cuda() is model and model.device == "cuda"
    assert all(a is b and a.device == "cuda" for a, b in zip(model.parameters(), params, strict=True))
    assert model[1].running_mean.device == "cuda"
    out = model(x.cuda())
    np.testing.assert_allclose(out.cpu().data, expected, rtol=1e-5, atol=1e-6)
    sd = model.state_dict()
    assert isinstance(sd["0.weight"], np.ndarray)
    model.load_state_dict(small_model(1).state_dict())
    assert model[0].weight.device == "cuda"
    model.cpu()
    np.testing.assert_array_equal(model[0].weight.data, small_model(1)[0].weight.data)
