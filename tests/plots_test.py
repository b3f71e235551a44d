import time

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from alad_tf import plots
from alad_tf.evaluation import binary_metrics

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, path
    assert len(data) > 5_000, path


def read_images(folder):
    """Return {tag: decoded image array} of the image summaries in `folder`."""
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    accumulator.Reload()
    images = {}
    for tag in accumulator.Tags()["tensors"]:
        event = accumulator.Tensors(tag)[-1]
        # An image summary contains [width, height, PNG bytes, ...].
        encoded = tf.make_ndarray(event.tensor_proto)[2]
        images[tag] = tf.io.decode_png(encoded).numpy()
    return images


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(0)
    y = (rng.random(20_000) < 0.2).astype(int)
    scores = {name: rng.lognormal(size=len(y)) * (1 + shift * y) for name, shift in (("ch", 1.0), ("fm", 3.0))}
    metrics = {name: binary_metrics(y, values, np.percentile(values, 80)) for name, values in scores.items()}
    history = {
        "loss_generator": [3.0, 2.0, 1.5],
        "loss_encoder": [2.5, 2.0, 1.0],
        "loss_discriminator": [1.0, 1.2, 1.1],
        "val_score_fm": [0.4, 0.3, 0.35],
    }
    return y, scores, metrics, history


def test_run_plots_write_pngs_and_tensorboard_images(scored, tmp_path):
    y, scores, metrics, history = scored
    started = time.perf_counter()
    paths = plots.write_run_plots(tmp_path, history, y, scores, metrics, step=12)
    elapsed = time.perf_counter() - started

    assert set(paths) == set(plots.RUN_PLOTS)
    for name, path in paths.items():
        assert path == tmp_path / f"{name}.png"
        assert_png(path)
    images = read_images(tmp_path / "plots")
    assert set(images) == {f"plots/{name}" for name in plots.RUN_PLOTS}
    png = tf.io.decode_png(paths["roc"].read_bytes(), channels=3).numpy()
    np.testing.assert_array_equal(images["plots/roc"], png)
    # A loose bound, because other jobs may share the CPU cores.
    assert elapsed < 20


def test_losses_plot_skipped_without_epochs(scored, tmp_path):
    y, scores, metrics, _ = scored
    paths = plots.write_run_plots(tmp_path, {"loss_generator": []}, y, scores, metrics, step=0)
    assert "losses" not in paths
    assert not (tmp_path / "losses.png").exists()
    assert set(read_images(tmp_path / "plots")) == {"plots/roc", "plots/precision_recall", "plots/score_histograms"}


def test_curves_skipped_without_labels(scored, tmp_path):
    _, scores, _, history = scored
    metrics = {name: {"threshold": float(np.percentile(values, 90))} for name, values in scores.items()}
    paths = plots.write_run_plots(tmp_path, history, None, scores, metrics, step=3)
    assert set(paths) == {"losses", "score_histograms"}
    assert not (tmp_path / "roc.png").exists()
    assert not (tmp_path / "precision_recall.png").exists()
    assert_png(tmp_path / "score_histograms.png")


def test_curves_are_thinned():
    x = np.linspace(0, 1, 100_000)
    thin_x, thin_y = plots._thin(x, x**2)
    assert len(thin_x) <= plots.MAX_CURVE_POINTS
    assert thin_x[0] == 0
    assert thin_x[-1] == 1
    np.testing.assert_allclose(thin_y, thin_x**2)


def test_sweep_plot_with_failed_rate(tmp_path):
    table = pd.DataFrame([
        {"learning_rate": 1e-5, "score": "fm", "f1_mean": 0.4, "f1_std": 0.05},
        {"learning_rate": 1e-4, "score": "fm", "f1_mean": 0.6, "f1_std": float("nan")},
        {"learning_rate": 1e-5, "score": "ch", "f1_mean": 0.3, "f1_std": 0.1},
        {"learning_rate": 1e-2, "score": "fm", "f1_mean": float("nan"), "f1_std": float("nan")},
    ])
    path = plots.plot_sweep(table, "fm", tmp_path / "sweep.png")
    assert_png(path)
