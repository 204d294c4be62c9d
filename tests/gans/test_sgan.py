"""The semi-supervised GAN (Salimans et al. 2016, Sec. 5): its losses against the K+1-class softmax they
stand for, their gradients, the labelled examples, D's init and test error, the baseline, and learning."""
import json

import numpy as np
import pytest

import tinygan
from tinygan import losses as L
from tinygan.data import Dataset, get_dataset, labelled_subset
from tinygan.gans.common import DataInfo, config_from
from tinygan.gans.sgan import Config, SemiSupervisedGAN, error_rate
from tinygan.gradcheck import gradcheck
from tinygan.train import TrainConfig, train


def t(values, requires_grad=False):
    return tinygan.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def _softmax_k_plus_1(logits):
    """p(class | x) over the K real classes and the fake one, whose logit is 0: the definition, naively."""
    e = np.exp(np.concatenate([logits, np.zeros((len(logits), 1))], 1))  # (N, K+1)
    return e / e.sum(1, keepdims=True)


LOGITS = np.random.default_rng(0).normal(0, 2, (6, 4))                    # (N, K) with K = 4
FAKE_LOGITS = np.random.default_rng(1).normal(-1, 2, (5, 4))
LABELS = np.array([0, 3, 1, 1, 2, 0])


# ---- the losses: known values -------------------------------------------------------------------
def test_supervised_loss_is_the_cross_entropy_given_a_real_class():
    p = _softmax_k_plus_1(LOGITS)
    expected = -np.mean(np.log(p[np.arange(6), LABELS] / p[:, :4].sum(1)))   # -log p(y | x, y < K+1)
    assert L.sgan_supervised_loss(t(LOGITS), LABELS).item() == pytest.approx(expected, rel=1e-12)


def test_unsupervised_loss_equals_the_naive_k_plus_1_softmax_form():
    real_fake_prob, fake_fake_prob = _softmax_k_plus_1(LOGITS)[:, 4], _softmax_k_plus_1(FAKE_LOGITS)[:, 4]
    expected = -np.mean(np.log(1 - real_fake_prob)) - np.mean(np.log(fake_fake_prob))  # D(x) = 1 - p(fake | x)
    assert L.sgan_unsupervised_loss(t(LOGITS), t(FAKE_LOGITS)).item() == pytest.approx(expected, rel=1e-12)


def test_unsupervised_loss_at_d_one_half_is_log_4():
    """Z(x) = 1 (every l_k = -log K) gives D = 1/2 on both batches: the loss is 2 log 2 = log 4."""
    logits = np.full((3, 5), -np.log(5))
    assert L.sgan_unsupervised_loss(t(logits), t(logits)).item() == pytest.approx(np.log(4), rel=1e-12)


def test_losses_stay_finite_for_huge_logits():
    big = t([[1000.0, -1000.0], [-1000.0, 1000.0]])
    assert L.sgan_supervised_loss(big, [0, 1]).item() == pytest.approx(0.0, abs=1e-12)
    assert L.sgan_supervised_loss(big, [1, 0]).item() == pytest.approx(2000.0)
    low = t(np.full((2, 2), -1000.0))                                                  # Z = 0: surely fake
    assert L.sgan_unsupervised_loss(big, low).item() == pytest.approx(0.0, abs=1e-12)   # right on both
    assert L.sgan_unsupervised_loss(low, big).item() == pytest.approx(2000 - np.log(2))  # wrong on both
    with pytest.raises(ValueError, match="expected \\(N, K\\) and \\(N,\\)"):
        L.sgan_supervised_loss(big, [0, 1, 1])


# ---- the losses: gradients --------------------------------------------------------------------
def test_supervised_loss_gradcheck():
    assert gradcheck(lambda x: L.sgan_supervised_loss(x, LABELS), (t(LOGITS, True),))


def test_unsupervised_loss_gradcheck():
    assert gradcheck(L.sgan_unsupervised_loss, (t(LOGITS, True), t(FAKE_LOGITS, True)))


# ---- the labelled examples -----------------------------------------------------------------------
def _labelled_images(n=300, k=10, seed=0):
    """Images whose pixels spell their index, with labels 0..k-1 (n / k of each)."""
    y = np.random.default_rng(seed).permutation(np.arange(n) % k)
    x = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None, None] / n, (n, 1, 28, 28)).copy()
    return Dataset("tiny-labelled", x, y, "images", k)


def test_labelled_subset_takes_per_class_examples_chosen_by_seed():
    y = _labelled_images().y
    a = labelled_subset(y, 10, np.random.default_rng(0))
    assert len(a) == 100 and len(set(a)) == 100
    assert np.bincount(y[a]).tolist() == [10] * 10
    np.testing.assert_array_equal(a, labelled_subset(y, 10, np.random.default_rng(0)))   # same seed, same set
    assert set(a) != set(labelled_subset(y, 10, np.random.default_rng(1)))              # another seed, another
    few = labelled_subset(np.array([0, 0, 1, 1, 1]), 2, np.random.default_rng(0))       # a class with fewer: all
    assert sorted(np.array([0, 0, 1, 1, 1])[few]) == [0, 0, 1, 1]


def _sgan(data, **overrides):
    tinygan.manual_seed(0)
    return SemiSupervisedGAN(config_from(Config, overrides), DataInfo(data.kind, tuple(data.x.shape[1:]), data.num_classes))


