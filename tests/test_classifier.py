"""tinygan.classifier: the CNN that scores image GANs, trained on tiny images made here, and its cache."""
import json

import numpy as np
import pytest

import tinygan.classifier as C
from tinygan.cli import main


def tiny_images(n: int, seed: int = 0):
    """Two classes of 28x28 images in [-1, 1]: a bright square top-left (0) or bottom-right (1), plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.uniform(-1, -0.6, (n, 1, 28, 28)).astype(np.float32)
    for i, label in enumerate(y):
        r = slice(3, 11) if label == 0 else slice(17, 25)
        x[i, 0, r, r] = 1.0
    return x, y.astype(np.int64)


def test_it_learns_a_separable_task_and_gives_probabilities_and_features():
    x, y = tiny_images(256)
    net = C.train_classifier(x, y, epochs=2, batch_size=32, progress=False)
    xt, yt = tiny_images(200, seed=1)
    assert C.accuracy(net, xt, yt) >= 0.95
    probs, feats = C.predict(net, xt, batch=64)
    assert probs.shape == (200, 2) and feats.shape == (200, C.FEATURES)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)


def test_the_cache_is_written_once_and_read_back(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYGAN_CLASSIFIERS", str(tmp_path))
    calls = []

    def fake_load(name, split, data_dir=None):  # tiny data in place of MNIST
        calls.append(split)
        x, y = tiny_images(128 if split == "train" else 64, seed=0 if split == "train" else 1)
        return x, y % 10

    monkeypatch.setattr(C, "load_mnist", fake_load)
    monkeypatch.setattr(C, "train_classifier", lambda x, y, epochs, progress: C.Classifier())  # no training here
    net, meta = C.load_classifier("mnist", progress=False)            # absent: built and cached
    assert calls == ["train", "test"]
    assert (tmp_path / "mnist.npz").is_file()
    beside = json.loads((tmp_path / "mnist.json").read_text())
    assert beside["command"] == "python -m tinygan classifier mnist --epochs 3" == meta["command"]
    assert 0.0 <= beside["test_accuracy"] <= 1.0
    again, meta2 = C.load_classifier("mnist", progress=False)         # present: read, not trained
    assert calls == ["train", "test"] and meta2["test_accuracy"] == meta["test_accuracy"]
    x, _ = tiny_images(8)
    np.testing.assert_array_equal(C.predict(net, x)[1], C.predict(again, x)[1])
    (tmp_path / "mnist.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="mnist.npz.*corrupt"):
        C.load_classifier("mnist", progress=False)


def test_unknown_datasets_are_refused(capsys):
    with pytest.raises(ValueError, match="classifier: no classifier for 'cifar10'"):
        C.cache_path("cifar10")
    with pytest.raises(SystemExit) as e:
        main(["classifier", "cifar10"])
    assert e.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def _mnist_or_skip():
    from tinygan.data import load_mnist
    try:
        return load_mnist("mnist", "test", download=False)
    except FileNotFoundError:
        pytest.skip("needs the MNIST files ($TINYGAN_DATA)")


def test_scores_of_real_images_beat_one_repeated_image():
    """Real images score near the reference (the test set); one image repeated covers 1 class, far away."""
    x, _ = _mnist_or_skip()
    net = C.Classifier()  # untrained: its features still tell the two sets apart
    judge = C.Judge(net, C.predict(net, x[:500])[1])
    real = judge(x[500:1000])
    repeated = judge(np.repeat(x[:1], 500, axis=0))
    assert repeated["classes_covered"] == 1 and repeated["kl_to_uniform"] == pytest.approx(np.log(10))
    assert repeated["classifier_fid"] > 20 * real["classifier_fid"]
    assert real["recall"] > 0.5 and repeated["recall"] < 0.05
    assert set(real) == {"n", "classes_covered", "class_histogram", "kl_to_uniform", "mean_confidence",
                         "classifier_fid", "precision", "recall"}
    assert "precision" not in judge(x[500:1000], manifold=False)


@pytest.fixture(scope="module")
def two_class_judge():
    """A judge whose classifier tells tiny_images' two classes apart, with its test images and labels."""
    x, y = tiny_images(256)
    net = C.train_classifier(x, y, epochs=2, batch_size=32, progress=False)
    xt, yt = tiny_images(400, seed=1)
    return C.Judge(net, C.predict(net, xt[:200])[1]), xt[200:], yt[200:]


