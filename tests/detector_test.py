import logging

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks
from sklearn.preprocessing import StandardScaler

from alad_tf.data import load_dataset
from alad_tf.detector import ALADDetector, BiGANDetector


@pytest.fixture(scope="module")
def kdd_sample(kdd_splits):
    """20,000 real KDD99 training rows and 5,000 test rows with their labels."""
    rng = np.random.RandomState(0)
    train = kdd_splits.x_train[rng.choice(len(kdd_splits.x_train), 20_000, replace=False)]
    test = rng.choice(len(kdd_splits.x_test), 5_000, replace=False)
    return train, kdd_splits.x_test[test], kdd_splits.y_test[test]


@pytest.fixture(scope="module")
def fitted_alad(kdd_sample):
    x_train, _, _ = kdd_sample
    # 1,200 steps at a learning rate of 1e-4 train far enough to rank KDD99 rows.
    return ALADDetector(epochs=3, learning_rate=1e-4, contamination=0.05, random_state=1).fit(
        x_train
    )


@pytest.fixture(scope="module")
def arrhythmia(data_dir):
    return load_dataset("arrhythmia", data_dir=data_dir)


def test_fit_sets_fitted_attributes(fitted_alad, kdd_sample):
    x_train, _, _ = kdd_sample
    assert fitted_alad.n_features_in_ == 121
    assert fitted_alad.score_name_ == "fm"
    assert fitted_alad.decision_scores_.shape == (20_000,)
    assert fitted_alad.threshold_ == np.percentile(fitted_alad.decision_scores_, 95)
    assert set(np.unique(fitted_alad.labels_)) == {0, 1}
    assert fitted_alad.labels_.mean() >= 0.05
    assert len(fitted_alad.history_["loss_generator"]) == 3
    # Scoring 500 rows instead of 20,000 changes the chunks, so only rounding may differ.
    np.testing.assert_allclose(
        fitted_alad.decision_function(x_train[:500]), fitted_alad.decision_scores_[:500],
        rtol=1e-6,
    )


def test_trained_scores_rank_anomalies(fitted_alad, kdd_sample):
    _, x_test, y_test = kdd_sample
    scores = fitted_alad.decision_function(x_test)
    assert roc_auc_score(y_test, scores) > 0.9
    all_scores = fitted_alad.score_all(x_test)
    assert set(all_scores) == {"ch", "l1", "l2", "fm"}
    np.testing.assert_array_equal(all_scores["fm"], scores)


def test_predict_applies_threshold(fitted_alad, kdd_sample):
    _, x_test, _ = kdd_sample
    flags = fitted_alad.predict(x_test)
    assert flags.dtype.kind == "i"
    np.testing.assert_array_equal(
        flags, (fitted_alad.decision_function(x_test) >= fitted_alad.threshold_).astype(int)
    )


def test_export_scores_raw_rows(fitted_alad, kdd_sample, tmp_path):
    _, x_test, _ = kdd_sample
    path = fitted_alad.export(tmp_path / "detector")
    loaded = tf.saved_model.load(str(path))
    served = loaded.serve(tf.constant(x_test[:300]))
    np.testing.assert_allclose(
        served["score"].numpy(), fitted_alad.decision_function(x_test[:300]), rtol=1e-5, atol=1e-5
    )
    np.testing.assert_array_equal(
        served["is_anomaly"].numpy().astype(int), fitted_alad.predict(x_test[:300])
    )


def test_export_rejects_existing_folder(arrhythmia, tmp_path):
    detector = ALADDetector(epochs=1, batch_size=32, random_state=1).fit(arrhythmia.x_train)
    message = "already exists. Choose another path or remove it first."
    with pytest.raises(FileExistsError, match=message):
        detector.export(tmp_path)


def test_same_seed_same_scores(arrhythmia):
    options = {"epochs": 3, "batch_size": 32, "random_state": 4, "contamination": 0.15}
    first = BiGANDetector(**options).fit(arrhythmia.x_train)
    second = BiGANDetector(**options).fit(arrhythmia.x_train)
    assert first.score_name_ == "cross_e"
    np.testing.assert_array_equal(first.decision_scores_, second.decision_scores_)
    assert first.threshold_ == second.threshold_


