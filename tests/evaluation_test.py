import logging

import numpy as np
import pytest

from alad_tf.evaluation import (
    binary_metrics,
    evaluate_scores,
    log_metrics,
    percentile_threshold,
    tie_warning,
)


def test_binary_metrics_hand_computed():
    labels = np.array([0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.9, 0.8, 0.95])
    metrics = binary_metrics(labels, scores, threshold=0.85)
    # Flags rows 2 and 4: one true positive, one false positive.
    assert metrics["precision"] == pytest.approx(0.5)
    assert metrics["recall"] == pytest.approx(0.5)
    assert metrics["f1"] == pytest.approx(0.5)
    # 5 of the 6 (anomalous, normal) pairs are ordered correctly.
    assert metrics["auroc"] == pytest.approx(5 / 6)


def test_threshold_flags_scores_at_or_above():
    labels = np.array([0, 1])
    metrics = binary_metrics(labels, np.array([1.0, 2.0]), threshold=2.0)
    assert metrics["recall"] == 1.0
    assert metrics["precision"] == 1.0


def test_threshold_ties_counted_and_named(kdd_splits):
    # src_bytes as a score: 113,867 KDD99 test rows carry the value 1032,
    # which is the 80th percentile.
    n_rows = len(kdd_splits.x_test)
    scores = kdd_splits.x_test[:, 1].astype(np.float64)
    result = evaluate_scores(kdd_splits.y_test, {"src_bytes": scores}, "test_percentile", 80)
    values = result["src_bytes"]
    assert values["threshold"] == 1032.0
    assert int((scores == 1032.0).sum()) == 113_867
    assert values["tied"] == 113_867
    assert values["flagged"] == int((scores >= 1032.0).sum())
    assert values["flagged"] > 0.4 * n_rows

    message = tie_warning("src_bytes", values, n_rows)
    above = values["flagged"] - values["tied"]
    assert message.startswith(
        f"src_bytes: 113,867 of {n_rows:,} rows score exactly the threshold 1032 and are all "
        f"flagged, so {values['flagged']:,} rows ({100 * values['flagged'] / n_rows:.1f} %) "
        f"are flagged and {above:,} ({100 * above / n_rows:.1f} %) score above it."
    )

    # The same values with a per-row offset have no tied block.
    distinct = scores + np.arange(n_rows) * 1e-3
    values = evaluate_scores(kdd_splits.y_test, {"s": distinct}, "test_percentile", 80)["s"]
    assert values["tied"] <= 1
    assert tie_warning("s", values, n_rows) is None


def test_small_ties_are_not_named():
    values = {"threshold": 2.0, "flagged": 30, "tied": 9}
    assert tie_warning("fm", values, 1000) is None
    assert tie_warning("fm", {**values, "tied": 10}, 1000).startswith("fm: 10 of 1,000 rows")


def test_log_metrics_lines_and_tie_warning(caplog):
    caplog.set_level(logging.INFO, logger="absl")
    labelled = evaluate_scores(np.array([0, 0, 1, 1]), {"fm": np.array([1.0, 2.0, 3.0, 4.0])},
                               "test_percentile", 50)
    unlabelled = {"l2": {"threshold": 2.0, "flagged": 3, "tied": 2}}

    log_metrics(labelled, 4, "run-a", step=120)
    log_metrics(unlabelled, 4, "run-b")

    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == (
        "[run-a] Testing at step 120, method fm: Prec = 1.0000 | Rec = 1.0000 | F1 = 1.0000 | "
        "AUROC = 1.0000 | AUPRC = 1.0000"
    )
    assert messages[1] == "[run-b] l2: threshold = 2.0000 | flagged = 3 of 4 rows"
    assert messages[2].startswith("[run-b] l2: 2 of 4 rows score exactly the threshold 2")
    assert caplog.records[2].levelno == logging.WARNING
    assert len(messages) == 3


def test_test_percentile_flags_top_share():
    rng = np.random.RandomState(0)
    scores = {"a": rng.rand(1000)}
    labels = (scores["a"] > 0.8).astype(int)
    result = evaluate_scores(labels, scores, "test_percentile", 80)
    assert result["a"]["threshold"] == pytest.approx(np.percentile(scores["a"], 80))
    assert result["a"]["f1"] == pytest.approx(1.0, abs=0.01)


def test_train_percentile_uses_validation_scores_only():
    test_scores = {"a": np.array([0.0, 10.0, 20.0, 30.0])}
    valid_scores = {"a": np.arange(101, dtype=float) / 10}
    result = evaluate_scores(
        np.array([0, 0, 1, 1]), test_scores, "train_percentile", 80, valid_scores=valid_scores
    )
    assert result["a"]["threshold"] == pytest.approx(9.5)
    assert result["a"]["recall"] == 1.0
    assert result["a"]["precision"] == pytest.approx(2 / 3)


def test_threshold_percentile_overrides_default():
    scores = {"a": np.arange(100, dtype=float)}
    result = evaluate_scores(np.zeros(100), scores, "test_percentile", 80, threshold_percentile=50)
    assert result["a"]["threshold"] == pytest.approx(49.5)


def test_invalid_inputs():
    with pytest.raises(ValueError, match="Invalid threshold mode 'median'"):
        evaluate_scores(np.zeros(2), {"a": np.zeros(2)}, "median", 80)
    with pytest.raises(ValueError, match="needs validation scores"):
        evaluate_scores(np.zeros(2), {"a": np.zeros(2)}, "train_percentile", 80)
    with pytest.raises(ValueError, match=r"differ in shape: \(3,\) and \(2,\)"):
        binary_metrics(np.zeros(3), np.zeros(2), 0.5)
    with pytest.raises(ValueError, match="empty score array"):
        percentile_threshold(np.zeros(0), 80)


def test_scorer_rejects_wrong_width():
    import keras

    from alad_tf.evaluation import Scorer
    from alad_tf.models import build_model

    keras.utils.set_random_seed(0)
    model, _ = build_model("alad", "kdd", 121, seed=0)
    with pytest.raises(ValueError, match=r"Expected rows of shape \(n, 121\), got an array of shape \(4, 120\)"):
        Scorer(model).score(np.zeros((4, 120)))
