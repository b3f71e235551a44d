"""PNG plots of runs and learning-rate sweeps, also written to TensorBoard as images.

Figures are drawn with matplotlib's Agg canvas directly, without pyplot, so
no display or global backend setting is needed.
"""

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from sklearn.metrics import precision_recall_curve, roc_curve

# Points drawn per curve. Longer ROC and precision-recall curves (up to one
# point per test row) are thinned to evenly spaced points, which changes
# nothing visible at this figure size and bounds the drawing time.
MAX_CURVE_POINTS = 2000

# Percentiles of all test scores that bound the histogram bins. A few extreme
# scores (KDD99 reconstruction errors reach 1e9) would otherwise squeeze
# every other row into one bin.
HISTOGRAM_PERCENTILES = (0.5, 99.5)

# Ratio of the histogram range's ends above which positive scores get
# logarithmic bins.
LOG_BINS_RATIO = 100

# File names of the run plots, without the .png suffix, in drawing order.
RUN_PLOTS = ("losses", "roc", "precision_recall", "score_histograms")


def _new_figure(columns=1, size=(6.4, 4.2)):
    figure = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(figure)
    return figure, figure.subplots(1, columns, squeeze=False)[0]


def _save(figure, path):
    # One tight_layout call measured faster than the constrained layout
    # engine, which runs at every draw.
    figure.tight_layout()
    figure.savefig(path)
    return path


def _thin(x, y):
    """Keep at most `MAX_CURVE_POINTS` evenly spaced points of a curve, ends included."""
    if len(x) <= MAX_CURVE_POINTS:
        return x, y
    index = np.unique(np.linspace(0, len(x) - 1, MAX_CURVE_POINTS).round().astype(int))
    return x[index], y[index]


def plot_losses(history, path):
    """Draw every `loss_*` series of a Keras history against the epoch.

    Validation scores (`val_*`) get a second panel. Epochs count from 0, as
    in the per-epoch log lines.

    Returns:
        `path`, or `None` when the history has no epoch (for example with
        `--nb_epochs 0`).
    """
    losses = {name: values for name, values in history.items() if name.startswith("loss") and values}
    validation = {name: values for name, values in history.items() if name.startswith("val_") and values}
    if not losses:
        return None
    figure, axes = _new_figure(columns=2 if validation else 1, size=(9.6 if validation else 6.4, 4.2))
    for name, values in losses.items():
        axes[0].plot(np.arange(len(values)), values, label=name, marker="." if len(values) < 30 else None)
    axes[0].set(xlabel="epoch", ylabel="loss", title="Training losses per epoch")
    axes[0].legend(fontsize="small")
    for name, values in validation.items():
        axes[1].plot(np.arange(len(values)), values, label=name, marker="." if len(values) < 30 else None)
    if validation:
        axes[1].set(xlabel="epoch", ylabel="mean score", title="Validation score per epoch")
        axes[1].legend(fontsize="small")
    epochs = max(len(values) for values in losses.values())
    for axis in axes:
        # Epochs are whole numbers; with one or two epochs, Matplotlib's
        # default ticks would fall between them.
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        if epochs < 3:
            axis.set_xticks(range(epochs))
            axis.set_xlim(-0.5, epochs - 0.5)
    return _save(figure, path)


def plot_roc(y_true, scores, metrics, path):
    """Draw the ROC curve of every score, with its AUROC in the legend."""
    figure, axes = _new_figure(size=(5.2, 4.6))
    axes = axes[0]
    for name, values in scores.items():
        false_positive_rate, true_positive_rate, _ = roc_curve(y_true, values)
        axes.plot(
            *_thin(false_positive_rate, true_positive_rate),
            label=f"{name} (AUROC {metrics[name]['auroc']:.3f})",
        )
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=0.8, label="chance")
    axes.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curves (test)")
    axes.legend(fontsize="small", loc="lower right")
    return _save(figure, path)


def plot_precision_recall(y_true, scores, metrics, path):
    """Draw the precision-recall curve of every score, with its AUPRC in the legend."""
    figure, axes = _new_figure(size=(5.2, 4.6))
    axes = axes[0]
    for name, values in scores.items():
        precision, recall, _ = precision_recall_curve(y_true, values)
        axes.plot(*_thin(recall, precision), label=f"{name} (AUPRC {metrics[name]['auprc']:.3f})")
    anomalous_fraction = float(np.mean(y_true))
    axes.axhline(
        anomalous_fraction, color="grey", linestyle="--", linewidth=0.8,
        label=f"chance ({anomalous_fraction:.2f})",
    )
    axes.set(
        xlabel="recall", ylabel="precision", ylim=(0, 1.02),
        title="Precision-recall curves (test)",
    )
    axes.legend(fontsize="small", loc="lower left")
    return _save(figure, path)


