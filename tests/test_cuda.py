"""tinygan.cuda: CUDA graphs of whole training steps, and the rules that make a step capturable.

Without a GPU: the transfer guard (a captured step may not read values on the host) is checked on
the CPU, where the same code runs, and every reference workload step is shown to obey it. With a
GPU (`gpu` tests): a captured and replayed step gives the same parameters as the eager steps.
"""
import os
import sys

import numpy as np
import pytest

import tinygan
from tinygan import backend

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
from workloads import inputs, make_step, noise_shape


def _inputs(workload: str, device: str, seed: int = 0):
    real, (z,) = inputs(tinygan, workload, device, seed=seed)
    return real, z


# ---- the transfer guard (runs everywhere) ------------------------------------------------
def test_transfer_guard_refuses_host_reads_and_names_the_context():
    t = tinygan.tensor([1.0, 2.0])
    with backend.transfer_guard("my step"):
        with pytest.raises(RuntimeError, match="my step: reading an array"):
            t.sum().item()
        with pytest.raises(RuntimeError, match="my step"):
            float(t.sum())
        with pytest.raises(RuntimeError, match="my step"):
            t.numpy()
        (t * 2 + 1).sum()  # computing is fine
    assert t.sum().item() == 3.0  # and reading is fine again afterwards


def test_transfer_guard_nests_and_restores():
    with backend.transfer_guard("outer"):
        with backend.transfer_guard("inner"), pytest.raises(RuntimeError, match="inner"):
            backend.to_numpy(np.zeros(2))
        with pytest.raises(RuntimeError, match="outer"):
            backend.to_numpy(np.zeros(2))
    backend.to_numpy(np.zeros(2))


def test_scalars_in_ops_are_not_host_copies():
    """x * 2 + 1 makes its constants on the device (a fill), so it is allowed inside a capture."""
    x = tinygan.tensor([1.0, -2.0], requires_grad=True)
    with backend.transfer_guard("capture"):
        y = (x * 2 + 1 - 0.5 * x ** 2).sum()
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 - 1.0, 2 + 2.0])


@pytest.mark.parametrize("workload", ["mlp_gan", "dcgan28"])
def test_reference_steps_read_nothing_on_the_host(workload):
    """The benchmark steps (forward, backward, Adam, for D and G) obey the capture rules."""
    tinygan.manual_seed(0)
    step, _, _ = make_step(tinygan, workload, "cpu")
    real, z = _inputs(workload, "cpu")
    with backend.transfer_guard("the step"):
        d_loss, g_loss = step(real, z)
    assert np.isfinite(d_loss.item()) and np.isfinite(g_loss.item())


# ---- clear errors without a GPU ------------------------------------------------------------
@pytest.mark.skipif(backend.cuda_is_available(), reason="checks the errors of a machine without a GPU")
def test_without_a_gpu_the_errors_say_how_to_install():
    assert not tinygan.cuda.is_available()
    with pytest.raises(RuntimeError, match=r"pip install -e \.\[cuda12\]"):
        tinygan.cuda.CUDAGraph().capture_begin()
    with pytest.raises(RuntimeError, match="cuda"):
        tinygan.cuda.synchronize()


def test_graphed_step_needs_cuda_inputs():
    with pytest.raises(ValueError, match="static input 0 must be a Tensor on 'cuda', got cpu"):
        tinygan.cuda.GraphedStep(lambda x: x, tinygan.zeros(2))
    with pytest.raises(ValueError, match="warmup must be >= 1"):
        tinygan.cuda.GraphedStep(lambda x: x, warmup=0)


def test_capturable_adam_needs_cuda_parameters():
    p = tinygan.nn.Parameter(np.ones(3, np.float32))
    opt = tinygan.optim.Adam([p], capturable=True)
    p.grad = tinygan.ones(3)
    with pytest.raises(ValueError, match="Adam: capturable=True needs float32 parameters on 'cuda'"):
        opt.step()
    with pytest.raises(ValueError, match="neither amsgrad nor maximize"):
        tinygan.optim.Adam([p], capturable=True, amsgrad=True)


# ---- on a GPU ----------------------------------------------------------------------------------
@pytest.mark.gpu
def test_graph_replays_on_new_input_values():
    x = tinygan.zeros(4, device="cuda")
    g = tinygan.cuda.CUDAGraph()
    with tinygan.cuda.graph(g):
        y = x * 2 + 1
    for values in ([1, 2, 3, 4], [-1, 0, 5, 7]):
        x.data[...] = backend.to_device(np.array(values, np.float32), "cuda")
        g.replay()
        np.testing.assert_allclose(y.numpy(), 2 * np.array(values) + 1)
    assert g.num_nodes() is None or g.num_nodes() >= 1


@pytest.mark.gpu
def test_capture_refuses_a_host_read():
    x = tinygan.ones(4, device="cuda")

    def step(x):
        return (x * 2).sum().item()

    with pytest.raises(RuntimeError, match="CUDA graph capture: reading an array"):
        tinygan.cuda.GraphedStep(step, x, warmup=1)


@pytest.mark.gpu
@pytest.mark.parametrize("workload", ["mlp_gan", "dcgan28"])
def test_graphed_step_equals_eager_steps(workload):
    """Same seed, same inputs: 3 warm-up steps + 4 replays == 7 eager steps (dropout included:
    its Philox offset moves on the device in both)."""
    zs = [_inputs(workload, "cuda", seed)[1] for seed in range(7)]
    real, _ = _inputs(workload, "cuda")
    models = {}
    for mode in ("eager", "graph"):
        tinygan.manual_seed(0)
        step, G, D = make_step(tinygan, workload, "cuda", capturable=True)
        if mode == "eager":
            losses = [step(real, z) for z in zs]
        else:
            static_z = tinygan.zeros(*noise_shape(workload), device="cuda")
            static_z.data[...] = zs[0].data
            graphed = None
            # the warm-up steps run on zs[0..2]: feed them through a step that reads a queue
            queue = list(zs[:3])

            def warm_step(real, z, step=step, queue=queue):
                if queue:
                    z.data[...] = queue.pop(0).data
                return step(real, z)

            graphed = tinygan.cuda.GraphedStep(warm_step, real, static_z, warmup=3)
            losses = [graphed(real, z) for z in zs[3:]]
        models[mode] = (G, D, [float(v) for v in losses[-1]])
    (G_e, D_e, loss_e), (G_g, D_g, loss_g) = models["eager"], models["graph"]
    np.testing.assert_allclose(loss_g, loss_e, rtol=1e-4)
    for a, b in zip(list(G_e.parameters()) + list(D_e.parameters()),
                    list(G_g.parameters()) + list(D_g.parameters())):
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-4, atol=1e-6)
