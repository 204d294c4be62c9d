"""The one training loop shared by every GAN variant.

    for step in range(start, steps):
        for k in range(n_critic):  D step on a real batch       (gan.d_step)
        G step                                                   (gan.g_step)
        log losses; every N steps: samples, plots, checkpoint

Randomness is keyed by (seed, step): the batch order, the noise and the dropout masks of
step s are drawn from generators seeded with (seed, s). So a run resumed from the
checkpoint written after step s replays exactly what an uninterrupted run would have done.

What a run writes into its output folder:
    metrics.jsonl        one JSON line per logged step (losses, steps/s, mode scores for toys, and
                         with eval_every the classifier's scores of image runs: classifier-FID, ...,
                         and the variant's own: SGAN's test error)
    samples/step_*.png   the fixed-noise sample grid (images) or a points plot over D's heat map
    losses.png           loss curves (and the classifier's scores beside them);   samples.gif   the sample frames over training
    checkpoint.npz       G, D, optimizers, step, config (atomic; loaded without pickle; never NaN)

A run that cannot start as asked (a folder it cannot write, a checkpoint of another run, a batch
larger than the dataset) raises ``RunError`` before it changes anything in the folder. A run
whose losses, parameters or optimizer state become NaN or infinite raises ``TrainingDiverged``,
naming the step and keeping the last good checkpoint.
"""
from __future__ import annotations

import dataclasses
import json
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import backend, factories, metrics, viz
from .checkpoint import NonFiniteError, load_checkpoint, read_checkpoint, save_checkpoint
from .classifier import JUDGED, Judge
from .data import MIXTURES, Dataset
from .fileio import remove_temporaries, write_atomically
from .gans.common import GAN, GANConfig
from .optim import lr_factor, set_lr_factor
from .tensor import Tensor, no_grad


@dataclass
class TrainConfig:
    """How long and how visibly to train (the variant's hyperparameters are in its own Config)."""
    steps: int = 2000
    batch_size: int = 64
    seed: int = 0
    out: str = "runs/run"
    device: str = "cpu"
    log_every: int = 10            # steps between metrics.jsonl lines
    sample_every: int = 500        # steps between sample frames (and mode scores for 2D data)
    checkpoint_every: int = 500    # steps between checkpoints
    num_samples: int = 64          # fixed noise vectors in the sample grid
    eval_every: int = 0            # steps between classifier scores of image runs (classifier.Judge); 0 = off
    eval_samples: int = 5000       # samples scored each time (Stacked MNIST's protocol takes 26,000)
    data_dir: str | None = None    # where the classifier's training data is, if it must be trained
    progress: bool = True          # tqdm progress bar
    lr_decay: float = 0.0          # the last fraction of steps over which every lr decays linearly to 0


GRID_ROW = 8  # images per row of the sample grid
SHOWN = ("steps_per_s", "modes_captured", "high_quality", "classifier_fid", "modes_covered")  # shown beside the losses in the progress bar
PLOTTED_SCORES = ("classifier_fid", "classes_covered", "modes_covered", "kl_to_uniform", "label_accuracy",
                  "code_purity", "test_error")  # the scores (eval_every) drawn beside the loss curves
CHECKPOINT, METRICS = "checkpoint.npz", "metrics.jsonl"
OUTPUTS = (CHECKPOINT, METRICS, "losses.png", "samples.gif", "samples/step_*.png")  # what a run writes
RESUME_MUST_MATCH = ("seed", "batch_size", "lr_decay")  # with the variant, dataset and config: see _settings


class TrainingDiverged(RuntimeError):
    """A loss, a parameter or an optimizer state became NaN or infinite; the last good checkpoint is kept."""


class RunError(ValueError):
    """The run cannot start as asked; the message names the argument or path. Nothing in the run's
    folder has been changed."""


def step_rng(seed: int, step: int, stream: int = 0) -> np.random.Generator:
    """The generator for one step: a pure function of (seed, step, stream)."""
    return np.random.default_rng([seed, step, stream])


