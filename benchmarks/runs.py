"""Training runs for the learning benchmarks (mixtures.py, stacked_mnist.py, image_quality.py): each run is
one ``python -m tinygan train`` command, printed before it starts, in a folder of its own.

A folder whose run finished with the same command is read back instead of trained again; an
interrupted one is resumed from its last checkpoint; a folder left by another command starts afresh.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from machine import bench_env, blas_kernel


def metrics_rows(out: Path) -> list[dict]:
    path = out / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def train_or_read(args: list[str], out: Path, scored: str, threads: int = 1) -> dict:
    """Run ``python -m tinygan train ARGS --out OUT --no-progress`` (or read back its finished run);
    {"command", "seconds", "scores": the metrics.jsonl rows that hold ``scored``}, or {"error": stderr}."""
    cmd = [sys.executable, "-m", "tinygan", "train", *args, "--out", str(out), "--no-progress"]
    done, started = out / "done.json", out / "command.json"  # the finished run; the command it started with
    if done.exists() and json.loads(done.read_text())["command"] == cmd[1:]:
        return json.loads(done.read_text())
    if started.exists() and json.loads(started.read_text()) == cmd[1:] and (out / "checkpoint.npz").exists():
        cmd.append("--resume")  # the same run, interrupted: go on from its last checkpoint
    elif out.exists():  # another command's run (or one of unknown origin): start afresh
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    started.write_text(json.dumps(cmd[1:]))
    print("$ python " + " ".join(cmd[1:]), flush=True)
    start = time.perf_counter()
    # `threads` cores per run, and NumPy's fastest BLAS kernel (benchmarks/machine.py)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=bench_env(threads=threads), check=False)
    if proc.returncode != 0:
        return {"error": proc.stderr[-800:]}
    result = {"command": [c for c in cmd[1:] if c != "--resume"], "seconds": time.perf_counter() - start,
              "scores": [r for r in metrics_rows(out) if scored in r]}
    done.write_text(json.dumps(result))
    return result


def add_run_arguments(parser, out: str) -> None:
    """The options every learning benchmark takes: how many runs at once, on how many cores, where."""
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time")
    parser.add_argument("--threads", type=int, default=1, help="cores per run")
    parser.add_argument("--out", default=out, help=f"the runs' folders go here (default {out})")
    parser.add_argument("--markdown", help="also write the table to this file")


def run_jobs(run, jobs: list, at_a_time: int, threads: int) -> list:
    """[run(job) for job in jobs], ``at_a_time`` at once, after a header that names the BLAS kernel
    the runs get (benchmarks/machine.py)."""
    print(f"{len(jobs)} runs, {at_a_time} at a time, {threads} thread(s) each; OPENBLAS_CORETYPE and "
          f"OPENBLAS_L2_SIZE unset for them; BLAS: {blas_kernel(bench_env(threads=threads))}", flush=True)
    with ThreadPoolExecutor(at_a_time) as pool:
        return list(pool.map(run, jobs))


def report(lines: list[str], results: list[dict], markdown: str | None) -> int:
    """Print the table (and write it to ``markdown``); the exit code: 1 if a run failed."""
    print("\n".join(lines))
    if markdown:
        Path(markdown).write_text("\n".join(lines) + "\n")
    return 1 if any("error" in r for r in results) else 0
