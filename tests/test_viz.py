"""Each picture writer produces a file PIL can open and rejects wrongly shaped input."""
import numpy as np
import pytest
from PIL import Image

from tinygan import viz


def test_image_grid_shape_and_range():
    images = np.linspace(-2, 2, 10 * 28 * 28).reshape(10, 1, 28, 28)
    grid = viz.image_grid(images, nrow=4)            # 4 columns, 3 rows, 2-pixel borders
    assert grid.shape == (3 * 30 + 2, 4 * 30 + 2, 3) and grid.dtype == np.uint8
    assert grid[2:30, 2:30].min() == 0 and grid[62:90, 2:30].max() == 255     # clipped to [0, 255]
    assert (grid[0] == 0).all() and (grid[:, 0] == 0).all()                   # border


def test_image_grid_rgb_places_images_in_order():
    images = -np.ones((3, 3, 4, 5))
    images[1] = 1.0
    grid = viz.image_grid(images, nrow=8)            # fewer images than nrow: one row of 3
    assert grid.shape == (4 + 4, 3 * 7 + 2, 3)
    assert (grid[2:6, 9:14] == 255).all() and (grid[2:6, 2:7] == 0).all()


@pytest.mark.parametrize("shape", [(28, 28), (4, 28, 28), (4, 2, 28, 28), (0, 1, 28, 28)])
def test_image_grid_bad_shape_raises(shape):
    with pytest.raises(ValueError, match=r"image_grid.*\(N, C, H, W\)"):
        viz.image_grid(np.zeros(shape), nrow=4)


def test_save_image_grid(tmp_path):
    path = viz.save_image_grid(np.zeros((10, 1, 28, 28)), tmp_path / "sub" / "grid.png", nrow=4)
    with Image.open(path) as im:
        assert im.format == "PNG" and im.size == (122, 92)
    assert [p.name for p in path.parent.iterdir()] == ["grid.png"]     # no temp file left behind


def test_save_loss_curves(tmp_path):
    steps = list(range(0, 100, 5))
    history = {"d_loss": list(np.linspace(1, 0, 20)), "g_loss": list(np.sin(np.arange(20)))}
    for smooth in (0, 5):
        path = viz.save_loss_curves(history, steps, tmp_path / f"loss{smooth}.png", "losses", smooth)
        with Image.open(path) as im:
            assert im.format == "PNG"
    with pytest.raises(ValueError, match="save_loss_curves"):
        viz.save_loss_curves({"d_loss": [1.0, 2.0]}, [0, 1, 2], tmp_path / "bad.png")


def test_save_loss_curves_with_a_scores_panel(tmp_path):
    steps = list(range(10, 110, 10))
    history = {"d_loss": list(np.linspace(1, 0, 10))}
    plain = viz.save_loss_curves(history, steps, tmp_path / "plain.png")
    scored = viz.save_loss_curves(history, steps, tmp_path / "scored.png",
                                  scores={"classifier_fid": ([50, 100], [300.0, 120.0]), "classes_covered": ([50, 100], [7, 10])})
    with Image.open(plain) as a, Image.open(scored) as b:
        assert b.width > a.width  # the scores' column beside the losses
    with pytest.raises(ValueError, match=r"scores\['classifier_fid'\]"):
        viz.save_loss_curves(history, steps, tmp_path / "bad.png", scores={"classifier_fid": ([50, 100], [1.0])})


def test_moving_average():
    assert np.allclose(viz._moving_average(np.array([1.0, 3.0, 5.0, 7.0]), 2), [1, 2, 4, 6])


def test_save_points_plot_with_and_without_critic(tmp_path):
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((200, 2)), rng.standard_normal((150, 2)) + 1
    seen = []

    def critic(points):
        seen.append((points.shape, points.dtype))
        return -(points ** 2).sum(axis=1)

    for name, kwargs in [("plain.png", {}), ("critic.png", {"critic": critic, "lim": 3.0})]:
        with Image.open(viz.save_points_plot(real, fake, tmp_path / name, title="t", **kwargs)) as im:
            assert im.format == "PNG"
    assert seen == [((40000, 2), np.float32)]
    with pytest.raises(ValueError, match=r"save_points_plot.*\(n, 2\)"):
        viz.save_points_plot(real[:, :1], fake, tmp_path / "bad.png")
    with pytest.raises(ValueError, match="save_points_plot.*critic"):
        viz.save_points_plot(real, fake, tmp_path / "bad.png", critic=lambda p: p[:10, 0])


def test_save_gif_from_arrays_and_paths(tmp_path):
    frames = [np.full((16, 20, 3), 40 * i, dtype=np.uint8) for i in range(4)]
    with Image.open(viz.save_gif(frames, tmp_path / "a.gif", duration_ms=100)) as im:
        assert im.format == "GIF" and im.n_frames == 4 and im.size == (20, 16)
    paths = [viz.save_image_grid(np.full((2, 3, 8, 8), v), tmp_path / f"{i}.png")
             for i, v in enumerate([-1.0, 0.0, 1.0])]
    with Image.open(viz.save_gif(paths, tmp_path / "b.gif")) as im:
        assert im.n_frames == 3


def test_save_gif_bad_frames_raise(tmp_path):
    with pytest.raises(ValueError, match="save_gif"):
        viz.save_gif([], tmp_path / "a.gif")
    with pytest.raises(ValueError, match=r"save_gif.*\(H, W, 3\)"):
        viz.save_gif([np.zeros((16, 16), dtype=np.uint8)], tmp_path / "a.gif")
    with pytest.raises(ValueError, match="save_gif.*size"):
        viz.save_gif([np.zeros((16, 16, 3), np.uint8), np.zeros((8, 8, 3), np.uint8)], tmp_path / "a.gif")


def test_save_1d_hist(tmp_path):
    rng = np.random.default_rng(0)
    path = viz.save_1d_hist(rng.normal(4, 1, 500), rng.normal(0, 1, (500, 1)), tmp_path / "h.png", "1d")
    with Image.open(path) as im:
        assert im.format == "PNG"
    with pytest.raises(ValueError, match=r"save_1d_hist.*\(n,\)"):
        viz.save_1d_hist(np.zeros((5, 2)), np.zeros(5), tmp_path / "bad.png")