def test_fit_warns_about_tied_threshold(arrhythmia):
    # 2,000 copies of one real row fill the 80th percentile of the scores.
    x = np.concatenate([np.repeat(arrhythmia.x_train[:1], 2000, axis=0), arrhythmia.x_train])
    detector = ALADDetector(epochs=1, contamination=0.2, random_state=0)
    with pytest.warns(UserWarning, match="rows score exactly the threshold") as records:
        detector.fit(x)
    [message] = [
        str(record.message) for record in records if "exactly the threshold" in str(record.message)
    ]
    assert f"{(detector.decision_scores_ == detector.threshold_).sum():,} of 2,226 rows" in message
    assert message.endswith("labels_ flags more than contamination=0.2 of the training rows.")
    assert detector.labels_.mean() > 0.5


def test_diverged_fit_raises(arrhythmia):
    detector = ALADDetector(epochs=20, learning_rate=1e4, scale=False, random_state=0)
    with pytest.raises(ValueError, match=r"Training diverged: loss_\w+ is not finite in epoch 0\. "
                       r"Lower learning_rate \(now 10000\.0\) or pass scale=True\."):
        detector.fit(arrhythmia.x_train)
    assert not hasattr(detector, "model_")


def test_refits_log_to_own_folders(arrhythmia, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    detector = ALADDetector(epochs=2, batch_size=32, random_state=3, logdir=str(tmp_path))
    detector.fit(arrhythmia.x_train)
    assert detector.log_dir_ == str(tmp_path / "fit")
    detector.fit(arrhythmia.x_train)
    assert detector.log_dir_ == str(tmp_path / "fit_2")

    for folder in ("fit", "fit_2"):
        accumulator = EventAccumulator(str(tmp_path / folder / "train"))
        accumulator.Reload()
        steps = [event.step for event in accumulator.Tensors("epoch_loss_generator")]
        assert steps == [0, 1]


def test_fit_predict_returns_training_labels(arrhythmia):
    options = {"epochs": 1, "batch_size": 32, "random_state": 5, "contamination": 0.15}
    labels = ALADDetector(**options).fit_predict(arrhythmia.x_train)
    detector = ALADDetector(**options).fit(arrhythmia.x_train)
    np.testing.assert_array_equal(labels, detector.labels_)
    assert labels.mean() >= 0.15


def test_bigan_pickle_round_trip(arrhythmia):
    import copy
    import pickle

    detector = BiGANDetector(epochs=2, batch_size=32, random_state=2).fit(arrhythmia.x_train)
    for restored in (pickle.loads(pickle.dumps(detector)), copy.deepcopy(detector)):
        np.testing.assert_array_equal(
            restored.decision_function(arrhythmia.x_test),
            detector.decision_function(arrhythmia.x_test),
        )


@pytest.mark.parametrize(
    "x, message",
    [
        (np.zeros(274), r"X must be 2-D, of shape \(n_samples, n_features\); got shape \(274,\)"),
        (np.zeros(274), r"Reshape your data with X.reshape\(1, -1\) if it is a single row"),
        (np.zeros((2, 3, 274)), r"X must be 2-D, .* got shape \(2, 3, 274\)\.$"),
        (sparse.csr_matrix((5, 274)), r"X is a sparse matrix \(csr_matrix\).*X.toarray\(\)"),
        (np.zeros((5, 10)), r"X has 10 features, but ALADDetector is expecting 274 features as input"),
        (np.full((5, 274), np.nan), r"X has 1370 missing or infinite values, in columns \[0, 1,"),
        ([["a"] * 274], "X must hold numbers only"),
        (pd.DataFrame(np.zeros((5, 274))).astype("Float64").mask(np.eye(5, 274, dtype=bool)),
         r"X has 5 missing or infinite values, in columns \[0, 1, 2, 3, 4\]"),
        (np.full((5, 274), 1e40), r"X has 1370 values beyond the float32 range"),
        (np.zeros((5, 274), dtype=complex), "Complex data not supported: X has complex numbers"),
    ],
)
def test_scoring_rejects_bad_rows(arrhythmia, x, message):
    detector = ALADDetector(epochs=1, batch_size=32, random_state=1).fit(arrhythmia.x_train)
    with pytest.raises(ValueError, match=message):
        detector.decision_function(x)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"contamination": 0.7}, r"Invalid contamination 0.7: expected a share in \(0, 0.5\]"),
        ({"score_name": "l3"}, "Invalid score_name 'l3'. Expected one of: ch, l1, l2, fm."),
        ({"epochs": 0}, "Invalid epochs 0: expected a whole number of 1 or more."),
        ({"batch_size": 500}, "X has 226 samples, fewer than one batch of 500."),
        ({"learning_rate": -1.0}, "Invalid learning_rate -1.0: expected a positive number"),
        ({"contamination": None}, r"Invalid contamination None: expected a share in \(0, 0.5\]"),
        ({"epochs": True}, "Invalid epochs True: expected a whole number of 1 or more."),
        ({"learning_rate": "1e-5"}, "Invalid learning_rate '1e-5': expected a positive number"),
        ({"random_state": -1}, r"Invalid random_state -1: expected None, a whole number from 0"),
        ({"random_state": 2**32}, "a numpy.random.RandomState or a numpy.random.Generator."),
        ({"random_state": 1.5}, "Invalid random_state 1.5: expected None, a whole number"),
        ({"random_state": np.random.SeedSequence(0)}, "Invalid random_state SeedSequence"),
        ({"verbose": "yes"}, r"Invalid verbose 'yes': expected 0 \(silent\) or 1"),
        ({"scale": "no"}, "Invalid scale 'no': expected True or False."),
        ({"enable_dzz": "no"}, "Invalid enable_dzz 'no': expected True or False."),
        ({"degree": 0}, "Invalid degree 0: expected a whole number of 1 or more, as --d."),
    ],
)
def test_fit_rejects_bad_settings(arrhythmia, options, message):
    # One short epoch, so that a setting accepted by mistake fails the test quickly.
    with pytest.raises(ValueError, match=message):
        ALADDetector(**{"epochs": 1, "batch_size": 32, **options}).fit(arrhythmia.x_train)


