"""The judges of the image GANs: a small CNN per dataset (MNIST, Fashion-MNIST), trained with tinygan.

A GAN's samples are scored by a classifier trained on the real data (``tinygan.metrics``): its labels
give the class coverage and histogram, its confidence an Inception-score analogue, and its penultimate
features a Frechet distance and precision / recall. The classifier is tinygan's own, never a download:

    net = load_classifier("mnist")   # from the cache, or trained now (a few minutes on 2 CPU cores)
    logits, features = net(x), net.features(x)   # x (N, 1, 28, 28) in [-1, 1]; features (N, 128)
    judge = Judge.load("mnist"); judge(images)   # every score of a run's samples (also Stacked MNIST's)

Its weights are cached as ``$XDG_CACHE_HOME/tinygan/classifiers/<dataset>.npz`` (default
``~/.cache/tinygan/...``; ``$TINYGAN_CLASSIFIERS`` overrides the folder), written atomically with the
command that trained them and their test accuracy inside (and in ``<dataset>.json`` beside them, for
people). ``python -m tinygan classifier mnist`` (re)trains one and prints its accuracy.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from . import nn, optim
from .checkpoint import load_checkpoint, save_checkpoint
from .data import load_mnist
from .factories import manual_seed
from .fileio import write_atomically
from .metrics import (
    class_coverage,
    cluster_purity,
    frechet_distance,
    kl_to_uniform,
    label_accuracy,
    precision_recall,
)
from .nn import functional as F
from .optim import lr_factor, set_lr_factor
from .tensor import Tensor, no_grad

DATASETS = ("mnist", "fashion-mnist")
FEATURES = 128  # the penultimate layer's width: the features of the Frechet distance and precision / recall


class Classifier(nn.Module):
    """Four 3x3 / 4x4 conv layers (two of stride 2), a hidden layer of 128 and 10 logits:
    (N, 1, 28, 28) -> 32 x 28 x 28 -> 32 x 14 x 14 -> 64 x 14 x 14 -> 64 x 7 x 7 -> 128 -> 10."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 32, 3, 1, 1), nn.ReLU(), nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),    # (N, 32, 14, 14)
            nn.Conv2d(32, 64, 3, 1, 1), nn.ReLU(), nn.Conv2d(64, 64, 4, 2, 1), nn.ReLU(),   # (N, 64, 7, 7)
            nn.Flatten(), nn.Linear(64 * 7 * 7, FEATURES), nn.ReLU())                       # (N, 128)
        self.head = nn.Linear(FEATURES, num_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


def cache_path(dataset: str) -> Path:
    """Where the weights of ``dataset``'s classifier are cached."""
    if dataset not in DATASETS:
        raise ValueError(f"classifier: no classifier for {dataset!r}; expected one of {DATASETS}")
    base = os.environ.get("TINYGAN_CLASSIFIERS")
    if base is None:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tinygan" / "classifiers"
    return Path(base) / f"{dataset}.npz"


def predict(net: Classifier, x: np.ndarray, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """(softmax probabilities (N, 10), features (N, 128)) of images x (N, 1, 28, 28), in eval mode."""
    net.eval()
    probs, feats = [], []
    with no_grad():
        for i in range(0, len(x), batch):
            f = net.features(Tensor(np.ascontiguousarray(x[i:i + batch], dtype=np.float32)))
            probs.append(F.softmax(net.head(f), 1).numpy())
            feats.append(f.numpy())
    return np.concatenate(probs), np.concatenate(feats)


def accuracy(net: Classifier, x: np.ndarray, y: np.ndarray) -> float:
    return float((predict(net, x)[0].argmax(1) == y).mean())


def train_classifier(x: np.ndarray, y: np.ndarray, epochs: int = 3, batch_size: int = 128, lr: float = 1e-3,
                     seed: int = 0, progress: bool = True) -> Classifier:
    """A Classifier trained on images x (N, 1, 28, 28) in [-1, 1] with labels y: Adam, cross-entropy,
    the data reshuffled every epoch, the learning rate decayed linearly to 0 over the last epoch."""
    manual_seed(seed)
    net = Classifier(int(y.max()) + 1)
    opt = optim.Adam(net.parameters(), lr)
    rng = np.random.default_rng(seed)
    steps_per_epoch = len(x) // batch_size
    total, start = epochs * steps_per_epoch, time.perf_counter()
    for step in range(total):
        if step % steps_per_epoch == 0:
            order = rng.permutation(len(x))
        idx = order[(step % steps_per_epoch) * batch_size:][:batch_size]
        set_lr_factor([opt], lr_factor(step, total, 1 / epochs))  # linear decay to 0 over the last epoch
        net.train()
        loss = F.cross_entropy(net(Tensor(x[idx])), Tensor(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if progress and (step + 1) % 100 == 0:
            print(f"  classifier step {step + 1}/{total}: loss {loss.item():.4f} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
    return net


def build_classifier(dataset: str, data_dir=None, epochs: int = 3, progress: bool = True) -> tuple[Classifier, dict]:
    """Train ``dataset``'s classifier, measure it on the test set, and cache it; returns (net, meta)."""
    path = cache_path(dataset)
    x, y = load_mnist(dataset, "train", data_dir)
    if progress:
        print(f"training the {dataset} classifier ({epochs} epochs of {len(x)} images); it is cached in {path}",
              flush=True)
    start = time.perf_counter()
    net = train_classifier(x, y, epochs=epochs, progress=progress)
    xt, yt = load_mnist(dataset, "test", data_dir)
    meta = {"dataset": dataset, "command": f"python -m tinygan classifier {dataset} --epochs {epochs}",
            "epochs": epochs, "test_accuracy": accuracy(net, xt, yt), "train_seconds": round(time.perf_counter() - start),
            "trained": time.strftime("%Y-%m-%d %H:%M:%S")}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, {"classifier": net}, {}, meta)
    write_atomically(path.with_suffix(".json"), lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1)))
    if progress:
        print(f"{dataset} classifier: test accuracy {100 * meta['test_accuracy']:.2f}%", flush=True)
    return net, meta


def load_classifier(dataset: str, data_dir=None, progress: bool = True) -> tuple[Classifier, dict]:
    """(net, meta) of ``dataset``'s classifier from the cache; trained and cached first when absent."""
    path = cache_path(dataset)
    if not path.is_file():
        return build_classifier(dataset, data_dir, progress=progress)
    net = Classifier()
    meta = load_checkpoint(path, {"classifier": net}, {})
    net.eval()
    return net, meta


JUDGED = {"mnist": "mnist", "fashion-mnist": "fashion-mnist", "stacked-mnist": "mnist",   # run's data -> classifier
          "mnist32": "mnist", "fashion-mnist32": "fashion-mnist"}
STACKED_SAMPLES = 26_000  # Stacked MNIST's protocol (VEEGAN Sec. 5.2; PacGAN Table 2)


class Judge:
    """Scores a run's samples with its dataset's classifier, against the real test set::

        judge = Judge.load("mnist")    # the cached classifier (trained first if absent), and the
                                        # features of the first n test images (the reference)
        judge(images)                  # the class histogram, KL, confidence, classifier-FID, precision / recall
        judge(images, requested=y)     # + label_accuracy: a conditional G asked for classes y
        judge(images, codes=c)         # + code_purity: InfoGAN's categorical code against the classes

    Stacked MNIST images (N, 3, 28, 28) are judged channel by channel by the MNIST classifier: the
    digit triple is the mode, one of 1000, and the scores are the modes covered and the KL of the
    mode histogram to uniform (Srivastava et al. 2017, Sec. 5.2; Lin et al. 2018, Table 2)."""

    def __init__(self, net: Classifier, reference: np.ndarray | None, meta: dict | None = None):
        """``net`` and the features of real test images (None for Stacked MNIST, judged by modes only)."""
        self.net, self.reference, self.meta = net, reference, meta or {}

    @classmethod
    def load(cls, dataset: str, data_dir=None, n: int = 10_000, progress: bool = True) -> Judge:
        """The judge of ``dataset``'s runs: its cached classifier (trained first if absent) and the
        features of its first n test images."""
        if dataset not in JUDGED:
            raise ValueError(f"Judge: no classifier scores {dataset!r} runs; expected one of {', '.join(JUDGED)}")
        net, meta = load_classifier(JUDGED[dataset], data_dir, progress=progress)
        if dataset == "stacked-mnist":
            return cls(net, None, meta)
        test_x, _ = load_mnist(JUDGED[dataset], "test", data_dir)
        return cls(net, predict(net, test_x[:n])[1], meta)

    def __call__(self, images: np.ndarray, requested: np.ndarray | None = None, codes: np.ndarray | None = None,
                 manifold: bool = True, k: int = 3) -> dict:
        """The scores of ``images``; precision / recall (k-NN manifolds) only with ``manifold``."""
        if self.reference is None:
            return self.stacked(images)
        if images.shape[-2:] == (32, 32):  # the padded sets (mnist32, fashion-mnist32): their central 28 x 28
            images = images[..., 2:30, 2:30]
        probs, feats = predict(self.net, images)
        labels = probs.argmax(1)
        covered, hist = class_coverage(labels, probs.shape[1])
        result = {"n": len(images), "classes_covered": covered, "class_histogram": [round(float(h), 4) for h in hist],
                  "kl_to_uniform": kl_to_uniform(np.bincount(labels, minlength=probs.shape[1])),
                  "mean_confidence": float(probs.max(1).mean()),
                  "classifier_fid": frechet_distance(feats, self.reference)}
        if manifold:
            result["precision"], result["recall"] = precision_recall(self.reference, feats, k=k)
        if requested is not None:
            result["label_accuracy"] = label_accuracy(labels, requested)
        if codes is not None:
            result["code_purity"] = cluster_purity(codes, labels)
        return result

    def stacked(self, images: np.ndarray) -> dict:
        """Stacked MNIST's scores: each channel labelled as a digit, the triple as the mode in 0..999."""
        n, c = images.shape[:2]
        if images.shape[1:] != (3, 28, 28):
            raise ValueError(f"Judge: Stacked MNIST images have shape (N, 3, 28, 28), got {images.shape}")
        probs, _ = predict(self.net, images.reshape(n * c, 1, 28, 28))   # image-major: R, G, B of image 0, ...
        modes = probs.argmax(1).reshape(n, c) @ np.array([100, 10, 1])   # (N,) in 0..999
        covered, _ = class_coverage(modes, 1000)
        return {"n": n, "modes_covered": covered, "kl_to_uniform": kl_to_uniform(np.bincount(modes, minlength=1000)),
                "mean_confidence": float(probs.max(1).mean())}
