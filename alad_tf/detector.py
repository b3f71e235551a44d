"""Detectors with the `fit` / `decision_function` / `predict` API of PyOD.

`ALADDetector` and `BiGANDetector` train on a numeric array, as PyOD's and
scikit-learn's outlier detectors do, and keep everything in memory: no run
folder, results file or SavedModel unless `export` is called. They use the
KDD99 networks and hyperparameters of their model sized to the number of
features, as `--dataset csv` does.

    detector = ALADDetector(contamination=0.05, random_state=1).fit(x_train)
    scores = detector.decision_function(x_new)  # higher is more anomalous
    flags = detector.predict(x_new)  # 1 for anomalies
"""

import math
import numbers
import random
import tempfile
import warnings
from pathlib import Path

import keras
import numpy as np
from scipy import sparse, special, stats
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import MinMaxScaler

from alad_tf import evaluation, export, results, training
from alad_tf.experiment import default_epochs
from alad_tf.models import MODELS, build_model
from alad_tf.tables import count_of

# The networks and hyperparameters of `--dataset csv`.
ARCHITECTURE = "csv"

# NumPy seeds its generator with at most 32 bits.
MAX_SEED = 2**32 - 1

# Conversions of scores into outlier probabilities, as PyOD's predict_proba.
PROBABILITY_METHODS = ("linear", "unify")


def _is_whole_number(value):
    # bool is an int subclass, but epochs=True is a mistake, not one epoch.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Invalid {name} {value!r}: expected True or False.")


def _is_numpy_random_state(value):
    return isinstance(value, (np.random.RandomState, np.random.Generator))