def test_bigan_rejects_bad_weight(arrhythmia):
    message = r"Invalid weight 2: expected a weight in \[0, 1\], as --w."
    with pytest.raises(ValueError, match=message):
        BiGANDetector(epochs=1, batch_size=32, weight=2).fit(arrhythmia.x_train)


def test_fit_accepts_numpy_settings(arrhythmia):
    options = {"epochs": 1, "batch_size": 32, "learning_rate": 1}
    numpy_seed = ALADDetector(**options, random_state=np.int64(5)).fit(arrhythmia.x_train)
    int_seed = ALADDetector(**options, random_state=5).fit(arrhythmia.x_train)
    np.testing.assert_array_equal(numpy_seed.decision_scores_, int_seed.decision_scores_)


@pytest.mark.parametrize(
    "make_random_state, first_seed",
    [
        (lambda: np.random.RandomState(7), np.random.RandomState(7).randint(2**32, dtype=np.int64)),
        (lambda: np.random.default_rng(7), np.random.default_rng(7).integers(2**32)),
    ],
)
def test_random_state_object_draws_seed(arrhythmia, make_random_state, first_seed):
    options = {"epochs": 1, "batch_size": 32}
    random_state = make_random_state()
    first = ALADDetector(**options, random_state=random_state).fit(arrhythmia.x_train)
    assert first.seed_ == first_seed
    assert isinstance(first.seed_, int)
    # The same object gives the next seed to a refit, as scikit-learn estimators do.
    refit = clone(first).set_params(random_state=random_state).fit(arrhythmia.x_train)
    assert refit.seed_ != first.seed_
    repeated = ALADDetector(**options, random_state=first.seed_).fit(arrhythmia.x_train)
    np.testing.assert_array_equal(repeated.decision_scores_, first.decision_scores_)
    fresh = ALADDetector(**options, random_state=make_random_state()).fit(arrhythmia.x_train)
    np.testing.assert_array_equal(fresh.decision_scores_, first.decision_scores_)


def test_seed_with_random_state_none(arrhythmia):
    detector = ALADDetector(epochs=1, batch_size=32).fit(arrhythmia.x_train)
    assert isinstance(detector.seed_, int)
    assert 0 <= detector.seed_ < 2**31


@pytest.mark.parametrize("scale", [True, False])
def test_scoring_zero_rows(arrhythmia, scale):
    detector = BiGANDetector(epochs=1, batch_size=32, random_state=1, scale=scale)
    detector.fit(arrhythmia.x_train)
    no_rows = np.zeros((0, 274), np.float32)
    assert detector.decision_function(no_rows).shape == (0,)
    assert detector.predict(no_rows).shape == (0,)


@pytest.mark.parametrize(
    "x, message",
    [
        (np.zeros((0, 274)), "X has 0 samples, fewer than one batch of 32."),
        (np.zeros((226, 0)), r"X has 0 feature\(s\) \(shape=\(226, 0\)\) while a minimum of 1 is required"),
    ],
)
def test_fit_rejects_empty_array(x, message):
    with pytest.raises(ValueError, match=message):
        ALADDetector(epochs=1, batch_size=32).fit(x)


