"""The command line: ``python -m tinygan train|sample|list|eval|classifier`` (also installed as ``tinygan``).

    python -m tinygan train                          # the main job: gan on ring8, under a minute
    python -m tinygan train wgan_gp --dataset grid25 --steps 20000 --out runs/wgan_gp
    python -m tinygan train dcgan --dataset mnist --device cuda
    python -m tinygan train gan --pack 4 --set hidden=128   # any Config field with --set
    python -m tinygan train dcgan --out runs/dcgan --resume  # continue from runs/dcgan/checkpoint.npz
    python -m tinygan train dcgan --out runs/dcgan --overwrite  # start over, replacing that run
    python -m tinygan train dcgan --dataset mnist --eval-every 250   # classifier-FID and classes as it trains
    python -m tinygan sample runs/dcgan -n 64 --out digits.png
    python -m tinygan eval runs/dcgan-mnist           # the classifier's scores of 10,000 samples (eval.json)
    python -m tinygan train pix2pix                  # facades label map -> photo (64x64; --image-size 128)
    python -m tinygan eval runs/pix2pix-facades      # its test-set L1, sharpness, PatchGAN accuracy, test_pairs.png
    python -m tinygan train cyclegan                 # MNIST <-> Fashion-MNIST, unpaired; or --dataset facades-unpaired
    python -m tinygan list
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

import numpy as np

from . import backend, factories
from .data import DATASETS, FOLDER, get_dataset
from .gans import VARIANTS, get_variant
from .gans.common import DataInfo, config_from
from .losses import F_DIVERGENCES
from .tensor import Tensor


def _parse_value(text: str, current):
    """Parse ``text`` as the type of a Config field's current value."""
    if isinstance(current, bool):
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {text!r}")
    if isinstance(current, tuple):
        return tuple(float(v) for v in text.split(","))
    if current is None:  # a field whose default is "by data" (z_dim, lr_g, lr_d): a number
        return int(text) if text.lstrip("-").isdigit() else float(text)
    return type(current)(text)


def build_config(variant_cls, args, parser) -> object:
    """The variant's Config with the command-line overrides applied."""
    overrides = {}
    if args.lr is not None:
        overrides.update(lr_g=args.lr, lr_d=args.lr)
    for flag, field in (("n_critic", "n_critic"), ("label_smoothing", "real_label"), ("pack", "pack"),
                        ("minibatch_discrimination", "minibatch_discrimination"), ("loss", "loss"),
                        ("divergence", "divergence")):
        value = getattr(args, flag)
        if value is not None:
            overrides[field] = value
    if args.feature_matching:
        overrides["feature_matching"] = True
    defaults = variant_cls.Config()
    if args.divergence is not None and not hasattr(defaults, "divergence"):
        parser.error(f"--divergence: the {args.variant} variant has no divergence to choose (fgan has)")
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep or not hasattr(defaults, key):
            fields = ", ".join(f.name for f in dataclasses.fields(defaults))
            parser.error(f"--set {item!r}: expected FIELD=VALUE with FIELD one of: {fields}")
        try:
            overrides[key] = _parse_value(value, getattr(defaults, key))
        except ValueError as e:
            parser.error(f"--set {item!r}: {e}")
    return config_from(variant_cls.Config, overrides)


