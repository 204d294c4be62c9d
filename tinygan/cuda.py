"""``tinygan.cuda``: the GPU outside the ops -- synchronisation, memory figures and CUDA graphs
(named as in ``torch.cuda``).

Why CUDA graphs. A small GAN step is a few hundred tiny kernels. Launched one by one from Python,
each costs 8-40 us of CPU time (CuPy's measured launch costs on an H100: ~8 us for a RawKernel,
~19 us per ufunc) while the kernel itself often runs for less: the GPU waits for Python. A CUDA graph records the launches of one step
once and replays all of them with a single call, at about 1 us per kernel.

    opt_d = tinygan.optim.Adam(D.parameters(), 2e-4, (0.5, 0.999), capturable=True)   # (1)
    static_real = tinygan.zeros(128, 784, device="cuda")                              # (2)
    static_z = tinygan.zeros(128, 100, device="cuda")
    step = tinygan.cuda.GraphedStep(train_step, static_real, static_z)  # warm-up, then capture
    for real, z in batches:
        d_loss, g_loss = step(real, z)    # copy into the static inputs, replay the whole step

What a step must do to be captured:
  1. keep any counter that changes from step to step on the GPU: ``Adam(capturable=True)`` does
     (SGD and RMSprop have none);
  2. take its inputs as fixed-shape GPU tensors: ``GraphedStep`` copies new values into them
     before each replay;
  3. never read a value on the host (``loss.item()``, ``float(t)``, ``.numpy()``) nor copy a host
     array to the GPU inside: during capture ``backend.transfer_guard`` refuses both with an error
     naming the step. Draw noise outside the step and pass it in; dropout is fine (its masks are
     made on the GPU by tinygan's Philox generator, fresh on every replay);
  4. use tinygan's own kernels: cuBLAS (``backend.use_cublas(True)``) cannot be captured by CuPy.
The outputs it returns are overwritten by every replay: read them before the next call.

Memory: whatever the step allocates during capture comes from a memory pool owned by the graph,
so no eager code can be handed an address that the graph writes to on replay.
"""
from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

from . import backend
from .tensor import Tensor


def is_available() -> bool:
    """True when CuPy imports and sees a CUDA device."""
    return backend.cuda_is_available()


def synchronize() -> None:
    """Wait for all work queued on the GPU."""
    backend.cupy().cuda.Device().synchronize()


def memory_allocated() -> int:
    """Bytes held by live arrays in CuPy's default memory pool."""
    return backend.cupy().get_default_memory_pool().used_bytes()


def memory_reserved() -> int:
    """Bytes the default memory pool holds from the GPU (live arrays plus cached free blocks)."""
    return backend.cupy().get_default_memory_pool().total_bytes()


def is_current_stream_capturing() -> bool:
    """True while the current stream is being captured into a CUDA graph."""
    return backend.cuda_is_available() and backend.cupy().cuda.get_current_stream().is_capturing()