@pytest.mark.parametrize(
    "method",
    ["decision_function", "predict", "predict_proba", "predict_confidence", "score_all", "export"],
)
def test_scoring_before_fit_fails(arrhythmia, method):
    detector = BiGANDetector()
    message = rf"This BiGANDetector is not fitted yet. Call fit\(X\) before {method}\(\)."
    argument = "unused_folder" if method == "export" else arrhythmia.x_test
    with pytest.raises(NotFittedError, match=message):
        getattr(detector, method)(argument)


def test_check_is_fitted_follows_fit(arrhythmia):
    from sklearn.utils.validation import check_is_fitted

    detector = ALADDetector(epochs=1, batch_size=32, random_state=1)
    with pytest.raises(NotFittedError):
        check_is_fitted(detector)
    check_is_fitted(detector.fit(arrhythmia.x_train))


@pytest.fixture(scope="module")
def arrhythmia_frames(arrhythmia):
    """Arrhythmia training and test rows as DataFrames with string column names."""
    import pandas as pd

    columns = [f"feature_{index}" for index in range(arrhythmia.x_train.shape[1])]
    return (
        pd.DataFrame(arrhythmia.x_train, columns=columns),
        pd.DataFrame(arrhythmia.x_test, columns=columns),
    )


@pytest.fixture(scope="module")
def frame_fitted_alad(arrhythmia_frames):
    train, _ = arrhythmia_frames
    return ALADDetector(epochs=1, batch_size=32, random_state=6).fit(train)


def test_dataframe_sets_feature_names(frame_fitted_alad, arrhythmia_frames, arrhythmia):
    import warnings

    train, test = arrhythmia_frames
    np.testing.assert_array_equal(frame_fitted_alad.feature_names_in_, train.columns.to_numpy())
    assert frame_fitted_alad.feature_names_in_.dtype == object
    assert frame_fitted_alad.n_features_in_ == 274
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        frame_scores = frame_fitted_alad.decision_function(test)
    with pytest.warns(UserWarning, match="X has no feature names"):
        array_scores = frame_fitted_alad.decision_function(test.to_numpy())
    np.testing.assert_array_equal(frame_scores, array_scores)


def test_dataframe_columns_must_match(frame_fitted_alad, arrhythmia_frames):
    _, test = arrhythmia_frames
    reordered = test[list(test.columns[::-1])]
    with pytest.raises(ValueError, match="X has the fitted feature names in another order"):
        frame_fitted_alad.decision_function(reordered)
    renamed = test.rename(columns={"feature_0": "age"})
    message = r"X is missing columns \['feature_0'\] and has unexpected columns \['age'\]"
    with pytest.raises(ValueError, match=message):
        frame_fitted_alad.predict(renamed)
    message = r"X is missing columns \['feature_10', 'feature_11', .*\]\. Pass the columns"
    with pytest.raises(ValueError, match=message):
        frame_fitted_alad.score_all(test.iloc[:, :10])


def test_array_after_dataframe_fit_warns(frame_fitted_alad, arrhythmia_frames):
    _, test = arrhythmia_frames
    message = "X has no feature names, but this ALADDetector was fitted with feature names"
    with pytest.warns(UserWarning, match=message):
        frame_fitted_alad.decision_function(test.to_numpy())


def test_dataframe_after_array_fit_warns(arrhythmia, arrhythmia_frames):
    train, test = arrhythmia_frames
    detector = ALADDetector(epochs=1, batch_size=32, random_state=6)
    detector.fit(train)
    detector.fit(arrhythmia.x_train)
    assert not hasattr(detector, "feature_names_in_")
    message = "X has feature names, but this ALADDetector was fitted without them"
    with pytest.warns(UserWarning, match=message):
        detector.decision_function(test)


def test_integer_columns_give_no_names(arrhythmia):
    import pandas as pd

    detector = ALADDetector(epochs=1, batch_size=32, random_state=6)
    detector.fit(pd.DataFrame(arrhythmia.x_train))
    assert not hasattr(detector, "feature_names_in_")
    mixed = pd.DataFrame(arrhythmia.x_train).rename(columns={0: "age"})
    with pytest.raises(TypeError, match=r"X has column names of mixed types \(int, str\)"):
        detector.fit(mixed)


