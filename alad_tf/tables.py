"""Mean ± std tables over runs, and their Markdown and file helpers.

This module imports neither TensorFlow nor Keras, so `alad_tf.report` reads
run summaries without loading them.
"""

import math
from pathlib import Path

import numpy as np
import pandas as pd

# Run flags that change results without appearing in the run folder's name.
SETTINGS_OUTSIDE_FOLDER_NAME = (
    "d", "threshold_percentile", "data_path", "label_column", "anomaly_values",
    "categorical_columns", "contamination", "fillna", "no_header", "drop_columns",
)

# Metrics averaged over runs, in table order, with their column titles.
SUMMARY_METRICS = ("precision", "recall", "f1", "auroc", "auprc")
METRIC_TITLES = {
    "precision": "precision", "recall": "recall", "f1": "F1", "auroc": "AUROC", "auprc": "AUPRC",
}
THRESHOLD_TITLES = {
    "test_percentile": "test percentile (reference rule)",
    "train_percentile": "train percentile (leak-free)",
}
INFERENCE_TITLE = "mean inference time (s per batch)"


def aggregate(summaries):
    """Compute the mean and sample standard deviation over runs of every score's metrics.

    Args:
        summaries: Run summaries, as returned by `run_experiment` or read from
            `summary.json`: dicts with `metrics` (score name to a dict of
            `SUMMARY_METRICS`) and `mean_inference_time_s`.

    Returns:
        A DataFrame with one row per score, in first-seen order, and columns
        `score`, `seeds` (the number of runs that have the score),
        `<metric>_mean` and `<metric>_std` for each of `SUMMARY_METRICS`, and
        `mean_inference_time_s` (mean over all runs). The standard deviation
        has 1 degree of freedom removed (`ddof=1`, as `pandas.Series.std`), so
        it is NaN for a single run. A metric missing from every run is NaN.
    """
    columns = ["score", "seeds"]
    for metric in SUMMARY_METRICS:
        columns += [f"{metric}_mean", f"{metric}_std"]
    columns.append("mean_inference_time_s")

    score_names = []
    for summary in summaries:
        score_names += [name for name in summary["metrics"] if name not in score_names]
    times = [s["mean_inference_time_s"] for s in summaries if s.get("mean_inference_time_s") is not None]
    mean_time = float(np.mean(times)) if times else math.nan

    rows = []
    for name in score_names:
        runs = [summary["metrics"][name] for summary in summaries if name in summary["metrics"]]
        row = {"score": name, "seeds": len(runs)}
        for metric in SUMMARY_METRICS:
            values = [run[metric] for run in runs if run.get(metric) is not None]
            row[f"{metric}_mean"] = float(np.mean(values)) if values else math.nan
            row[f"{metric}_std"] = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
        row["mean_inference_time_s"] = mean_time
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def format_mean_std(mean, std):
    """Format `mean ± std` with 4 decimals: the mean alone without a std, `–` without a mean."""
    if mean is None or math.isnan(mean):
        return "–"
    if std is None or math.isnan(std):
        return f"{mean:.4f}"
    return f"{mean:.4f} ± {std:.4f}"


def format_seconds(value):
    """Format a duration in seconds with 4 significant digits, or `–` when missing."""
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.4g}"


def count_of(number, noun):
    """Return `1 run`, `2 runs`: `number` and `noun`, with an `s` unless the number is 1."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def markdown_table(header, rows):
    """Return a Markdown table. Pipes in cells are escaped."""

    def cell(value):
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(cell(title) for title in header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def metric_cells(row, metrics=SUMMARY_METRICS):
    """Return the `mean ± std` cells of `metrics` from a row of `aggregate`."""
    return [format_mean_std(row[f"{metric}_mean"], row[f"{metric}_std"]) for metric in metrics]


def free_stem(folder, stem, suffixes):
    """Return `stem`, or the first of `stem_2`, `stem_3`, … with no file `folder/<stem><suffix>`.

    Files that belong together (a CSV, its Markdown and its plot) get the
    same stem, and no earlier file is overwritten.
    """
    folder = Path(folder)
    candidate, index = stem, 2
    while any((folder / f"{candidate}{suffix}").exists() for suffix in suffixes):
        candidate = f"{stem}_{index}"
        index += 1
    return candidate