class StepSampler:
    """Batches as a pure function of the batch number: epoch e is a permutation seeded by (seed, e)."""

    def __init__(self, data: Dataset, batch_size: int, seed: int, device: str):
        smallest = min(len(data), len(data.y)) if data.kind == "unpaired" else len(data)  # B has its own size
        if batch_size > smallest:
            raise RunError(f"--batch-size {batch_size}: larger than the dataset {data.name} "
                           f"({smallest} samples{' in its smaller domain' if data.kind == 'unpaired' else ''})")
        self.data, self.batch_size, self.seed, self.device = data, batch_size, seed, device
        self.per_epoch = len(data) // batch_size
        self._epoch, self._perm = -1, None

    def batch(self, index: int) -> tuple[Tensor, Tensor | None]:
        epoch, i = divmod(index, self.per_epoch)
        if epoch != self._epoch:
            self._epoch, self._perm = epoch, np.random.default_rng([self.seed, epoch, 7]).permutation(len(self.data))
        idx = self._perm[i * self.batch_size:(i + 1) * self.batch_size]
        x, y = self.data.x[idx], self.data.y
        if self.data.kind == "unpaired":  # domain B: a stream of its own, not aligned with A's batch
            y = y[np.random.default_rng([self.seed, index, 12]).choice(len(y), len(idx), replace=False)]
        elif y is not None:
            y = y[idx]
        if self.data.augment is not None:  # e.g. pix2pix's jitter: its crops and flips keyed by the batch
            x, y = self.data.augment(x, y, np.random.default_rng([self.seed, index, 11]))
        x = Tensor(backend.to_device(x, self.device))
        return x, None if y is None else Tensor(backend.to_device(y, self.device))


TRIPLES_SHOWN = 8  # image triples (gan.triples) in a frame of an image-to-image run, two per row