def _detector_with_scores(training_scores, contamination):
    """An ALADDetector whose scores are its input rows, with these training scores."""
    detector = ALADDetector(contamination=contamination)
    # Any model_ marks the detector as fitted, and decision_function below never reads it.
    detector.model_ = object()
    detector.decision_scores_ = np.asarray(training_scores, dtype=np.float32)
    detector.threshold_ = np.percentile(detector.decision_scores_, 100 * (1 - contamination))
    detector.decision_function = lambda X: np.asarray(X, dtype=np.float32).ravel()
    return detector


def test_predict_proba_linear_scales_to_training_range():
    detector = _detector_with_scores([0, 1, 2, 3, 4], contamination=0.2)
    proba = detector.predict_proba([[-1], [0], [1], [2], [4], [5]])
    assert proba.shape == (6, 2)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba[:, 1], [0, 0, 0.25, 0.5, 1, 1])
    np.testing.assert_allclose(proba[:, 0], [1, 1, 0.75, 0.5, 0, 0])


def test_predict_proba_unify_uses_erf():
    import math

    detector = _detector_with_scores([0, 1, 2, 3, 4], contamination=0.2)
    proba = detector.predict_proba([[0], [2], [3], [4], [9]], method="unify")
    # The training scores have mean 2 and standard deviation sqrt(2).
    expected = [0, 0, math.erf(0.5), math.erf(1.0), math.erf(3.5)]
    np.testing.assert_allclose(proba[:, 1], expected)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("method", ["linear", "unify"])
def test_predict_proba_equal_training_scores(method):
    detector = _detector_with_scores([3, 3, 3], contamination=0.2)
    proba = detector.predict_proba([[2], [3], [4]], method=method)
    np.testing.assert_array_equal(proba[:, 1], [0, 0, 1])


def test_predict_confidence_is_binomial():
    detector = _detector_with_scores([0, 1, 2, 3, 4], contamination=0.2)
    # threshold_ is 3.2, so 5 is an anomaly and 0 and 3 are normal. With 5 training rows,
    # an anomaly label needs all 5 of 5 new rows to score at or below the row.
    confidence = detector.predict_confidence([[5], [0], [3]])
    expected = [(6 / 7) ** 5, 1 - (2 / 7) ** 5, 1 - (5 / 7) ** 5]
    np.testing.assert_allclose(confidence, expected)
    labels, with_labels = detector.predict([[5], [0], [3]], return_confidence=True)
    np.testing.assert_array_equal(labels, [1, 0, 0])
    np.testing.assert_allclose(with_labels, expected)


@pytest.fixture(scope="module")
def small_bigan(arrhythmia):
    options = {"epochs": 1, "batch_size": 32, "random_state": 3, "contamination": 0.15}
    return BiGANDetector(**options).fit(arrhythmia.x_train)


def test_repeated_scoring_traces_once(small_bigan, arrhythmia, caplog):
    caplog.set_level(logging.WARNING, logger="tensorflow")
    for _ in range(6):
        small_bigan.decision_function(arrhythmia.x_test[:10])
        small_bigan.predict_proba(arrhythmia.x_test[:20])
    assert "retracing" not in caplog.text


def test_predict_proba_on_trained_detector(small_bigan, arrhythmia):
    scores = small_bigan.decision_function(arrhythmia.x_test)
    proba, confidence = small_bigan.predict_proba(arrhythmia.x_test, return_confidence=True)
    assert proba.shape == (len(arrhythmia.x_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    low = small_bigan.decision_scores_.min()
    high = small_bigan.decision_scores_.max()
    expected = np.clip((scores.astype(np.float64) - low) / (high - low), 0, 1)
    np.testing.assert_allclose(proba[:, 1], expected, rtol=1e-6)
    np.testing.assert_array_equal(confidence, small_bigan.predict_confidence(arrhythmia.x_test))
    assert ((confidence >= 0) & (confidence <= 1)).all()
    training = small_bigan.predict_proba(arrhythmia.x_train)
    assert training[:, 1].min() == 0.0
    assert training[:, 1].max() == pytest.approx(1.0)


def test_predict_with_confidence_on_trained_detector(small_bigan, arrhythmia):
    labels, confidence = small_bigan.predict(arrhythmia.x_test, return_confidence=True)
    np.testing.assert_array_equal(labels, small_bigan.predict(arrhythmia.x_test))
    assert confidence.shape == labels.shape
    # A row far above the threshold has a stable anomaly label.
    top = np.argmax(small_bigan.decision_function(arrhythmia.x_test))
    assert labels[top] == 1
    assert confidence[top] > 0.9


def test_probability_zero_rows(small_bigan):
    no_rows = np.zeros((0, 274), np.float32)
    assert small_bigan.predict_proba(no_rows).shape == (0, 2)
    assert small_bigan.predict_confidence(no_rows).shape == (0,)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"method": "sigmoid"}, "Invalid method 'sigmoid': expected one of 'linear', 'unify'."),
        ({"return_confidence": "yes"}, "Invalid return_confidence 'yes': expected True or False."),
    ],
)
def test_predict_proba_rejects_bad_options(options, message):
    detector = _detector_with_scores([0, 1, 2, 3, 4], contamination=0.2)
    with pytest.raises(ValueError, match=message):
        detector.predict_proba([[1]], **options)