def test_the_run_labels_10_per_class_by_its_seed_and_batches_keep_each_image_with_its_label(tmp_path):
    data = _labelled_images()
    gan = _sgan(data)
    gan.prepare(data, TrainConfig(seed=5))
    x, y = gan.labelled
    assert np.bincount(y).tolist() == [10] * 10
    index = np.round(x[:, 0, 0, 0] * len(data)).astype(int)                     # the images' own indices
    np.testing.assert_array_equal(data.y[index], y)
    again = _sgan(data)
    again.prepare(data, TrainConfig(seed=5))
    np.testing.assert_array_equal(again.labelled[0], x)
    other = _sgan(data)
    other.prepare(data, TrainConfig(seed=6))
    assert not np.array_equal(np.sort(other.labelled[0], axis=0), np.sort(x, axis=0))
    xb, yb = gan.labelled_batch(16, np.random.default_rng(0))                   # a step's labelled batch
    assert xb.shape == (16, 1, 28, 28)
    np.testing.assert_array_equal(data.y[np.round(xb.numpy()[:, 0, 0, 0] * len(data)).astype(int)], yb)
    assert len(gan.labelled_batch(500, np.random.default_rng(0))[1]) == 100     # at most all of them


# ---- D: fixed hidden scales, data-dependent init, test error -----------------------------------------
def test_d_is_weight_normed_with_fixed_hidden_scales_and_unit_preactivations_after_init():
    data = _labelled_images()
    data = Dataset(data.name, np.random.default_rng(0).uniform(-1, 1, data.x.shape).astype(np.float32), data.y,
                   "images", 10)
    gan = _sgan(data, input_noise=0.0, hidden_noise=0.0)
    trained = {n for n, _ in gan.D.named_parameters()}
    assert "head.1.weight_g" in trained and not any(n.endswith("weight_g") for n in trained if n.startswith("trunk"))
    assert "trunk.2.weight_g" in dict(gan.D.named_buffers())                      # saved, not trained
    gan.prepare(data, TrainConfig(seed=0))
    h = tinygan.tensor(data.x)                                                    # all 300 were the init batch
    with tinygan.no_grad():
        for layer in [*gan.D.trunk, *gan.D.head]:
            h = layer(h)
            if hasattr(layer, "weight_v"):
                np.testing.assert_allclose(h.numpy().mean(0), 0, atol=1e-4)
                np.testing.assert_allclose(h.numpy().std(0), 1, rtol=1e-3)


def test_error_rate_is_the_argmax_of_the_k_logits_in_eval_mode():
    data = _labelled_images(60)
    gan = _sgan(data)
    with tinygan.no_grad():
        gan.D.eval()
        guess = gan.D(tinygan.tensor(data.x)).numpy().argmax(1)
        gan.D.train()
    assert error_rate(gan.D, data.x, guess, chunk=7) == 0.0       # the same argmax, chunk by chunk, no noise
    assert error_rate(gan.D, data.x, data.y, chunk=7) == pytest.approx(np.mean(guess != data.y))
    assert gan.D.training
    assert gan.scores() == {}   # no test set for this data


def test_the_tested_d_is_the_running_average_of_d(tmp_path):
    """After each D step, D_avg <- a D_avg + (1 - a) D (Polyak averaging, as the authors test); it starts as D."""
    data = _labelled_images(120)
    gan = _sgan(data, average=0.9)
    gan.prepare(data, TrainConfig(seed=0))
    start = {k: p.data.copy() for k, p in gan.D.named_parameters()}
    np.testing.assert_array_equal(gan.D_avg.state_dict()["trunk.2.weight_g"], gan.D.state_dict()["trunk.2.weight_g"])
    real = tinygan.tensor(data.x[:16])
    gan.d_step(real, None, np.random.default_rng(0))
    for k, p in gan.D_avg.named_parameters():
        np.testing.assert_allclose(p.data, 0.9 * start[k] + 0.1 * dict(gan.D.named_parameters())[k].data, rtol=1e-5,
                                   atol=1e-7)
    assert "D_avg" in gan.modules()   # saved with the checkpoint: a resumed run tests the same average


def test_baseline_trains_d_on_the_labels_alone_and_leaves_g(tmp_path):
    data = _labelled_images(120)
    gan = _sgan(data, unsupervised=False)
    before = {k: p.data.copy() for k, p in gan.G.named_parameters()}
    rows = train(gan, data, TrainConfig(steps=3, batch_size=16, out=str(tmp_path), progress=False, log_every=1))
    assert set(rows[-1]) == {"d_loss", "step", "steps_per_s"}
    assert all(np.array_equal(before[k], p.data) for k, p in gan.G.named_parameters())


def test_refuses_data_without_labels():
    with pytest.raises(ValueError, match="sgan: needs labelled images"):
        SemiSupervisedGAN(Config(), DataInfo("images", (1, 28, 28), None))


def _mnist_or_skip(n=None):
    try:
        return get_dataset("mnist", n=n)
    except FileNotFoundError as e:
        pytest.skip(f"needs MNIST: {str(e).splitlines()[0]}")


def test_test_error_is_logged_every_eval_every_steps(tmp_path):
    data = _mnist_or_skip(n=500)
    gan = _sgan(data)
    train(gan, data, TrainConfig(steps=4, batch_size=20, out=str(tmp_path), progress=False, log_every=1,
                                 eval_every=2, sample_every=4))
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "test_error" in r] == [2, 4]
    assert all(0 <= r[k] <= 1 for r in rows if "test_error" in r for k in ("test_error", "test_error_current"))


@pytest.mark.slow
def test_sgan_learns_mnist_from_100_labels(tmp_path):
    """300 steps (half an epoch) of the paper's setup: D's test error well below chance (90%). (D's own
    weights: at 300 steps their running average still holds 74% of the initial ones.)"""
    data = _mnist_or_skip()
    gan = _sgan(data)
    rows = train(gan, data, TrainConfig(steps=300, batch_size=100, out=str(tmp_path), progress=False,
                                        eval_every=300, sample_every=300, log_every=50))
    assert rows[-1]["test_error_current"] < 0.5, rows[-1]