def cmd_train(args, parser) -> int:
    from .classifier import STACKED_SAMPLES
    from .train import CHECKPOINT, RunError, TrainConfig, TrainingDiverged, train

    name = args.variant
    variant_cls = get_variant(name)
    dataset = args.dataset or VARIANTS[name][1]
    try:
        cfg = build_config(variant_cls, args, parser)
        if args.image_size and not dataset.startswith(("facades", FOLDER)):
            raise ValueError(f"--image-size: sets the size of the facades and folder images, not of {dataset}")
        data = get_dataset(dataset, data_dir=args.data_dir, rng=np.random.default_rng(args.seed),
                           image_size=args.image_size or 64)
    except (ValueError, FileNotFoundError) as e:
        parser.error(str(e))
    info = DataInfo(data.kind, tuple(data.x.shape[1:]), data.num_classes)
    factories.manual_seed(args.seed)  # the networks' initial weights follow --seed
    try:
        gan = variant_cls(cfg, info, args.device)  # checks the config
    except ValueError as e:
        parser.error(str(e))
    run = variant_cls.run_settings(data.kind, cfg.pack)  # the variant's own steps, batch size, ...
    period = args.sample_every or run.sample_every
    tcfg = TrainConfig(steps=args.steps or run.steps, batch_size=args.batch_size or run.batch_size,
                       seed=args.seed, out=args.out or os.path.join("runs", f"{name}-{dataset}"), device=args.device,
                       sample_every=period, checkpoint_every=args.checkpoint_every or period,
                       lr_decay=run.lr_decay if args.lr_decay is None else args.lr_decay,
                       progress=not args.no_progress, eval_every=args.eval_every or run.eval_every, data_dir=args.data_dir,
                       eval_samples=args.eval_samples or (STACKED_SAMPLES if dataset == "stacked-mnist" else 5000))
    if not 0.0 <= tcfg.lr_decay <= 1.0:
        parser.error(f"--lr-decay {tcfg.lr_decay}: expected a fraction of the run in [0, 1]")
    if tcfg.batch_size % cfg.pack:
        parser.error(f"--batch-size {tcfg.batch_size} must be a multiple of --pack {cfg.pack}")
    if (Path(tcfg.out) / CHECKPOINT).exists() and not (args.resume or args.overwrite):
        parser.error(f"--out {tcfg.out} holds a run ({CHECKPOINT}): continue it with --resume, or replace it "
                     "with --overwrite")
    print(f"training {name} on {dataset} for {tcfg.steps} steps (batch {tcfg.batch_size}, device {tcfg.device}); "
          f"writing to {tcfg.out}/", flush=True)
    try:
        rows = train(gan, data, tcfg, resume=args.resume)
    except TrainingDiverged as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except RunError as e:
        parser.error(str(e))
    last = rows[-1] if rows else {}
    summary = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in last.items())
    print(f"done: {summary}\nresults in {tcfg.out}/: metrics.jsonl, losses.png, samples/, samples.gif, "
          "checkpoint.npz")
    return 0


def load_run(run_dir: str, device: str = "cpu"):
    """Rebuild the GAN saved in ``run_dir/checkpoint.npz``: G and D weights, and the variant's own state
    (StyleGAN's step, which sets the resolution it draws at, and w_avg; BEGAN's k_t)."""
    from .checkpoint import load_checkpoint, read_checkpoint

    path = Path(run_dir) / "checkpoint.npz" if Path(run_dir).is_dir() else Path(run_dir)
    _, meta = read_checkpoint(path)
    variant_cls = get_variant(meta["variant"])
    cfg = config_from(variant_cls.Config, {k: tuple(v) if isinstance(v, list) else v
                                           for k, v in meta["config"].items()})
    info = DataInfo(meta["data_kind"], tuple(meta["data_shape"]), meta["num_classes"])
    gan = variant_cls(cfg, info, device)
    load_checkpoint(path, gan.modules(), {})
    gan.load_extra_state(meta.get("extra", {}))
    return gan, meta


