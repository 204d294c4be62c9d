"""Shared pytest setup.

* Numba reads NUMBA_ENABLE_CUDASIM when it is first imported, so it is set here, before any
  test module imports numba: without a GPU the Numba CUDA kernels run in the simulator.
* `gpu` tests skip cleanly when CuPy or a CUDA device is missing.
* TINYGAN_DATA defaults to the shared dataset folder beside the checkout, if it exists; a relative
  value is made absolute (example scripts run in temporary folders).
"""
import os
import pathlib

import pytest

from tinygan import backend

if "NUMBA_ENABLE_CUDASIM" not in os.environ and not backend.cuda_is_available():
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

_shared = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
if "TINYGAN_DATA" not in os.environ and _shared.is_dir():
    os.environ["TINYGAN_DATA"] = str(_shared)
elif os.environ.get("TINYGAN_DATA"):  # CI may give it relative (../shared/data): the examples run elsewhere
    os.environ["TINYGAN_DATA"] = os.path.abspath(os.environ["TINYGAN_DATA"])


def pytest_collection_modifyitems(config, items):
    if backend.cuda_is_available():
        return
    skip = pytest.mark.skip(reason="needs CuPy and a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
