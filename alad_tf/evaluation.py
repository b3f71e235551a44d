"""Scoring, thresholds and metrics shared by every model and dataset."""

import time

import numpy as np
import tensorflow as tf
from absl import logging
from sklearn.metrics import (
    auc,
    precision_recall_curve,
    precision_recall_fscore_support,
    roc_curve,
)

THRESHOLD_MODES = ("test_percentile", "train_percentile")

# Percentile of the validation scores used by --threshold train_percentile
# when no --threshold_percentile is given: 5 % of held-out normal rows are
# flagged.
DEFAULT_TRAIN_PERCENTILE = 95.0

# Smallest share of the scored rows tied at a threshold that `tie_warning`
# reports. All tied rows are flagged, often far more than the percentile sets.
TIE_WARNING_SHARE = 0.01


class Scorer:
    """Score rows in fixed-size chunks with a model's EMA networks.

    Every row is scored exactly once, without padding, in inference mode.
    Changing the chunk size changes scores only by float32 rounding
    (`tests/models_alad_test.py` checks it). A row's position in its chunk
    also changes the last bits: on KDD99 in chunks of 50, identical rows at
    the last 2 positions of a chunk scored slightly differently from the
    others, probably because the matrix multiplication treats them as a
    remainder block.

    Args:
        model: An `AdversarialDetector`.
        batch_size: Rows per chunk. Defaults to 50.
    """

    def __init__(self, model, batch_size=50):
        self.model = model
        self.batch_size = batch_size
        # One trace serves every chunk size, including the last partial one.
        self._score_fn = tf.function(
            model.score_batch,
            input_signature=[tf.TensorSpec((None, *model.row_shape), tf.float32)],
        )

    def score(self, x):
        """Score `x`.

        Args:
            x: Array of shape `(n_rows, *model.row_shape)`.

        Returns:
            A tuple `(scores, mean_batch_seconds)`. `scores` maps each score
            name to a float array of length `n_rows`, higher for more
            anomalous rows. `mean_batch_seconds` is the mean wall time of one
            full chunk, or of the partial chunk when there is no full chunk.
        """
        x = np.asarray(x, dtype=np.float32)
        expected = self.model.row_shape
        if x.shape[1:] != expected:
            raise ValueError(
                f"Expected rows of shape (n, {', '.join(map(str, expected))}), got an "
                f"array of shape {x.shape}."
            )
        chunks = {name: [] for name in self.model.score_names}
        full_times, partial_times = [], []
        for start in range(0, len(x), self.batch_size):
            batch = x[start : start + self.batch_size]
            begin = time.perf_counter()
            scores = {name: value.numpy() for name, value in self._score_fn(batch).items()}
            elapsed = time.perf_counter() - begin
            (full_times if len(batch) == self.batch_size else partial_times).append(elapsed)
            for name in chunks:
                chunks[name].append(scores[name])
        scores = {
            name: np.concatenate(parts) if parts else np.zeros(0, np.float32)
            for name, parts in chunks.items()
        }
        times = full_times or partial_times
        return scores, float(np.mean(times)) if times else 0.0


def check_contamination_mode(contamination, mode, threshold_percentile=None):
    """Raise `ValueError` when `--contamination` is combined with a setting that overrides it.

    The contamination sets the share of test rows flagged, which only the
    test-percentile rule uses, and which `--threshold_percentile` replaces.
    """
    if contamination is not None and threshold_percentile is not None:
        raise ValueError(
            f"--contamination {contamination:g} and --threshold_percentile "
            f"{threshold_percentile:g} both set the share of rows flagged. Pass one of them."
        )
    if contamination is not None and mode == "train_percentile":
        raise ValueError(
            "--contamination sets the test-percentile threshold, so it has no effect with "
            "--threshold train_percentile. Drop one of them, or pass "
            "--threshold_percentile for the training percentile."
        )


def percentile_threshold(scores, percentile):
    """Return `np.percentile(scores, percentile)`; rows scoring at or above it are flagged."""
    if len(scores) == 0:
        raise ValueError("Cannot compute a threshold from an empty score array.")
    return float(np.percentile(scores, percentile))


def threshold_counts(scores, threshold):
    """Count the rows flagged by `threshold` and the rows scoring exactly it.

    Returns:
        A dict with `flagged` (rows with `score >= threshold`) and `tied`
        (rows with `score == threshold`).
    """
    scores = np.asarray(scores)
    return {
        "flagged": int((scores >= threshold).sum()),
        "tied": int((scores == threshold).sum()),
    }