def _draw_seed(random_state):
    """Return a seed from 0 to `MAX_SEED` drawn from a NumPy `RandomState` or `Generator`."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(MAX_SEED + 1))
    return int(random_state.randint(MAX_SEED + 1, dtype=np.int64))


def _feature_names(x):
    """Return the column names of a DataFrame `x` as an object array, or `None`.

    As in scikit-learn, only string names count: arrays and DataFrames with
    the default integer column names have no feature names.
    """
    columns = getattr(x, "columns", None)
    if columns is None:
        return None
    names = list(columns)
    is_string = [isinstance(name, str) for name in names]
    if names and all(is_string):
        return np.asarray(names, dtype=object)
    if any(is_string):
        types = sorted({type(name).__name__ for name in names})
        raise TypeError(
            f"X has column names of mixed types ({', '.join(types)}). Make them all "
            f"strings, for example with X.columns = X.columns.astype(str)."
        )
    return None


def _check_degree(degree):
    if not _is_whole_number(degree) or degree < 1:
        raise ValueError(
            f"Invalid degree {degree!r}: expected a whole number of 1 or more, as --d."
        )


def _first_columns(mask, count=10):
    """Return the indices of the first `count` columns where `mask` is true."""
    return sorted(set(np.nonzero(mask)[1].tolist()))[:count]


class GANDetector(BaseEstimator):
    """Base of the PyOD-style detectors; use `ALADDetector` or `BiGANDetector`.

    Subclasses list every setting in their own `__init__` signature, because
    scikit-learn's `get_params`, `set_params` and `clone` read the settings
    from that signature.

    Args:
        contamination: Expected share of anomalies in the training rows,
            in (0, 0.5]. `threshold_` is the `100 * (1 - contamination)`
            percentile of the training scores. Defaults to 0.1.
        score_name: Score behind `decision_function` and `predict`, one of
            the model's `score_names`. Defaults to the model's
            `default_score`. It is not called `score`, because scikit-learn
            expects `score` to be a method.
        epochs: Training epochs. Defaults to `None`: about 40,000 training
            steps, between 10 and 1,000 epochs, as for `--dataset csv`.
        batch_size: Rows per training step. Defaults to `None`, the model's
            reference KDD99 value (50).
        learning_rate: Adam learning rate. Defaults to `None`: ALAD's
            reference KDD99 value (1e-5), or 1e-4 for BiGAN, which does not
            learn scaled rows at 1e-5.
        scale: Whether features are MinMax-scaled with the range of the
            training rows. Defaults to `True`.
        random_state: Seed of Python, NumPy and TensorFlow, of shuffling and
            of latent sampling, as `--rd`: a whole number from 0 to
            2**32 - 1, or a `numpy.random.RandomState` or
            `numpy.random.Generator`, from which each `fit` draws one such
            seed, so that refits with the same object differ, as in
            scikit-learn. Defaults to `None` (not reproducible).
        verbose: 1 shows a progress bar on a terminal or in a notebook, 0
            hides it. Defaults to 0.
        logdir: Folder for TensorBoard. Each `fit` writes its event files to
            a new subfolder, `fit`, then `fit_2`, `fit_3`, …, so refits keep
            their own curves (`log_dir_`). Defaults to `None`, which writes
            them to a temporary folder that is then removed.

    Attributes:
        model_: The trained Keras model.
        scaler_: The `MinMaxScaler` fitted on the training rows, or `None`
            when `scale` is `False`.
        n_features_in_: Number of columns of the training rows.
        feature_names_in_: Column names of the training DataFrame, set only
            when they are all strings. Scoring then checks that a
            DataFrame has the same columns in the same order.
        seed_: Integer seed of the last fit. Passed as `random_state`, it
            repeats a fit seeded by a RandomState or Generator. After
            `random_state=None` it seeded shuffling and latent sampling but
            not the initial weights, so it does not repeat that fit.
        score_name_: Name of the score behind `decision_function`.
        history_: Per-epoch training losses, by name.
        log_dir_: Folder of the last fit's TensorBoard event files under
            `logdir`, or `None` without `logdir`.
        decision_scores_: Scores of the training rows, higher for more
            anomalous rows.
        threshold_: Score at and above which a row is flagged.
        labels_: 1 for training rows at or above `threshold_`, else 0.
    """

    model_name = None
    default_score = None

    def __init__(
        self, *, contamination=0.1, score_name=None, epochs=None, batch_size=None,
        learning_rate=None, scale=True, random_state=None, verbose=0, logdir=None,
    ):
        self.contamination = contamination
        self.score_name = score_name
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.scale = scale
        self.random_state = random_state
        self.verbose = verbose
        self.logdir = logdir

    def _model_options(self):
        return {}

    def _check_model_settings(self):
        """Raise `ValueError` for an invalid setting of the subclass's model."""

    def _check_settings(self, score_names):
        if not _is_real_number(self.contamination) or not 0.0 < self.contamination <= 0.5:
            raise ValueError(
                f"Invalid contamination {self.contamination!r}: expected a share in (0, 0.5], "
                f"for example 0.1."
            )
        if self.score_name not in (None, *score_names):
            raise ValueError(
                f"Invalid score_name {self.score_name!r}. Expected one of: "
                f"{', '.join(score_names)}."
            )
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if value is not None and (not _is_whole_number(value) or value < 1):
                raise ValueError(f"Invalid {name} {value!r}: expected a whole number of 1 or more.")
        if self.learning_rate is not None and not (
            _is_real_number(self.learning_rate)
            and math.isfinite(self.learning_rate)
            and self.learning_rate > 0
        ):
            raise ValueError(
                f"Invalid learning_rate {self.learning_rate!r}: expected a positive number, "
                f"for example 1e-5."
            )
        if not (
            self.random_state is None
            or _is_numpy_random_state(self.random_state)
            or (_is_whole_number(self.random_state) and 0 <= self.random_state <= MAX_SEED)
        ):
            raise ValueError(
                f"Invalid random_state {self.random_state!r}: expected None, a whole number "
                f"from 0 to 2**32 - 1, a numpy.random.RandomState or a numpy.random.Generator."
            )
        if self.verbose not in (0, 1):
            raise ValueError(
                f"Invalid verbose {self.verbose!r}: expected 0 (silent) or 1 (progress bar)."
            )
        _check_flag("scale", self.scale)
        self._check_model_settings()

    def _rows(self, x, width=None):
        """Return `x` as a 2-D float32 array of finite values, `width` columns wide if given."""
        if sparse.issparse(x):
            raise ValueError(
                f"X is a sparse matrix ({type(x).__name__}), which the detectors do not "
                f"accept. Pass a dense array instead, for example X.toarray()."
            )
        if np.iscomplexobj(x):
            # The wording starts as scikit-learn's, which its estimator checks expect.
            raise ValueError(
                "Complex data not supported: X has complex numbers. Pass real features, for "
                "example the real and imaginary parts as separate columns."
            )
        try:
            if hasattr(x, "to_numpy"):
                # pandas' nullable columns hold pd.NA, which NumPy cannot convert.
                rows = x.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                rows = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as error:
            # Keep NumPy's exception type: TypeError for objects such as dicts,
            # ValueError for text, as scikit-learn's validation does.
            raise type(error)(
                f"X must hold numbers only ({error}). Encode text columns first, or "
                f"run `main.py MODEL run --dataset csv`, which one-hot encodes them."
            ) from None
        if rows.ndim != 2:
            hint = ""
            if rows.ndim == 1:
                hint = (
                    " Reshape your data with X.reshape(1, -1) if it is a single row, or "
                    "X.reshape(-1, 1) if it is a single feature."
                )
            raise ValueError(
                f"X must be 2-D, of shape (n_samples, n_features); got shape {rows.shape}.{hint}"
            )
        if rows.shape[1] == 0:
            raise ValueError(
                f"X has 0 feature(s) (shape={rows.shape}) while a minimum of 1 is required. "
                f"Pass at least one column."
            )
        if width is not None and rows.shape[1] != width:
            raise ValueError(
                f"X has {rows.shape[1]} features, but {type(self).__name__} is expecting "
                f"{width} features as input: expected shape (n_samples, {width}), got "
                f"{rows.shape}."
            )
        bad = ~np.isfinite(rows)
        if bad.any():
            raise ValueError(
                f"X has {int(bad.sum())} missing or infinite values, in columns "
                f"{_first_columns(bad)}. Impute them first, for example with "
                f"sklearn.impute.SimpleImputer."
            )
        # The networks compute in float32, where larger values become infinite.
        too_large = np.abs(rows) > np.finfo(np.float32).max
        if too_large.any():
            raise ValueError(
                f"X has {int(too_large.sum())} values beyond the float32 range (about "
                f"3.4e38 in size), in columns {_first_columns(too_large)}. Rescale them "
                f"first, for example with sklearn.preprocessing.MinMaxScaler."
            )
        return rows.astype(np.float32)

    def fit(self, X, y=None):
        """Train the detector on `X` and set its threshold from the training scores.

        Args:
            X: Array-like of shape `(n_samples, n_features)`, numbers only.
            y: Ignored, for API consistency: training is unsupervised.

        Returns:
            The fitted detector.

        Raises:
            ValueError: `X` or a setting is invalid, or training diverged (a
                loss became NaN or infinite). A failed fit keeps the
                previous fit, if any.
        """
        del y
        self._check_settings(MODELS[self.model_name].score_names)
        feature_names = _feature_names(X)
        rows = self._rows(X)
        if self.random_state is None:
            # Shuffling and latent sampling need a seed, so each fit draws a new one.
            seed = random.SystemRandom().randrange(2**31)
        else:
            if _is_numpy_random_state(self.random_state):
                seed = _draw_seed(self.random_state)
            else:
                # Keras 3.15 accepts only a Python int as a seed, not a NumPy integer.
                seed = int(self.random_state)
            keras.utils.set_random_seed(seed)

        model, hyperparameters = build_model(
            self.model_name, ARCHITECTURE, rows.shape[1], seed=seed,
            **self._model_options(),
        )
        batch_size = self.batch_size or hyperparameters["batch_size"]
        if len(rows) < batch_size:
            raise ValueError(
                f"X has {count_of(len(rows), 'sample')}, fewer than one batch of {batch_size}. "
                f"Pass more rows or a smaller batch_size."
            )
        scaler = MinMaxScaler().fit(rows) if self.scale else None
        features = rows if scaler is None else scaler.transform(rows).astype(np.float32)
        epochs = self.epochs or default_epochs(
            self.model_name, ARCHITECTURE, len(rows), batch_size
        )
        # Keras 3.15 rejects an int learning rate such as 1, so pass a float.
        learning_rate = float(self.learning_rate or hyperparameters["learning_rate"])
        model.compile(learning_rate=learning_rate,
                      steps_per_execution=training.STEPS_PER_EXECUTION)

        log_dir = None
        if self.logdir is not None:
            log_dir = results.free_path(Path(self.logdir).expanduser() / "fit")
            log_dir.mkdir(parents=True)
        with tempfile.TemporaryDirectory(prefix="alad_tf_") as scratch:
            try:
                fit = training.train(
                    model, features, epochs=epochs, batch_size=batch_size, seed=seed,
                    checkpoint_dir=f"{scratch}/checkpoints",
                    tensorboard_dir=str(log_dir or scratch),
                    run_name=f"{self.model_name}.detector", progress=self.verbose >= 1,
                )
            except training.TrainingDiverged as error:
                raise ValueError(
                    f"{error} Lower learning_rate (now {learning_rate})"
                    f"{'' if self.scale else ' or pass scale=True'}."
                ) from None
        # Set together after training, so that a failed fit keeps the previous detector whole.
        self.model_ = model
        self.scaler_ = scaler
        self.n_features_in_ = rows.shape[1]
        if feature_names is not None:
            self.feature_names_in_ = feature_names
        elif hasattr(self, "feature_names_in_"):
            # A refit on an array removes the names stored by an earlier DataFrame fit.
            del self.feature_names_in_
        self.seed_ = seed
        self.log_dir_ = None if log_dir is None else str(log_dir)
        self.score_name_ = self.score_name or self.default_score
        self.history_ = fit["history"]
        self.decision_scores_ = self._score_rows(rows)[self.score_name_]
        self.threshold_ = evaluation.percentile_threshold(
            self.decision_scores_, 100.0 * (1.0 - self.contamination)
        )
        self.labels_ = (self.decision_scores_ >= self.threshold_).astype(int)
        counts = evaluation.threshold_counts(self.decision_scores_, self.threshold_)
        ties = evaluation.tie_warning(
            self.score_name_, {"threshold": self.threshold_, **counts}, len(rows)
        )
        if ties:
            warnings.warn(
                f"{ties} labels_ flags more than contamination={self.contamination} of the "
                f"training rows.", UserWarning, stacklevel=2,
            )
        return self

    def fit_predict(self, X, y=None):
        """Fit on `X` and return `labels_`: 1 for its rows at or above `threshold_`."""
        return self.fit(X, y).labels_

    def __getstate__(self):
        # The Keras model cannot be pickled (its networks are constructor
        # arguments without a config), so a pickle stores its weights instead.
        # A copy, because object.__getstate__ returns the instance's own __dict__.
        state = dict(super().__getstate__())
        state.pop("_scorer", None)
        model = state.pop("model_", None)
        if model is not None:
            state["_model_weights"] = [weight.numpy() for weight in model.weights]
        return state

    def __setstate__(self, state):
        state = dict(state)
        weights = state.pop("_model_weights", None)
        super().__setstate__(state)
        if weights is not None:
            # The same construction gives the same weight order.
            model, _ = build_model(
                self.model_name, ARCHITECTURE, self.n_features_in_, **self._model_options()
            )
            model.set_weights(weights)
            self.model_ = model

    def _check_fitted(self, method):
        # NotFittedError is also a ValueError, so callers that catch ValueError still catch it.
        if not hasattr(self, "model_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet. Call fit(X) before {method}()."
            )

    def _check_feature_names_match(self, x):
        """Raise `ValueError` unless a DataFrame `x` has the columns of the training DataFrame.

        Warn, as scikit-learn does, when only one of `x` and the training
        rows has feature names, because columns are then matched by position.
        """
        names = _feature_names(x)
        fitted_names = getattr(self, "feature_names_in_", None)
        detector = type(self).__name__
        if names is None and fitted_names is None:
            return
        if fitted_names is None:
            warnings.warn(
                f"X has feature names, but this {detector} was fitted without them, so "
                f"its columns are matched by position.", UserWarning, stacklevel=3,
            )
            return
        if names is None:
            warnings.warn(
                f"X has no feature names, but this {detector} was fitted with feature "
                f"names, so its columns are matched by position.", UserWarning, stacklevel=3,
            )
            return
        if names.tolist() == fitted_names.tolist():
            return
        missing = [name for name in fitted_names if name not in set(names)]
        unexpected = [name for name in names if name not in set(fitted_names)]
        problems = []
        if missing:
            problems.append(f"is missing columns {missing[:10]}")
        if unexpected:
            problems.append(f"has unexpected columns {unexpected[:10]}")
        problem = " and ".join(problems) or "has the fitted feature names in another order"
        raise ValueError(
            f"X {problem}. Pass the columns of feature_names_in_ in their order, for "
            f"example X[detector.feature_names_in_]."
        )

    def _score_rows(self, rows):
        """Return every score of the model for checked `rows`, by name."""
        # MinMaxScaler.transform rejects zero rows, which get empty scores as with scale=False.
        if self.scaler_ is not None and len(rows) > 0:
            rows = self.scaler_.transform(rows).astype(np.float32)
        # One Scorer per fitted model, because a new one traces its tf.function again.
        scorer = getattr(self, "_scorer", None)
        if scorer is None or scorer.model is not self.model_:
            scorer = self._scorer = evaluation.Scorer(self.model_, batch_size=1024)
        scores, _ = scorer.score(rows)
        return scores

    def score_all(self, X):
        """Return every score of the model for `X`, by name (higher is more anomalous)."""
        self._check_fitted("score_all")
        self._check_feature_names_match(X)
        return self._score_rows(self._rows(X, width=self.n_features_in_))

    def decision_function(self, X):
        """Return the anomaly score of each row of `X`: higher is more anomalous.

        Args:
            X: Array-like of shape `(n_samples, n_features_in_)`.

        Returns:
            A float array of shape `(n_samples,)` with the `score_name_` score.
        """
        self._check_fitted("decision_function")
        return self.score_all(X)[self.score_name_]

    def predict(self, X, return_confidence=False):
        """Flag the rows of `X` that score at or above `threshold_`.

        Args:
            X: Array-like of shape `(n_samples, n_features_in_)`.
            return_confidence: Whether to also return `predict_confidence(X)`.
                Defaults to `False`.

        Returns:
            An int array of shape `(n_samples,)`, 1 for anomalies and 0 for
            normal rows, or a tuple of it and the confidence array.
        """
        self._check_fitted("predict")
        _check_flag("return_confidence", return_confidence)
        scores = self.decision_function(X)
        labels = (scores >= self.threshold_).astype(int)
        if return_confidence:
            return labels, self._confidence(scores)
        return labels

    def predict_proba(self, X, method="linear", return_confidence=False):
        """Convert the scores of `X` into inlier and outlier probabilities.

        Both methods place each score among the training scores
        `decision_scores_`, as PyOD's `predict_proba` does:

        - `"linear"`: min-max scaling to the range of the training scores,
          clipped to [0, 1], so every score at or above the highest
          training score gets an outlier probability of 1.
        - `"unify"`: `erf((score - mean) / (std * sqrt(2)))` with the mean
          and standard deviation of the training scores, clipped to
          [0, 1], so every score at or below the mean gets 0 (Kriegel et
          al., "Interpreting and Unifying Outlier Scores", SDM 2011).

        When all training scores are equal, both methods give 1 above that
        score and 0 at or below it.

        Args:
            X: Array-like of shape `(n_samples, n_features_in_)`.
            method: `"linear"` (the default) or `"unify"`.
            return_confidence: Whether to also return `predict_confidence(X)`.
                Defaults to `False`.

        Returns:
            A float64 array of shape `(n_samples, 2)`: the inlier
            probability in column 0 and the outlier probability in column
            1, which sum to 1. With `return_confidence`, a tuple of it and
            the confidence array.
        """
        self._check_fitted("predict_proba")
        if method not in PROBABILITY_METHODS:
            raise ValueError(
                f"Invalid method {method!r}: expected one of "
                f"{', '.join(repr(name) for name in PROBABILITY_METHODS)}."
            )
        _check_flag("return_confidence", return_confidence)
        scores = self.decision_function(X)
        outlier = self._outlier_probability(scores, method)
        probabilities = np.column_stack([1.0 - outlier, outlier])
        if return_confidence:
            return probabilities, self._confidence(scores)
        return probabilities

    def _outlier_probability(self, scores, method):
        training_scores = self.decision_scores_.astype(np.float64)
        scores = scores.astype(np.float64)
        low, high = training_scores.min(), training_scores.max()
        if low == high:
            # Equal training scores leave nothing to scale by.
            return (scores > high).astype(np.float64)
        if method == "linear":
            probability = (scores - low) / (high - low)
        else:
            mean, std = training_scores.mean(), training_scores.std()
            probability = special.erf((scores - mean) / (std * math.sqrt(2.0)))
        return np.clip(probability, 0.0, 1.0)

    def predict_confidence(self, X):
        """Estimate how stable the label of each row of `X` is under resampled training rows.

        This is ExCeeD (Perini et al., "Quantifying the Confidence of Anomaly
        Detectors in Their Example-Wise Predictions", ECML PKDD 2020), as in
        PyOD: with n training rows of which k score at or below the row,
        the chance that a training row scores at or below it is estimated
        as `(k + 1) / (n + 2)`. The confidence of an anomaly label is the
        binomial probability that more than `n - int(n * contamination)`
        of n new training rows score at or below it, and that of a normal
        label is 1 minus this probability.

        Args:
            X: Array-like of shape `(n_samples, n_features_in_)`.

        Returns:
            A float64 array of shape `(n_samples,)` in [0, 1], higher when
            the label of `predict(X)` is more stable.
        """
        self._check_fitted("predict_confidence")
        return self._confidence(self.decision_function(X))

    def _confidence(self, scores):
        training_scores = np.sort(self.decision_scores_)
        n = len(training_scores)
        at_or_below = np.searchsorted(training_scores, scores, side="right")
        below_probability = (at_or_below + 1.0) / (n + 2.0)
        normal_rows = n - int(n * self.contamination)
        anomaly_confidence = stats.binom.sf(normal_rows, n, below_probability)
        is_anomaly = scores >= self.threshold_
        return np.where(is_anomaly, anomaly_confidence, 1.0 - anomaly_confidence)

    def export(self, path):
        """Write a SavedModel that scales raw rows, scores them and applies `threshold_`.

        Its `serve` endpoint takes float32 rows of `n_features_in_` values and
        returns every score, `score` (the `score_name_` score) and `is_anomaly`.

        Args:
            path: Output folder. It must not exist yet.

        Returns:
            The output path.
        """
        self._check_fitted("export")
        return export.export_saved_model(
            self.model_, path, self.score_name_, self.threshold_, scaler=self.scaler_,
            info={"detector": type(self).__name__, "contamination": self.contamination},
        )