def test_unfitted_pickle_round_trip():
    import pickle

    detector = ALADDetector(contamination=0.2, random_state=np.random.RandomState(3))
    restored = pickle.loads(pickle.dumps(detector))
    assert not hasattr(restored, "model_")
    assert restored.contamination == 0.2
    assert restored.random_state.randint(100) == np.random.RandomState(3).randint(100)
    with pytest.raises(NotFittedError):
        restored.predict(np.zeros((1, 5)))


def test_pickle_keeps_feature_names(frame_fitted_alad, arrhythmia_frames):
    import pickle

    _, test = arrhythmia_frames
    restored = pickle.loads(pickle.dumps(frame_fitted_alad))
    np.testing.assert_array_equal(restored.feature_names_in_, frame_fitted_alad.feature_names_in_)
    assert restored.seed_ == frame_fitted_alad.seed_
    with pytest.raises(ValueError, match="X has the fitted feature names in another order"):
        restored.decision_function(test[list(test.columns[::-1])])


def test_set_params_checked_at_fit(arrhythmia):
    # As in scikit-learn, set_params stores any value and fit validates it.
    detector = ALADDetector(epochs=1, batch_size=32).set_params(contamination=3)
    assert detector.contamination == 3
    message = r"Invalid contamination 3: expected a share in \(0, 0.5\]"
    with pytest.raises(ValueError, match=message):
        detector.fit(arrhythmia.x_train)
    assert not hasattr(detector, "model_")


def test_clone_copies_every_setting():
    detector = BiGANDetector(contamination=0.2, epochs=1, random_state=2, weight=0.3)
    detector.set_params(degree=2)
    params = detector.get_params()
    assert params["contamination"] == 0.2
    assert params["epochs"] == 1
    assert params["random_state"] == 2
    assert params["weight"] == 0.3
    assert params["degree"] == 2
    assert clone(detector).get_params() == params
    assert repr(detector) == (
        "BiGANDetector(contamination=0.2, degree=2, epochs=1, random_state=2, weight=0.3)"
    )


def test_detector_in_pipeline(arrhythmia):
    options = {"epochs": 1, "batch_size": 32, "random_state": 3}
    pipeline = make_pipeline(StandardScaler(), ALADDetector(**options, scale=False))
    pipeline.fit(arrhythmia.x_train)
    standardized = StandardScaler().fit_transform(arrhythmia.x_train)
    alone = ALADDetector(**options, scale=False).fit(standardized)
    np.testing.assert_array_equal(
        pipeline.decision_function(arrhythmia.x_train), alone.decision_scores_
    )
    assert pipeline.predict(arrhythmia.x_train).sum() == alone.labels_.sum()


def test_pickle_keeps_fitted_detector(fitted_alad, kdd_sample):
    import pickle

    _, x_test, _ = kdd_sample
    restored = pickle.loads(pickle.dumps(fitted_alad))
    assert restored.threshold_ == fitted_alad.threshold_
    assert restored.get_params() == fitted_alad.get_params()
    np.testing.assert_array_equal(
        restored.decision_function(x_test), fitted_alad.decision_function(x_test)
    )
    np.testing.assert_array_equal(restored.predict(x_test), fitted_alad.predict(x_test))


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_complex_data,
        estimator_checks.check_dtype_object,
        estimator_checks.check_estimators_empty_data_messages,
        estimator_checks.check_fit2d_1sample,
        estimator_checks.check_fit2d_predict1d,
        estimator_checks.check_n_features_in_after_fitting,
    ],
    ids=lambda check: check.__name__,
)
def test_passes_sklearn_input_checks(check):
    # These checks fit on at most a few dozen random rows, so one short epoch suffices.
    check("ALADDetector", ALADDetector(epochs=1, batch_size=10, random_state=0))