def _fixed_inputs(gan: GAN, data: Dataset, cfg: TrainConfig):
    """The fixed noise (and labels: row r shows class r) whose samples make comparable frames; for
    image-to-image runs, the first training images, not jittered: pix2pix's first (source, target)
    pairs, CycleGAN's first images of domain A and of domain B."""
    def first(images, n):
        return Tensor(backend.to_device(np.asarray(images[:n]), gan.device))
    if gan.data.kind == "pairs":
        return first(data.y, TRIPLES_SHOWN), first(data.x, TRIPLES_SHOWN)
    if gan.data.kind == "unpaired":
        return first(data.x, TRIPLES_SHOWN // 2), first(data.y, TRIPLES_SHOWN // 2)
    rng = np.random.default_rng([cfg.seed, 2**31 - 1])
    if not gan.cfg.conditional:
        return gan.sample_z(cfg.num_samples, rng), None
    k = gan.data.num_classes  # one row of GRID_ROW samples per class: row r shows class r
    y = Tensor(backend.to_device(np.repeat(np.arange(k), GRID_ROW), gan.device))
    return gan.sample_z(k * GRID_ROW, rng), y


SAMPLE_CHUNK = 1024  # samples generated at once, so that G's activations stay small however many are asked


def generate_numpy(gan: GAN, z: Tensor, y: Tensor | np.ndarray | None = None) -> np.ndarray:
    """G's samples (in eval mode) for the noise z and, for conditional runs, the class labels y,
    as one float32 NumPy array, made SAMPLE_CHUNK at a time."""
    if y is not None and not isinstance(y, Tensor):
        y = Tensor(backend.to_device(np.asarray(y), gan.device))
    out = np.empty((len(z), *gan.data.shape), np.float32)
    gan.G.eval()
    with no_grad():
        for i in range(0, len(z), SAMPLE_CHUNK):
            part = slice(i, i + SAMPLE_CHUNK)
            out[part] = backend.to_numpy(gan.generate(z[part], None if y is None else y[part]).data)
    gan.G.train()
    return out


def judged_samples(gan: GAN, n: int, rng: np.random.Generator) -> dict:
    """n samples for a classifier to judge (``classifier.Judge``), with what they were asked to be:
    the requested class of a conditional G (every class equally often) and InfoGAN's categorical code."""
    z = gan.sample_z(n, rng)
    requested = np.arange(n) % gan.data.num_classes if gan.cfg.conditional else None
    return {"images": generate_numpy(gan, z, requested), "requested": requested, "codes": gan.latent_classes(z)}


def _evaluate(gan: GAN, judge, cfg: TrainConfig, step: int) -> dict:
    """The classifier's scores of cfg.eval_samples fresh samples (no precision / recall: they cost more
    than the rest together); numbers only, for metrics.jsonl."""
    result = judge(**judged_samples(gan, cfg.eval_samples, np.random.default_rng([cfg.seed, step, 98])),
                   manifold=False)
    return {k: v for k, v in result.items() if isinstance(v, (int, float)) and k != "n"}


def _write_frame(gan: GAN, data: Dataset, cfg: TrainConfig, out: Path, step: int, fixed) -> dict:
    """Save this step's picture; for 2D mixtures also score mode coverage (2500 samples)."""
    path = out / "samples" / f"step_{step:07d}.png"
    if data.kind in ("pairs", "unpaired"):  # rows of (source, G(source), target) or (real, G(real), F(G(real)))
        triples = gan.triples(fixed)                                   # (n, 3, C, H, W)
        viz.save_image_grid(triples.reshape(-1, *triples.shape[2:]), path, nrow=6)
        return {}
    if data.kind == "images":
        viz.save_image_grid(generate_numpy(gan, *fixed), path, nrow=GRID_ROW)
        return {}
    rng = np.random.default_rng([cfg.seed, step, 99])
    fake = generate_numpy(gan, gan.sample_z(2500, rng), None)
    real = data.x[rng.choice(len(data), min(2500, len(data)), replace=False)]
    if fake.shape[1] == 1:
        viz.save_1d_hist(real[:, 0], fake[:, 0], path, title=f"{gan.name} step {step}")
        return {"fake_mean": float(fake.mean()), "fake_std": float(fake.std())}
    lim = float(np.abs(real).max()) * 1.3
    viz.save_points_plot(real, fake, path, critic=gan.critic_map, lim=lim, title=f"{gan.name} step {step}")
    if data.name in MIXTURES:
        mix = MIXTURES[data.name]
        scores = metrics.mode_scores(fake, mix.means, mix.std).as_dict()
        return {k: v if math.isfinite(v) else None for k, v in scores.items()}  # JSON has no inf
    return {}


def _read_metrics(path: Path, before_step: int | None = None) -> list[dict]:
    """The rows of metrics.jsonl (up to ``before_step``); a last line torn by a kill mid-write is dropped."""
    if not path.exists():
        return []
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    rows = []
    for i, line in enumerate(lines, start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines):
                break
            raise ValueError(f"{path}, line {i}: not a JSON line") from None
    return [r for r in rows if before_step is None or r["step"] <= before_step]


def _writable_folder(out: Path) -> None:
    """Create the run's folder if needed and check that files can be written there."""
    if out.exists() and not out.is_dir():
        raise RunError(f"--out {out}: is a file, expected a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise RunError(f"--out {out}: cannot write there ({e.strerror or e})") from None


def _settings(meta: dict, defaults: GANConfig) -> dict:
    """What exact resume needs to be the same, from a checkpoint's meta: the variant, the dataset,
    every config field, and RESUME_MUST_MATCH. Fields newer than the checkpoint take their defaults."""
    config = {**dataclasses.asdict(defaults), **meta["config"]}
    train_cfg = {**dataclasses.asdict(TrainConfig()), **meta["train"]}
    settings = {"variant": meta["variant"], "dataset": meta["dataset"], **config,
                **{k: train_cfg[k] for k in RESUME_MUST_MATCH}}
    return json.loads(json.dumps(settings))  # as the checkpoint holds them: tuples are lists


def _resume(gan: GAN, ckpt: Path, log_path: Path, meta_now: dict) -> tuple[int, list[dict]]:
    """Load the checkpoint into ``gan`` once it is known to be this run's; return its step and the
    metrics rows logged up to it."""
    if not ckpt.exists():
        raise RunError(f"--resume: no checkpoint at {ckpt}")
    try:
        _, meta = read_checkpoint(ckpt)
    except ValueError as e:  # a corrupt file, or not a tinygan checkpoint
        raise RunError(f"--resume: {e}") from None
    defaults = type(gan.cfg)()
    saved, now = _settings(meta, defaults), _settings(meta_now, defaults)
    changed = [f"{k}={saved.get(k)!r} (now {now.get(k)!r})" for k in {**saved, **now}
               if saved.get(k) != now.get(k)]
    if changed:
        raise RunError(f"--resume: {ckpt} was trained with {', '.join(changed)}; resume it with the same "
                       "settings, or start a new run with --overwrite or another --out")
    try:
        load_checkpoint(ckpt, gan.modules(), gan.optimizers())
        rows = _read_metrics(log_path, before_step=meta["step"])  # drop lines logged after the checkpoint
    except ValueError as e:  # NaN or inf in the checkpoint, a torn metrics file
        raise RunError(f"--resume: {e}") from None
    gan.load_extra_state(meta.get("extra", {}))
    return meta["step"], rows


def _diverged(gan: GAN, what: str, step: int, ckpt: Path, saved_step: int | None) -> TrainingDiverged:
    if saved_step is None:
        kept = "no checkpoint was written: lower the learning rate"
    else:
        kept = (f"the last good checkpoint ({ckpt}, step {saved_step}) is kept: lower the learning rate "
                "or resume from it")
    return TrainingDiverged(f"{gan.name}: {what} at step {step}; stopping, {kept}.")


def _judge(data: Dataset, cfg: TrainConfig) -> Judge:
    """The classifier that scores this run's samples every cfg.eval_every steps (trained first if absent)."""
    if data.name not in JUDGED:
        raise RunError(f"--eval-every: the classifier's scores are for {', '.join(JUDGED)} runs, not {data.name} "
                       "(2-D runs log their mode scores at every sample frame)")
    if cfg.eval_every < 0 or cfg.eval_samples < 2:
        raise RunError(f"--eval-every {cfg.eval_every} / --eval-samples {cfg.eval_samples}: expected >= 0 and >= 2")
    try:
        return Judge.load(data.name, cfg.data_dir, progress=cfg.progress)
    except (FileNotFoundError, ValueError) as e:
        raise RunError(f"--eval-every: {e}") from None


def train(gan: GAN, data: Dataset, cfg: TrainConfig, resume: bool = False) -> list[dict]:
    """Train ``gan`` on ``data`` for ``cfg.steps`` steps, writing into ``cfg.out``; return the metrics.

    A new run (``resume=False``) replaces what an earlier run left in ``cfg.out`` (the CLI refuses a
    folder holding a checkpoint unless given --overwrite); ``resume=True`` continues from its checkpoint.
    """
    out = Path(cfg.out)
    ckpt, log_path = out / CHECKPOINT, out / METRICS
    meta_base = {"variant": gan.name, "config": dataclasses.asdict(gan.cfg), "dataset": data.name,
                 "data_kind": data.kind, "data_shape": list(data.x.shape[1:]), "num_classes": data.num_classes,
                 "train": dataclasses.asdict(cfg)}
    _writable_folder(out)
    sampler = StepSampler(data, cfg.batch_size, cfg.seed, gan.device)
    gan.prepare(data, cfg)  # what a variant takes from the whole training set (SGAN: its labelled examples)
    start, rows = _resume(gan, ckpt, log_path, meta_base) if resume else (0, [])
    judge = _judge(data, cfg) if cfg.eval_every and gan.judged else None
    # The run starts: only now is anything in the folder removed or rewritten.
    for name in OUTPUTS:
        remove_temporaries(out / name)
        if not resume:
            for path in out.glob(name):
                path.unlink()
    write_atomically(log_path, lambda tmp: Path(tmp).write_text("".join(json.dumps(r) + "\n" for r in rows)))
    saved_step = start if resume else None  # the step of the last good checkpoint
    fixed = _fixed_inputs(gan, data, cfg)
    bar = _progress(start, cfg)
    t_last, last_logged = time.perf_counter(), start
    with open(log_path, "a") as log:
        for step in range(start, cfg.steps):
            rng = step_rng(cfg.seed, step)
            factories.manual_seed(int(rng.integers(2**62)))  # dropout masks of this step
            if cfg.lr_decay:
                set_lr_factor(gan.optimizers().values(), lr_factor(step, cfg.steps, cfg.lr_decay))
            row = {}
            for k in range(gan.n_critic):
                real, y = sampler.batch(step * gan.n_critic + k)
                row.update(gan.d_step(real, y, rng))
            row.update(gan.g_step(real, y, rng))
            for name, value in row.items():  # losses, computed before this step's updates
                if not math.isfinite(value):
                    raise _diverged(gan, f"{name} became {value}", step + 1, ckpt, saved_step)
            done = step + 1
            evaluate = cfg.eval_every > 0 and (done % cfg.eval_every == 0 or done == cfg.steps)
            if done % cfg.log_every == 0 or done == cfg.steps or evaluate:
                now = time.perf_counter()
                row.update(step=done, steps_per_s=(done - last_logged) / max(now - t_last, 1e-9))
                if done % cfg.sample_every == 0 or done == cfg.steps:
                    row.update(_write_frame(gan, data, cfg, out, done, fixed))
                if evaluate:
                    row.update(gan.scores())  # the variant's own (SGAN: D's test error)
                if evaluate and judge is not None:
                    row.update(_evaluate(gan, judge, cfg, done))
                t_last, last_logged = time.perf_counter(), done  # the scoring does not count as training time
                log.write(json.dumps(row) + "\n")
                log.flush()
                bar.update(done - bar.n)
                bar.set_postfix({k: f"{v:.3g}" for k, v in row.items()
                                 if k in SHOWN or k.endswith("loss") and v is not None}, refresh=False)
            elif done % cfg.sample_every == 0:
                _write_frame(gan, data, cfg, out, done, fixed)
            if done % cfg.checkpoint_every == 0 or done == cfg.steps:
                try:  # the parameters and optimizer states after the updates: never saved if not finite
                    save_checkpoint(ckpt, gan.modules(), gan.optimizers(),
                                    {**meta_base, "step": done, "extra": gan.extra_state()})
                except NonFiniteError as e:
                    raise _diverged(gan, f"{', '.join(e.keys[:3])} became NaN or inf", done, ckpt,
                                    saved_step) from None
                saved_step = done
    bar.close()
    rows = _read_metrics(log_path)
    _final_plots(out, rows)
    return rows


def _progress(start: int, cfg: TrainConfig):
    from tqdm.auto import tqdm
    return tqdm(total=cfg.steps, initial=start, disable=not cfg.progress, unit="step", dynamic_ncols=True)


def _final_plots(out: Path, rows: list[dict]) -> None:
    """Loss curves (and the classifier's scores) from metrics.jsonl and the GIF of all sample frames
    (earlier runs' included)."""
    if rows:
        names = [k for k in rows[0] if k.endswith("_loss")]
        scored = {k: ([r["step"] for r in rows if k in r], [r[k] for r in rows if k in r])
                  for k in PLOTTED_SCORES if any(k in r for r in rows)}
        viz.save_loss_curves({k: [r[k] for r in rows] for k in names}, [r["step"] for r in rows],
                             out / "losses.png", smooth=max(1, len(rows) // 50), scores=scored)
    frames = sorted((out / "samples").glob("step_*.png"))
    if frames:
        viz.save_gif([str(f) for f in frames], out / "samples.gif")