class ALADDetector(GANDetector):
    """ALAD behind the PyOD detector API.

    Scores (see `alad_tf.models.ALAD`): `fm` (the default, the feature-matching
    distance of D_xx), `ch`, `l1` and `l2`, all higher for more anomalous rows.

    Args:
        enable_dzz: Whether the D_zz cycle term enters the generator and
            encoder losses, as `--enable_dzz`. Defaults to `False`.
        degree: Norm degree of the `fm` score, as `--d`. Defaults to 1.
        The other settings are those of `GANDetector`.
    """

    model_name = "alad"
    default_score = "fm"

    def __init__(
        self, *, contamination=0.1, score_name=None, epochs=None, batch_size=None,
        learning_rate=None, scale=True, random_state=None, verbose=0, logdir=None,
        enable_dzz=False, degree=1,
    ):
        super().__init__(
            contamination=contamination, score_name=score_name, epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate, scale=scale, random_state=random_state,
            verbose=verbose, logdir=logdir,
        )
        self.enable_dzz = enable_dzz
        self.degree = degree

    def _check_model_settings(self):
        _check_flag("enable_dzz", self.enable_dzz)
        _check_degree(self.degree)

    def _model_options(self):
        return {"enable_dzz": bool(self.enable_dzz), "score_degree": int(self.degree)}