def test_requested_labels_and_codes_are_scored_and_shuffling_breaks_them(two_class_judge):
    judge, x, y = two_class_judge
    honest = judge(x, requested=y, codes=1 - y)       # a code that is the class, relabelled
    assert honest["label_accuracy"] >= 0.95 and honest["code_purity"] >= 0.95
    shuffled = np.random.default_rng(0).permutation(y)
    broken = judge(x, requested=shuffled, codes=shuffled)
    assert broken["label_accuracy"] < 0.7 and broken["code_purity"] < 0.7   # chance is 0.5 for two classes


def test_stacked_images_are_judged_channel_by_channel(two_class_judge):
    """Stacked MNIST: each channel labelled on its own, the triple is the mode (of 1000)."""
    judge, x, y = two_class_judge
    stacked = C.Judge(judge.net, None)
    rng = np.random.default_rng(0)
    index = rng.integers(0, len(x), (600, 3))
    images = x[index, 0]                                               # (600, 3, 28, 28)
    scored = stacked(images)
    assert scored["n"] == 600 and scored["modes_covered"] == 8         # 2 classes per channel: 2^3 modes
    expected = np.bincount(y[index] @ np.array([100, 10, 1]), minlength=1000)
    assert scored["kl_to_uniform"] == pytest.approx(C.kl_to_uniform(expected), abs=0.05)
    first, second = x[y == 0][0, 0], x[y == 1][0, 0]
    two = np.stack([np.stack([first, first, second]), np.stack([second, second, first])] * 25)  # modes 001, 110
    assert stacked(two)["modes_covered"] == 2 and stacked(two)["kl_to_uniform"] == pytest.approx(np.log(500))
    one = stacked(np.repeat(images[:1], 50, axis=0))
    assert one["modes_covered"] == 1 and one["kl_to_uniform"] == pytest.approx(np.log(1000))
    with pytest.raises(ValueError, match=r"Stacked MNIST.*\(N, 3, 28, 28\)"):
        stacked(x[:10])


def test_eval_writes_eval_json_beside_the_run(tmp_path, monkeypatch, capsys):
    _mnist_or_skip()
    run = tmp_path / "run"
    assert main(["train", "dcgan", "--dataset", "mnist", "--steps", "2", "--batch-size", "16", "--out", str(run),
                 "--no-progress"]) == 0
    meta = {"dataset": "mnist", "command": "(an untrained net, for the test)", "test_accuracy": 0.1}
    monkeypatch.setattr(C, "load_classifier", lambda dataset, data_dir=None, progress=True: (C.Classifier(), meta))
    assert main(["eval", str(run), "-n", "300"]) == 0
    result = json.loads((run / "eval.json").read_text())
    generated, real = result["scores"]["generated"], result["scores"]["real (train images)"]
    assert result["samples"] == 300 and generated["n"] == real["n"] == 300
    assert generated["classifier_fid"] > real["classifier_fid"]  # 2 steps of DCGAN are far from the data
    out = capsys.readouterr().out
    assert "| generated |" in out and "| real (train images) |" in out and "eval.json" in out
    with pytest.raises(SystemExit) as e:  # a 2-D run has no classifier
        main(["train", "gan", "--steps", "2", "--out", str(tmp_path / "points"), "--no-progress"])
        main(["eval", str(tmp_path / "points")])
    assert e.value.code == 2


def test_eval_of_conditional_and_stacked_runs(tmp_path, monkeypatch, capsys):
    """A cGAN run is scored on the labels it was asked for; a Stacked MNIST run by its 1000 modes, with
    real stacked images as the reference row."""
    _mnist_or_skip()
    meta = {"dataset": "mnist", "command": "(an untrained net, for the test)", "test_accuracy": 0.1}
    monkeypatch.setattr(C, "load_classifier", lambda dataset, data_dir=None, progress=True: (C.Classifier(), meta))
    for variant, dataset in (("cgan", "mnist"), ("dcgan", "stacked-mnist")):
        run = tmp_path / variant
        assert main(["train", variant, "--dataset", dataset, "--steps", "2", "--batch-size", "16", "--out", str(run),
                     "--no-progress"]) == 0
        assert main(["eval", str(run), "-n", "200"]) == 0
        scores = json.loads((run / "eval.json").read_text())["scores"]
        out = capsys.readouterr().out
        if variant == "cgan":
            assert 0 <= scores["generated"]["label_accuracy"] <= 1 and "requested label" in out
        else:
            generated, real = scores["generated"], scores["real (train images)"]
            assert set(generated) == {"n", "modes_covered", "kl_to_uniform", "mean_confidence"}
            assert real["n"] == 200 and "modes (of 1000)" in out