def tie_warning(method, values, n_rows):
    """Describe a large block of rows tied at a score's threshold.

    Args:
        method: Score name, used in the message.
        values: The score's dict from `evaluate_scores`, with `threshold`,
            `flagged` and `tied`.
        n_rows: Number of scored rows.

    Returns:
        A one-line message when at least 2 rows and `TIE_WARNING_SHARE` of
        `n_rows` score exactly the threshold, else `None`.
    """
    tied = values["tied"]
    if tied < 2 or tied < TIE_WARNING_SHARE * n_rows:
        return None
    flagged = values["flagged"]
    above = flagged - tied
    return (
        f"{method}: {tied:,} of {n_rows:,} rows score exactly the threshold "
        f"{values['threshold']:.6g} and are all flagged, so {flagged:,} rows "
        f"({100 * flagged / n_rows:.1f} %) are flagged and {above:,} "
        f"({100 * above / n_rows:.1f} %) score above it. Identical rows get "
        f"identical scores, so one block of them can change the flagged share."
    )


def binary_metrics(y_true, scores, threshold):
    """Compute precision, recall, F1 and AUROC of flagging `scores >= threshold`.

    Args:
        y_true: Labels, 1 for anomalous rows.
        scores: Anomaly scores, higher for more anomalous rows.
        threshold: Decision threshold.

    Returns:
        A dict with `precision`, `recall`, `f1`, `auroc`, `auprc`,
        `threshold`, and the `flagged` and `tied` counts of
        `threshold_counts`. `auprc` is the trapezoidal area under the
        precision-recall curve, as the EGBAD code computes it for MNIST.
    """
    y_true = np.asarray(y_true).astype(int)
    scores = np.asarray(scores)
    if y_true.shape != scores.shape:
        raise ValueError(
            f"Labels and scores differ in shape: {y_true.shape} and {scores.shape}."
        )
    y_pred = (scores >= threshold).astype(int)
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, average="binary", zero_division=0
    )
    # roc_curve + auc is the original's AUROC; it equals roc_auc_score.
    false_positive_rate, true_positive_rate, _ = roc_curve(y_true, scores)
    curve_precision, curve_recall, _ = precision_recall_curve(y_true, scores)
    return {
        "auprc": float(auc(curve_recall, curve_precision)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "auroc": float(auc(false_positive_rate, true_positive_rate)),
        "threshold": float(threshold),
        **threshold_counts(scores, threshold),
    }


def evaluate_scores(
    y_test, test_scores, mode, test_percentile, valid_scores=None, threshold_percentile=None
):
    """Compute thresholds and metrics for every score.

    Args:
        y_test: Test labels, or `None` for unlabelled rows, which get only
            the threshold and the number of rows flagged.
        test_scores: Dict of score name to test scores.
        mode: `"test_percentile"` (the original rule: a percentile of the test
            scores at the known contamination) or `"train_percentile"` (a
            percentile of the validation scores, with no test prior).
        test_percentile: The dataset's reference percentile, used by
            `test_percentile` (80 for KDD99).
        valid_scores: Dict of score name to validation scores. Required by
            `train_percentile`.
        threshold_percentile: Percentile overriding the mode's default.
            Defaults to `None`.

    Returns:
        A dict of score name to the dict of `binary_metrics`, or to a dict
        with `threshold`, `flagged` and `tied` when `y_test` is `None`.
    """
    if mode not in THRESHOLD_MODES:
        raise ValueError(
            f"Invalid threshold mode {mode!r}. Expected one of: {', '.join(THRESHOLD_MODES)}."
        )
    if mode == "train_percentile" and valid_scores is None:
        raise ValueError("The train_percentile threshold needs validation scores.")

    results = {}
    for name, scores in test_scores.items():
        if mode == "test_percentile":
            percentile = test_percentile if threshold_percentile is None else threshold_percentile
            threshold = percentile_threshold(scores, percentile)
        else:
            percentile = (
                DEFAULT_TRAIN_PERCENTILE if threshold_percentile is None else threshold_percentile
            )
            threshold = percentile_threshold(valid_scores[name], percentile)
        if y_test is None:
            results[name] = {"threshold": threshold, **threshold_counts(scores, threshold)}
        else:
            results[name] = binary_metrics(y_test, scores, threshold)
    return results


def log_metrics(metrics, n_rows, run_name, step=None):
    """Log one line per score, and a warning for each large tie at a threshold.

    Args:
        metrics: The dict returned by `evaluate_scores`.
        n_rows: Number of scored rows.
        run_name: Name that starts every line, in brackets.
        step: Training step, logged in the original's
            "Testing at step N, method M" form. Defaults to `None`, which
            names the score only.
    """
    for method, values in metrics.items():
        lead = method if step is None else f"Testing at step {step}, method {method}"
        if "f1" in values:
            logging.info(
                "[%s] %s: Prec = %.4f | Rec = %.4f | F1 = %.4f | AUROC = %.4f | AUPRC = %.4f",
                run_name, lead, values["precision"], values["recall"], values["f1"],
                values["auroc"], values["auprc"],
            )
        else:
            logging.info(
                "[%s] %s: threshold = %.4f | flagged = %d of %d rows",
                run_name, lead, values["threshold"], values["flagged"], n_rows,
            )
        ties = tie_warning(method, values, n_rows)
        if ties:
            logging.warning("[%s] %s", run_name, ties)