def _memory_bytes() -> int | None:
    """The machine's physical memory, where the OS reports it."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def cmd_sample(args, parser) -> int:
    from . import viz
    from .train import generate_numpy

    if args.n < 1:
        parser.error("-n must be >= 1")
    out = Path(args.out)
    if out.suffix not in (".npy", ".png"):
        parser.error(f"--out {out}: expected a .npy or .png file name")
    try:
        gan, meta = load_run(args.run_dir, args.device)  # refuses a checkpoint holding NaN or inf
    except (FileNotFoundError, ValueError) as e:
        parser.error(str(e))
    if gan.data.kind in ("pairs", "unpaired"):
        parser.error(f"{args.run_dir}: {meta['variant']} translates images rather than sampling noise: "
                     f"`tinygan eval {args.run_dir}` translates the test set and writes test_pairs.png")
    shape = gan.data.shape
    if out.suffix == ".png" and gan.data.kind == "points" and shape != (2,):
        parser.error(f"--out {out}: a picture shows images or 2-D points, but this run's samples have "
                     f"shape {shape}: write a .npy file")
    noise, values = int(np.prod(gan.noise_shape(1)[1:])), int(np.prod(shape))
    need = args.n * (8 * noise + 4 * values)  # noise drawn in float64, samples in float32
    memory = _memory_bytes()
    if memory and need > memory:
        parser.error(f"-n {args.n}: the samples and their noise need {need / 2**30:.3g} GiB, more than this "
                     f"machine's {memory / 2**30:.3g} GiB of memory")
    rng = np.random.default_rng(args.seed)
    z, labels = gan.sample_z(args.n, rng), None
    if gan.cfg.conditional:
        k = gan.data.num_classes
        if args.label is not None and not 0 <= args.label < k:
            parser.error(f"--label {args.label}: expected a class in 0..{k - 1}")
        labels = np.full(args.n, args.label) if args.label is not None else rng.integers(0, k, args.n)
    elif args.label is not None:
        parser.error(f"--label: the {meta['variant']} run is not conditional")
    samples = generate_numpy(gan, z, labels)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".npy":
        np.save(out, samples)
    elif samples.ndim == 4:
        viz.save_image_grid(samples, out, nrow=int(np.ceil(np.sqrt(args.n))))
    else:
        viz.save_points_plot(np.zeros((0, 2)), samples, out, title=f"{meta['variant']} samples")
    print(f"wrote {args.n} samples of shape {samples.shape[1:]} to {out}")
    return 0


def cmd_list(args, parser) -> int:
    width = max(map(len, VARIANTS))
    print("variants (python -m tinygan train VARIANT):")
    for name, (_, dataset, summary) in VARIANTS.items():
        print(f"  {name:<{width}}  {summary}  [default dataset: {dataset}]")
    print("datasets (--dataset):")
    for name, summary in DATASETS.items():
        print(f"  {name:<{width}}  {summary}")
    return 0


def cmd_eval(args, parser) -> int:
    """Score a run's samples with the classifier of its dataset; real images scored the same way are
    the reference row."""
    from .classifier import JUDGED, STACKED_SAMPLES, Judge
    from .fileio import write_atomically
    from .train import judged_samples

    try:
        gan, meta = load_run(args.run_dir, args.device)
    except (FileNotFoundError, ValueError) as e:
        parser.error(str(e))
    dataset = meta["dataset"]
    if gan.data.kind in ("pairs", "unpaired"):
        return _eval_translation(gan, meta, args, parser)
    if dataset not in JUDGED:
        parser.error(f"{args.run_dir}: eval scores {', '.join(JUDGED)} runs; this run trained on {dataset!r} "
                     "(2-D runs log their mode scores in metrics.jsonl)")
    stacked = dataset == "stacked-mnist"
    n = args.n or (STACKED_SAMPLES if stacked else 10_000)
    most = 128_000 if stacked else 10_000  # the real images of the reference row (MNIST: the test set's)
    if not 2 <= n <= most:
        parser.error(f"-n {n}: expected 2 to {most:,} samples")
    try:
        judge = Judge.load(dataset, args.data_dir, n=n)
        real = get_dataset(dataset, data_dir=args.data_dir, rng=np.random.default_rng(args.seed))
    except (FileNotFoundError, ValueError) as e:
        parser.error(str(e))
    rng = np.random.default_rng(args.seed)
    rows = {"generated": judge(**judged_samples(gan, n, rng)),
            # the reference row: real training images scored the same way (train vs test)
            "real (train images)": judge(real.x[rng.choice(len(real), n, replace=False)])}
    result = {"run": str(args.run_dir), "step": meta.get("step"), "samples": n, "seed": args.seed,
              "classifier": {k: judge.meta.get(k) for k in ("dataset", "command", "test_accuracy")}, "scores": rows}
    out = (Path(args.run_dir) if Path(args.run_dir).is_dir() else Path(args.run_dir).parent) / "eval.json"
    write_atomically(out, lambda tmp: Path(tmp).write_text(json.dumps(result, indent=1)))
    print(f"{dataset}: {judge.meta['dataset']} classifier (test accuracy {100 * judge.meta['test_accuracy']:.2f}%), "
          f"{n} samples:")
    columns = [k for k in EVAL_COLUMNS if k in rows["generated"]]
    print("| | " + " | ".join(EVAL_COLUMNS[k][0] for k in columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for name, r in rows.items():
        print(f"| {name} | " + " | ".join(format(r[k], EVAL_COLUMNS[k][1]) if k in r else "" for k in columns) + " |")
    print(f"written to {out}")
    return 0


def _eval_translation(gan, meta: dict, args, parser) -> int:
    """Translate the held-out images of an image-to-image run. pix2pix: the L1 to the real targets, the
    sharpness of its outputs beside the targets', the PatchGAN's accuracy; SPADE: the per-class colour
    error against the photos, L1 and sharpness (``test_scores`` of each). CycleGAN: the cycle L1 both
    ways, and on mnist-fashion the digits' labels kept through A -> B -> A (tinygan's MNIST classifier).
    Writes eval.json and test_pairs.png (rows of image triples)."""
    from . import viz
    from .fileio import write_atomically
    from .train import TRIPLES_SHOWN

    dataset, pairs = meta["dataset"], gan.data.kind == "pairs"
    try:
        test = get_dataset(dataset, data_dir=args.data_dir, split="test", image_size=meta["data_shape"][-1])
    except (FileNotFoundError, ValueError) as e:
        parser.error(str(e))
    most = len(test) if pairs else min(len(test.x), len(test.y))
    n = most if args.n is None else args.n
    if not 1 <= n <= most:
        parser.error(f"-n {n}: expected 1 to {most} test images")
    folder = Path(args.run_dir) if Path(args.run_dir).is_dir() else Path(args.run_dir).parent
    if pairs:
        kw = {}
        if dataset == "facades":  # pix2pix on the colour maps: SPADE's colour score, on the snapped maps
            kw["class_maps"] = get_dataset("facades-classes", data_dir=args.data_dir, split="test",
                                           image_size=meta["data_shape"][-1]).y[:n]
        scores = gan.test_scores(test.y[:n], test.x[:n], **kw)
        summary = ", ".join(f"{k} {v:.4f}" for k, v in scores.items() if k != "n")
        shown = (test.y, test.x)
    else:
        out = gan.test_scores(test.x[:n], test.y[:n])
        scores = {"cycle_l1_a": float(out["cycle_l1_a"].mean()), "cycle_l1_b": float(out["cycle_l1_b"].mean()), "n": n}
        summary = f"cycle L1 A -> B -> A {scores['cycle_l1_a']:.4f}, B -> A -> B {scores['cycle_l1_b']:.4f}"
        if dataset == "mnist-fashion":
            from .classifier import accuracy, load_classifier
            from .data import load_mnist
            net, _ = load_classifier("mnist", args.data_dir)
            labels = load_mnist("mnist", "test", args.data_dir)[1][:n]
            scores.update(label_kept=accuracy(net, out["a_to_b_to_a"], labels), real_accuracy=accuracy(net, test.x[:n], labels))
            summary += (f"; digits classified as their label after A -> B -> A: {100 * scores['label_kept']:.1f}% "
                        f"(the real test digits: {100 * scores['real_accuracy']:.1f}%)")
        shown = (test.x, test.y)
    k = TRIPLES_SHOWN if pairs else TRIPLES_SHOWN // 2
    triples = gan.triples(tuple(Tensor(backend.to_device(np.asarray(a[:k]), gan.device)) for a in shown))
    grid = viz.save_image_grid(triples.reshape(-1, *triples.shape[2:]), folder / "test_pairs.png", nrow=6)
    result = {"run": str(args.run_dir), "step": meta.get("step"), "split": "test", "scores": scores}
    write_atomically(folder / "eval.json", lambda tmp: Path(tmp).write_text(json.dumps(result, indent=1)))
    print(f"{dataset} test set ({n}), step {meta.get('step')}: {summary}")
    print(f"written to {folder / 'eval.json'}; image triples: {grid}")
    return 0


EVAL_COLUMNS = {  # score: (column title, number format) of eval's table
    "classes_covered": ("classes", "d"), "modes_covered": ("modes (of 1000)", "d"), "kl_to_uniform": ("KL to uniform", ".3f"),
    "mean_confidence": ("mean confidence", ".3f"), "classifier_fid": ("classifier-FID", ".2f"),
    "precision": ("precision", ".3f"), "recall": ("recall", ".3f"), "label_accuracy": ("requested label", ".3f"),
    "code_purity": ("code purity", ".3f")}


def cmd_classifier(args, parser) -> int:
    from .classifier import build_classifier

    try:
        _, meta = build_classifier(args.dataset, args.data_dir, epochs=args.epochs)
    except (FileNotFoundError, ValueError) as e:
        parser.error(str(e))
    print(json.dumps(meta, indent=1))
    return 0


def _dataset(text: str) -> str:
    if text in DATASETS or text.startswith(FOLDER):
        return text
    raise argparse.ArgumentTypeError(f"unknown dataset {text!r}; expected one of {', '.join(DATASETS)}, "
                                     f"{FOLDER}PATH or {FOLDER}A,B")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tinygan", description="Train and sample GANs built from scratch.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a GAN variant", description=__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("variant", nargs="?", default="gan", choices=list(VARIANTS), metavar="VARIANT",
                   help="one of: " + ", ".join(VARIANTS) + " (default: gan)")
    t.add_argument("--dataset", type=_dataset, metavar="DATASET", help="one of: " + ", ".join(DATASETS) +
                   "; or folder:PATH (your images), folder:A,B (two unpaired domains); default: the variant's")
    t.add_argument("--data-dir", help="folder holding the MNIST/Fashion-MNIST .gz files or facades/")
    t.add_argument("--image-size", type=int, choices=[32, 64, 128, 256], help="facades and folder: the side of "
                   "the images (default 64; pix2pix's is 256)")
    t.add_argument("--steps", type=_positive)
    t.add_argument("--batch-size", type=_positive)
    t.add_argument("--lr", type=float, help="learning rate of both G and D")
    t.add_argument("--lr-decay", type=float, metavar="FRACTION",
                   help="decay the learning rates linearly to 0 over this last fraction of the steps "
                        "(default: the variant's, 0.5 on 2D points, 0 on images)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", choices=["cpu", "cuda"], default=backend.default_device())
    t.add_argument("--out", help="output folder (default: runs/VARIANT-DATASET)")
    again = t.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz, trained with "
                       "the same variant, dataset, config, seed, batch size and lr decay")
    again.add_argument("--overwrite", action="store_true", help="start over in an OUT that holds a run")
    t.add_argument("--sample-every", type=_positive)
    t.add_argument("--eval-every", type=_positive, metavar="STEPS", help="score image runs with tinygan's classifier "
                   "every STEPS steps (classifier-FID, classes or Stacked MNIST modes; in metrics.jsonl and losses.png)"
                   "; sgan: D's test error, by default every epoch")
    t.add_argument("--eval-samples", type=_positive, metavar="N",
                   help="samples scored each time (default 5000; Stacked MNIST: 26,000)")
    t.add_argument("--checkpoint-every", type=_positive)
    t.add_argument("--loss", help="override the loss pair (minimax, nonsaturating, maximum_likelihood, lsgan, wasserstein, hinge)")
    t.add_argument("--divergence", choices=list(F_DIVERGENCES), metavar="NAME",
                   help="fgan's f-divergence: one of " + ", ".join(F_DIVERGENCES) + " (default: pearson)")
    t.add_argument("--n-critic", type=_positive, help="D steps per G step")
    t.add_argument("--label-smoothing", type=float, metavar="REAL_LABEL", help="e.g. 0.9 (one-sided)")
    t.add_argument("--feature-matching", action="store_true")
    t.add_argument("--minibatch-discrimination", type=_positive, metavar="KERNELS")
    t.add_argument("--pack", type=_positive, help="PacGAN degree m")
    t.add_argument("--set", action="append", metavar="FIELD=VALUE", help="set any Config field (repeatable)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    s = sub.add_parser("sample", help="generate samples from a trained run")
    s.add_argument("run_dir", help="a run folder (or its checkpoint.npz)")
    s.add_argument("-n", type=int, default=64)
    s.add_argument("--out", required=True, help="FILE.npy (raw samples) or FILE.png (picture)")
    s.add_argument("--label", type=int, help="class to generate (conditional runs)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    sub.add_parser("list", help="list variants and datasets")
    e = sub.add_parser("eval", help="score an MNIST / Fashion-MNIST / Stacked MNIST run with tinygan's classifier, "
                       "or a pix2pix run on the facades test pairs (eval.json)")
    e.add_argument("run_dir", help="a run folder (or its checkpoint.npz)")
    e.add_argument("-n", type=int, help="samples to score (default 10,000, at most the 10,000 test images; "
                   "Stacked MNIST: 26,000)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--data-dir", help="folder holding the .gz files")
    e.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    c = sub.add_parser("classifier", help="(re)train the MNIST or Fashion-MNIST classifier that scores image "
                       "GANs, and cache it")
    c.add_argument("dataset", choices=["mnist", "fashion-mnist"])
    c.add_argument("--epochs", type=_positive, default=3)
    c.add_argument("--data-dir", help="folder holding the .gz files")
    return p


def main(argv=None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    sub = parser._subparsers._group_actions[0].choices[args.command]
    if getattr(args, "device", "cpu") == "cuda" and not backend.cuda_is_available():
        sub.error(f"--device cuda: no usable GPU ({backend.INSTALL_HINT})")
    return {"train": cmd_train, "sample": cmd_sample, "list": cmd_list,
            "classifier": cmd_classifier, "eval": cmd_eval}[args.command](args, sub)


if __name__ == "__main__":
    sys.exit(main())