class CUDAGraph:
    """GPU work captured once and replayed with one launch (as ``torch.cuda.CUDAGraph``).

    Capture runs on a private stream of its own; ``replay`` orders the graph after the work already
    queued on the current stream and makes later work wait for it, so it can be used like any op.
    """

    def __init__(self):
        self._graph = None    # the cupy.cuda.Graph, once captured
        self._pool = None     # the memory pool the captured work allocated from
        self._stream = None
        self._exit = None     # undoes capture_begin's context changes

    def capture_begin(self, pool=None) -> None:
        cp = backend.cupy()
        if self._graph is not None or self._exit is not None:
            raise RuntimeError("CUDAGraph.capture_begin: this graph already holds a capture; call reset() first")
        self._pool = pool if pool is not None else cp.cuda.MemoryPool()
        self._stream = cp.cuda.Stream(non_blocking=True)
        self._stream.wait_event(cp.cuda.get_current_stream().record())  # start after queued work
        self._exit = contextlib.ExitStack()
        self._exit.enter_context(self._stream)                           # the current stream
        self._exit.enter_context(cp.cuda.using_allocator(self._pool.malloc))
        self._exit.enter_context(backend.transfer_guard("CUDA graph capture"))
        try:
            self._stream.begin_capture()
        except BaseException:
            self._leave()
            raise

    def capture_end(self) -> None:
        if self._exit is None:
            raise RuntimeError("CUDAGraph.capture_end: capture_begin was not called")
        try:
            self._graph = self._stream.end_capture()
        finally:
            self._leave()

    def _abort(self) -> None:
        """End a capture that failed part-way, discarding what was recorded."""
        try:
            with contextlib.suppress(Exception):  # an invalidated capture raises on end; it is over either way
                self._stream.end_capture()
        finally:
            self._leave()
            self._graph = None

    def _leave(self) -> None:
        exit_stack, self._exit = self._exit, None
        if exit_stack is not None:
            exit_stack.close()

    def replay(self) -> None:
        if self._graph is None:
            raise RuntimeError("CUDAGraph.replay: nothing has been captured")
        cp = backend.cupy()
        current = cp.cuda.get_current_stream()
        self._stream.wait_event(current.record())  # e.g. the copies into the static inputs
        self._graph.launch(self._stream)
        current.wait_event(self._stream.record())  # later work sees the replay's results

    def reset(self) -> None:
        """Forget the captured graph and its memory pool."""
        self._graph = self._pool = None

    def pool(self):
        """The memory pool of this capture (pass it to another capture to share memory)."""
        return self._pool

    def debug_dot_str(self) -> str:
        """The captured graph in Graphviz dot format (CUDA's cudaGraphDebugDotPrint)."""
        if self._graph is None:
            raise RuntimeError("CUDAGraph.debug_dot_str: nothing has been captured")
        return self._graph.debug_dot_str()

    def num_nodes(self) -> int | None:
        """Nodes of the captured graph (kernels, memsets, copies), counted in its dot text;
        None when the text has a form this parser does not know."""
        nodes = set(re.findall(r'"(graph_\d+_node_\d+)"\s*\[', self.debug_dot_str()))
        return len(nodes) or None


@contextlib.contextmanager
def graph(cuda_graph: CUDAGraph, pool=None):
    """Capture the GPU work of the ``with`` block into ``cuda_graph`` (as ``torch.cuda.graph``).

    Nothing runs during capture: the kernels are recorded, and run on ``cuda_graph.replay()``.
    If the block raises, the capture is discarded and the error propagates.
    """
    cuda_graph.capture_begin(pool=pool)
    try:
        yield cuda_graph
    except BaseException:
        cuda_graph._abort()
        raise
    cuda_graph.capture_end()


class GraphedStep:
    """``fn(*static_inputs)`` captured once into a CUDA graph and replayed on every call.

    ``warmup`` eager calls come first (they are real steps: the parameters move). They compile
    and load every kernel and make the optimizers' state, so that capture records only the
    step's own work. Then ``fn`` is captured once; the capture itself computes nothing.

    ``step(*inputs)`` copies each input into its static tensor (same shape and dtype; a Tensor,
    a cupy or a NumPy array), replays the graph and returns ``fn``'s outputs of this replay.
    """

    def __init__(self, fn: Callable, *static_inputs: Tensor, warmup: int = 3):
        if warmup < 1:
            raise ValueError(f"GraphedStep: warmup must be >= 1 (kernels must be loaded before capture), "
                             f"got {warmup}")
        for i, t in enumerate(static_inputs):
            if not isinstance(t, Tensor) or t.device != "cuda":
                where = t.device if isinstance(t, Tensor) else type(t).__name__
                raise ValueError(f"GraphedStep: static input {i} must be a Tensor on 'cuda', got {where}")
        self.fn, self.static_inputs = fn, static_inputs
        for _ in range(warmup):
            fn(*static_inputs)
        self.graph = CUDAGraph()
        name = getattr(fn, "__name__", type(fn).__name__)
        try:
            with graph(self.graph):
                self.static_outputs = fn(*static_inputs)
        except Exception as e:
            raise RuntimeError(f"GraphedStep: capturing {name} failed ({type(e).__name__}: {e}); see the "
                               "rules in tinygan/cuda.py's docstring") from e

    def __call__(self, *inputs):
        if len(inputs) != len(self.static_inputs):
            raise TypeError(f"GraphedStep: expected {len(self.static_inputs)} inputs, got {len(inputs)}")
        for i, (static, new) in enumerate(zip(self.static_inputs, inputs)):
            data = new.data if isinstance(new, Tensor) else new
            if tuple(data.shape) != static.shape or data.dtype != static.dtype:
                raise ValueError(f"GraphedStep: input {i} has shape {tuple(data.shape)} and dtype {data.dtype}; "
                                 f"the captured step takes {static.shape} {static.dtype}")
            static.data[...] = data if backend.is_cupy_array(data) else backend.to_device(data, "cuda")
        self.graph.replay()
        return self.static_outputs
