"""The learning benchmarks' bookkeeping (benchmarks/runs.py, stacked_mnist.py, image_quality.py): tables and
targets from synthetic results, and a finished run read back instead of trained again. Their real runs
take an hour and more on 2 cores; the README holds their output."""
import importlib.util
import json
import pathlib
import sys

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    yield {name: _load(name) for name in ("runs", "stacked_mnist", "image_quality")}
    sys.path.remove(str(BENCH))


def test_stacked_mnist_table_shows_modes_and_kl_against_steps(bench):
    sm = bench["stacked_mnist"]
    rows = [{"step": 1000, "modes_covered": 900, "kl_to_uniform": 0.9}, {"step": 2000, "modes_covered": 990,
                                                                       "kl_to_uniform": 0.08}]
    results = [{"name": "pacdcgan2", "seed": s, "seconds": 100.0, "scores": rows} for s in (0, 1)]
    results.append({"name": "dcgan", "seed": 0, "error": "Traceback: boom"})
    lines = sm.table(results)
    assert lines[2].startswith("| pacdcgan2 | 1000 | 2 | 900.0 ± 0.0 | 0.900 ± 0.000 | 900 / 0.90, 900 / 0.90 |")
    assert "| pacdcgan2 | 2000 | 2 | 990.0 ± 0.0 |" in lines[3] and "1000.0 ± 0.0 / 0.06" in lines[3]
    assert lines[4].startswith("| dcgan | failed:") and "boom" in lines[4]
    assert sm.command(4, 1, 3000, 500)[:6] == ["dcgan", "--dataset", "stacked-mnist", "--pack", "4", "--seed"]


@pytest.mark.parametrize("variant,generated,met", [
    ("cgan", {"label_accuracy": 0.96}, True), ("cgan", {"label_accuracy": 0.94}, False),
    ("infogan", {"code_purity": 0.86}, True), ("infogan", {"code_purity": 0.5}, False),
    ("dcgan", {"classes_covered": 10, "classifier_fid": 15.0}, True),
    ("dcgan", {"classes_covered": 10, "classifier_fid": 16.0}, False),
    ("dcgan", {"classes_covered": 9, "classifier_fid": 8.0}, False)])
def test_image_quality_targets(bench, variant, generated, met):
    verdict = bench["image_quality"].target(variant, generated, {"classifier_fid": 7.5})
    assert verdict.startswith("met" if met else "NOT met")


def test_a_finished_run_is_read_back_not_trained_again(bench, tmp_path, monkeypatch):
    runs = bench["runs"]
    out = tmp_path / "run"
    out.mkdir()
    cmd = [sys.executable, "-m", "tinygan", "train", "gan", "--steps", "2", "--out", str(out), "--no-progress"]
    finished = {"command": cmd[1:], "seconds": 1.0, "scores": [{"step": 2, "modes_captured": 8}]}
    (out / "done.json").write_text(json.dumps(finished))
    monkeypatch.setattr(runs.subprocess, "run", lambda *a, **k: pytest.fail("trained again"))
    assert runs.train_or_read(["gan", "--steps", "2"], out, scored="modes_captured") == finished