def plot_score_histograms(y_true, scores, metrics, path):
    """Draw one panel per score: histograms of normal and anomalous test rows.

    Unlabelled rows (`y_true` of `None`) are drawn as one histogram.

    Each class's bars give the fraction of that class's rows, so both classes
    are comparable whatever their sizes. The bins span the 0.5th to 99.5th
    percentile of the score over all test rows, and scores outside that range
    are counted in the first or last bin. A dashed line marks the run's
    decision threshold.
    """
    unlabelled = y_true is None
    y_true = np.zeros(len(next(iter(scores.values()))), bool) if unlabelled else np.asarray(y_true).astype(bool)
    figure, axes = _new_figure(columns=len(scores), size=(3.6 * len(scores), 3.6))
    for axis, (name, values) in zip(axes, scores.items()):
        values = np.asarray(values, dtype=np.float64)
        low, high = np.percentile(values, HISTOGRAM_PERCENTILES)
        if high <= low:
            low, high = low - 0.5, high + 0.5
        # Positive scores spanning more than two decades get logarithmic
        # bins, because on linear bins the bulk of rows falls in the first one.
        logarithmic = low > 0 and high / low > LOG_BINS_RATIO
        if logarithmic:
            bins = np.geomspace(low, high, 51)
            axis.set_xscale("log")
        else:
            bins = np.linspace(low, high, 51)

        groups = [(~y_true, "all rows" if unlabelled else "normal", "tab:blue"), (y_true, "anomalous", "tab:red")]
        for mask, label, color in groups:
            if not mask.any():
                continue
            axis.hist(
                np.clip(values[mask], low, high), bins=bins,
                weights=np.full(mask.sum(), 1.0 / mask.sum()), alpha=0.5, histtype="stepfilled",
                color=color, label=f"{label} ({mask.sum():,})",
            )
        threshold = metrics[name]["threshold"]
        if low <= threshold <= high:
            axis.axvline(threshold, color="black", linestyle="--", linewidth=0.8, label="threshold")
        scale = ", log scale" if logarithmic else ""
        axis.set(
            title=f"{name} score", xlabel=f"score (0.5th to 99.5th percentile{scale})",
            ylabel="fraction of rows" if unlabelled else "fraction of the class's rows",
        )
        axis.legend(fontsize="x-small")
    return _save(figure, path)


def plot_sweep(table, primary_score, path):
    """Draw mean F1 against the learning rate, with the sample std over seeds as error bars.

    Args:
        table: Sweep table with one row per (learning rate, score): columns
            `learning_rate`, `score`, `f1_mean` and `f1_std`. Learning rates
            whose runs all failed have a missing `f1_mean` and are marked
            with a cross on the x axis.
        primary_score: Score drawn with error bars; the others are thin lines.
        path: PNG file to write.
    """
    figure, axes = _new_figure(size=(6.4, 4.4))
    axes = axes[0]
    for score, rows in table.groupby("score", sort=False):
        rows = rows.sort_values("learning_rate")
        done = rows[rows["f1_mean"].notna()]
        if score == primary_score:
            axes.errorbar(
                done["learning_rate"], done["f1_mean"], yerr=done["f1_std"].fillna(0.0),
                marker="o", capsize=3, linewidth=2, label=f"{score} (primary)",
            )
        else:
            axes.plot(done["learning_rate"], done["f1_mean"], marker=".", linewidth=1, alpha=0.7, label=score)
    failed = table[table["f1_mean"].isna()]["learning_rate"].unique()
    if len(failed):
        axes.plot(failed, np.zeros(len(failed)), "kx", markersize=9, label="all runs failed")
    axes.set_xscale("log")
    axes.set(xlabel="learning rate", ylabel="F1 (mean over seeds)", ylim=(-0.03, 1.03), title="F1 against learning rate")
    axes.legend(fontsize="small")
    return _save(figure, path)


def write_tensorboard_images(log_dir, images, step):
    """Write PNG files to a TensorBoard event file in `log_dir`, one image summary each.

    Args:
        log_dir: Folder of the event file.
        images: Dict of summary tag to PNG path.
        step: Step recorded with every image.
    """
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(log_dir))
    with writer.as_default():
        for tag, path in images.items():
            image = tf.io.decode_png(tf.io.read_file(str(path)), channels=3)
            tf.summary.image(tag, image[tf.newaxis], step=step)
    writer.close()


def write_run_plots(run_dir, history, y_true, scores, metrics, step):
    """Write the plots of one run as PNGs in `run_dir` and as images in `run_dir/plots`.

    Args:
        run_dir: Run folder.
        history: Keras history dict of per-epoch values.
        y_true: Test labels, 1 for anomalous rows, or `None` for an
            unlabelled table, which gets no ROC and precision-recall plots.
        scores: Dict of score name to test scores.
        metrics: Dict of score name to `binary_metrics` dicts.
        step: Training step of the scored weights, the TensorBoard step.

    Returns:
        Dict of plot name (see `RUN_PLOTS`) to PNG path. `losses` is missing
        when no epoch ran, `roc` and `precision_recall` without labels.
    """
    run_dir = Path(run_dir)
    drawn = {
        "losses": plot_losses(history, run_dir / "losses.png"),
        "score_histograms": plot_score_histograms(y_true, scores, metrics, run_dir / "score_histograms.png"),
    }
    if y_true is not None:
        drawn["roc"] = plot_roc(y_true, scores, metrics, run_dir / "roc.png")
        drawn["precision_recall"] = plot_precision_recall(
            y_true, scores, metrics, run_dir / "precision_recall.png"
        )
    paths = {name: path for name, path in drawn.items() if path is not None}
    write_tensorboard_images(run_dir / "plots", {f"plots/{name}": path for name, path in paths.items()}, step)
    return paths