class BiGANDetector(GANDetector):
    """BiGAN (EGBAD) behind the PyOD detector API.

    Scores: `cross_e` (the default) and `fm`, each (1 - weight) times the
    reconstruction distance plus weight times a discriminator term, higher
    for more anomalous rows.

    Args:
        weight: Weight of the discriminator term, as `--w`. Defaults to 0.1.
        degree: Norm degree of both terms, as `--d`. Defaults to 1.
        The other settings are those of `GANDetector`.
    """

    model_name = "bigan"
    default_score = "cross_e"

    def __init__(
        self, *, contamination=0.1, score_name=None, epochs=None, batch_size=None,
        learning_rate=None, scale=True, random_state=None, verbose=0, logdir=None,
        weight=0.1, degree=1,
    ):
        super().__init__(
            contamination=contamination, score_name=score_name, epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate, scale=scale, random_state=random_state,
            verbose=verbose, logdir=logdir,
        )
        self.weight = weight
        self.degree = degree

    def _check_model_settings(self):
        if not _is_real_number(self.weight) or not 0.0 <= self.weight <= 1.0:
            raise ValueError(
                f"Invalid weight {self.weight!r}: expected a weight in [0, 1], as --w."
            )
        _check_degree(self.degree)

    def _model_options(self):
        method = "fm" if (self.score_name or self.default_score) == "fm" else "cross-e"
        return {"weight": float(self.weight), "score_degree": int(self.degree), "method": method}
