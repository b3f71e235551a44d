import numpy as np
import pytest

from alad_tf.evaluation import binary_metrics, evaluate_scores, percentile_threshold


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
