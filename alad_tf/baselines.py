"""Cheap anomaly-detection baselines, scored under the GAN runs' protocol.

`run_baselines` loads a dataset split as `run_experiment` does and fits each
baseline on the training rows. It scores the test rows, and the validation
rows for `train_percentile`, in chunks of the dataset's batch size. Each
baseline gets a run folder with the same results.csv, test_scores.npz and
summary.json as a GAN run.

Every score is higher for more anomalous rows. The scikit-learn models are
used as they are: this module only picks their inputs, parameters and the
sign of their outputs.
"""

import time
from pathlib import Path

import numpy as np
from absl import logging
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM
from threadpoolctl import threadpool_limits

from alad_tf import evaluation, results
from alad_tf.data import DEFAULT_SCALE, load_dataset


def _as_rows(x):
    """Return `x` as a 2-D float32 array, flattening images into rows of pixels."""
    x = np.asarray(x, dtype=np.float32)
    return x.reshape(len(x), -1)


def _subsample(x, max_rows, rd):
    """Return at most `max_rows` rows of `x`, drawn without replacement with seed `rd`.

    The rows keep their original order. All rows are returned when `x` has
    `max_rows` rows or fewer, or when `max_rows` is `None`.
    """
    if max_rows is None or len(x) <= max_rows:
        return x
    rows = np.random.default_rng(rd).choice(len(x), size=max_rows, replace=False)
    return x[np.sort(rows)]


class Baseline:
    """Detector fitted on training rows only, with scores higher for more anomalous rows.

    Subclasses set `name` and implement `fit`, `score` and `params`.

    Args:
        rd: Random seed of the model and of any subsampling. Defaults to 42.
    """

    name = ""
    # Whether the constructor takes the dataset name, to build the dataset's networks.
    needs_dataset = False

    def __init__(self, rd=42):
        self.rd = rd

    @property
    def primary_score(self):
        """Name of the score that the command-line table and summary.json lead with."""
        return self.name

    def params(self):
        """Return the baseline's parameters as a JSON-serialisable dict."""
        return {}

    def fit(self, x_train):
        """Fit on the training rows and return `self`."""
        raise NotImplementedError

    def score(self, x):
        """Return one float per row of `x`. Higher means more anomalous."""
        raise NotImplementedError

    def scores(self, x):
        """Return a dict of score name to one float per row of `x`, higher for more anomalous rows."""
        return {self.name: self.score(x)}


class IsolationForestBaseline(Baseline):
    """`sklearn.ensemble.IsolationForest` on unscaled features.

    The score is `-score_samples(x)`. scikit-learn's `score_samples` returns
    the opposite of the anomaly score of the original paper, lower for more
    abnormal rows, so the sign is flipped to make higher more anomalous.
    Features are not scaled: each split threshold is drawn uniformly between a
    feature's minimum and maximum, so an affine rescaling of a feature gives the
    same trees. MinMax and standard scaling gave the same scores on KDD99.

    Args:
        rd: `random_state` of the forest. Defaults to 42.
        n_estimators: Number of trees. Defaults to 100, scikit-learn's default.
    """

    name = "iforest"

    def __init__(self, rd=42, n_estimators=100):
        super().__init__(rd)
        self.n_estimators = n_estimators
        self.model = None

    def params(self):
        return {"n_estimators": self.n_estimators, "max_samples": "auto", "scaler": None}

    def fit(self, x_train):
        self.model = IsolationForest(n_estimators=self.n_estimators, random_state=self.rd)
        self.model.fit(_as_rows(x_train))
        return self

    def score(self, x):
        return -self.model.score_samples(_as_rows(x))


class PCABaseline(Baseline):
    """Reconstruction error of `sklearn.decomposition.PCA` on standardised features.

    Features are standardised with a `StandardScaler` fitted on the training
    rows, and PCA keeps the fewest components that explain `n_components` of
    the training variance. The score is the squared Euclidean distance between
    a standardised row and its reconstruction from those components, higher
    for more anomalous rows. Without scaling, KDD99's byte counts (up to 1e9)
    hold almost all the variance, and 2 components explained 95 % of it.

    Args:
        rd: `random_state` of PCA, used only by its randomized solver.
            Defaults to 42.
        n_components: Share of the variance to explain, or a number of
            components. Defaults to 0.95.
    """

    name = "pca"

    def __init__(self, rd=42, n_components=0.95):
        super().__init__(rd)
        self.n_components = n_components
        self.scaler = None
        self.model = None

    def params(self):
        fitted = None if self.model is None else int(self.model.n_components_)
        return {
            "n_components": self.n_components,
            "fitted_components": fitted,
            "scaler": "standard",
        }

    def fit(self, x_train):
        x_train = _as_rows(x_train)
        self.scaler = StandardScaler().fit(x_train)
        self.model = PCA(n_components=self.n_components, random_state=self.rd)
        self.model.fit(self.scaler.transform(x_train))
        return self

    def score(self, x):
        standardised = self.scaler.transform(_as_rows(x))
        reconstructed = self.model.inverse_transform(self.model.transform(standardised))
        return np.sum((standardised - reconstructed) ** 2, axis=1)


class OneClassSVMBaseline(Baseline):
    """`sklearn.svm.OneClassSVM` (RBF kernel) on standardised features, fitted on a subsample.

    Fitting a kernel SVM takes time and memory that grow about quadratically
    with the number of rows, so the model is fitted on at most
    `max_train_rows` training rows drawn with seed `rd`. Fitting 10,000 of
    KDD99's 198,361 rows took about 1.3 s on 2 shared CPU cores. Scoring time
    grows with the number of support vectors, which is at least `nu` times
    the rows fitted. In one call on the same machine, scoring the 247,011
    KDD99 test rows took about 190 s with `nu` 0.5, scikit-learn's default,
    and 24 s with `nu` 0.1. A small `nu` also suits training rows that
    contain no anomalies, as in KDD99.

    The RBF kernel compares Euclidean distances, in which KDD99's byte counts
    (up to 1e9) would outweigh every other feature. Features are therefore
    standardised with a `StandardScaler` fitted on all training rows. The
    score is `-decision_function(x)`, the negated signed distance to the
    separating hyperplane, higher for more anomalous rows.

    Args:
        rd: Seed of the training subsample. Defaults to 42.
        nu: Upper bound on the share of training rows treated as outliers.
            Defaults to 0.1.
        gamma: RBF kernel coefficient. Defaults to `"scale"`, scikit-learn's
            `1 / (n_features * X.var())`.
        max_train_rows: Rows fitted at most, or `None` for all. Defaults to
            10,000.
    """

    name = "ocsvm"

    def __init__(self, rd=42, nu=0.1, gamma="scale", max_train_rows=10_000):
        super().__init__(rd)
        self.nu = nu
        self.gamma = gamma
        self.max_train_rows = max_train_rows
        self.train_rows = None
        self.scaler = None
        self.model = None

    def params(self):
        return {
            "kernel": "rbf",
            "nu": self.nu,
            "gamma": self.gamma,
            "max_train_rows": self.max_train_rows,
            "train_rows": self.train_rows,
            "scaler": "standard",
        }

    def fit(self, x_train):
        x_train = _as_rows(x_train)
        self.scaler = StandardScaler().fit(x_train)
        sample = _subsample(x_train, self.max_train_rows, self.rd)
        self.train_rows = len(sample)
        self.model = OneClassSVM(kernel="rbf", nu=self.nu, gamma=self.gamma)
        self.model.fit(self.scaler.transform(sample))
        return self

    def score(self, x):
        return -self.model.decision_function(self.scaler.transform(_as_rows(x)))


class KNNBaseline(Baseline):
    """Distance to the k-th nearest training row (`sklearn.neighbors.NearestNeighbors`).

    Features are standardised with a `StandardScaler` fitted on all training
    rows, for the same reason as `OneClassSVMBaseline`. The reference rows are
    at most `max_reference_rows` training rows drawn with seed `rd`. Each
    scored row is compared with every reference row, because scikit-learn
    1.9.1 picks brute force for more than 15 features, so the cost is
    proportional to their number. With 10,000 of KDD99's 198,361 rows, scoring
    the 247,011 test rows in chunks of 50 took about 35 s on 2 shared CPU
    cores. The score is the Euclidean distance to the `n_neighbors`-th
    nearest reference row, higher for more anomalous rows.

    Args:
        rd: Seed of the reference subsample. Defaults to 42.
        n_neighbors: k. Defaults to 5.
        max_reference_rows: Reference rows kept at most, or `None` for all.
            Defaults to 10,000.
    """

    name = "knn"

    def __init__(self, rd=42, n_neighbors=5, max_reference_rows=10_000):
        super().__init__(rd)
        self.n_neighbors = n_neighbors
        self.max_reference_rows = max_reference_rows
        self.reference_rows = None
        self.scaler = None
        self.model = None

    def params(self):
        return {
            "n_neighbors": self.n_neighbors,
            "max_reference_rows": self.max_reference_rows,
            "reference_rows": self.reference_rows,
            "scaler": "standard",
        }

    def fit(self, x_train):
        x_train = _as_rows(x_train)
        sample = _subsample(x_train, self.max_reference_rows, self.rd)
        if len(sample) < self.n_neighbors:
            raise ValueError(
                f"knn needs at least n_neighbors={self.n_neighbors} training rows, "
                f"got {len(sample)}."
            )
        self.scaler = StandardScaler().fit(x_train)
        self.reference_rows = len(sample)
        self.model = NearestNeighbors(n_neighbors=self.n_neighbors)
        self.model.fit(self.scaler.transform(sample))
        return self

    def score(self, x):
        distances, _ = self.model.kneighbors(self.scaler.transform(_as_rows(x)))
        return distances[:, -1]


class UntrainedALADBaseline(Baseline):
    """The dataset's ALAD networks with freshly initialised weights, scored by `evaluation.Scorer`.

    `fit` builds the networks with Keras's initialisers seeded by `rd` and does
    not train them. It reads only the training rows' shape. All four ALAD
    scores (`ch`, `l1`, `l2`, `fm`, higher for more anomalous rows) are
    reported, named `untrained_alad_<score>`. `fm` is the primary score, as
    with `--m fm`. The gap between a trained ALAD run and this baseline is what
    training adds.

    Args:
        dataset: Dataset whose ALAD architecture is built (kdd or arrhythmia).
        rd: Seed of the initial weights and latent sampling. Defaults to 42.
    """

    name = "untrained_alad"
    needs_dataset = True

    def __init__(self, dataset, rd=42):
        super().__init__(rd)
        self.dataset = dataset
        self.scorer = None

    @classmethod
    def check_dataset(cls, dataset):
        """Raise `ValueError` if there is no ALAD architecture for `dataset`."""
        from alad_tf.networks import get_architecture

        try:
            get_architecture("alad", dataset)
        except ValueError as error:
            raise ValueError(
                f"Baseline untrained_alad is not available for {dataset}: {error} Pass "
                f"--baselines without untrained_alad."
            ) from error

    @property
    def primary_score(self):
        return f"{self.name}_fm"

    def params(self):
        return {"architecture": "alad", "nb_epochs": 0}

    def fit(self, x_train):
        import keras

        from alad_tf.models import build_model

        x_train = np.asarray(x_train)
        input_shape = x_train.shape[1] if x_train.ndim == 2 else tuple(x_train.shape[1:])
        keras.utils.set_random_seed(self.rd)
        model, hyperparameters = build_model("alad", self.dataset, input_shape, seed=self.rd)
        self.scorer = evaluation.Scorer(model, batch_size=hyperparameters["batch_size"])
        return self

    def score(self, x):
        return self.scores(x)[self.primary_score]

    def scores(self, x):
        values, _ = self.scorer.score(x)
        return {f"{self.name}_{name}": score for name, score in values.items()}


# Baseline name -> class, in the order they run by default.
BASELINES = {
    baseline.name: baseline
    for baseline in (
        IsolationForestBaseline,
        PCABaseline,
        OneClassSVMBaseline,
        KNNBaseline,
        UntrainedALADBaseline,
    )
}


def create_baseline(name, dataset, rd=42):
    """Return an unfitted baseline by name, with its default parameters.

    Raises:
        ValueError: If `name` is not a key of `BASELINES`.
    """
    check_names([name])
    baseline_class = BASELINES[name]
    if baseline_class.needs_dataset:
        return baseline_class(dataset, rd=rd)
    return baseline_class(rd=rd)


def check_names(names):
    """Raise `ValueError` naming the first unknown baseline in `names`."""
    for name in names:
        if name not in BASELINES:
            raise ValueError(
                f"Unknown baseline {name!r}. Expected a comma-separated list of: "
                f"{', '.join(BASELINES)}."
            )


def available_baselines(dataset):
    """Return the names of the baselines that run on `dataset`, in default order."""
    names = []
    for name, baseline_class in BASELINES.items():
        if name == UntrainedALADBaseline.name:
            try:
                baseline_class.check_dataset(dataset)
            except ValueError:
                continue
        names.append(name)
    return names


def reference_batch_size(dataset):
    """Return the reference batch size of the first model with networks for `dataset`."""
    from alad_tf.models import MODELS
    from alad_tf.networks import get_architecture

    for model_name in MODELS:
        try:
            _, hyperparameters = get_architecture(model_name, dataset)
        except ValueError:
            continue
        return hyperparameters["batch_size"]
    raise ValueError(f"No model has networks for dataset {dataset!r}, so it has no batch size.")


def score_in_chunks(baseline, x, batch_size):
    """Score `x` with `baseline` in chunks of `batch_size` rows, timing each chunk.

    Returns:
        A tuple `(scores, mean_chunk_seconds)`, as `evaluation.Scorer.score`
        returns: `scores` maps each score name to one float per row, and
        `mean_chunk_seconds` is the mean wall time of one full chunk, or of
        the partial chunk when there is no full chunk.
    """
    parts = {}
    full_times, partial_times = [], []
    for start in range(0, len(x), batch_size):
        chunk = x[start : start + batch_size]
        begin = time.perf_counter()
        chunk_scores = baseline.scores(chunk)
        elapsed = time.perf_counter() - begin
        (full_times if len(chunk) == batch_size else partial_times).append(elapsed)
        for name, values in chunk_scores.items():
            parts.setdefault(name, []).append(np.asarray(values))
    scores = {name: np.concatenate(values) for name, values in parts.items()}
    times = full_times or partial_times
    return scores, float(np.mean(times)) if times else 0.0


def run_folder_name(
    name, dataset, threshold, label, rd, scale=False, clean_train=False, data_path=None
):
    """Return the relative folder of a baseline run: `baselines/<dataset>/<name>_<threshold>/label<L>/rd<rd>`.

    On csv, `<dataset>` is `csv/<file name of data_path>` with dots turned into
    underscores, as for GAN runs.
    """
    flags = f"{name}_{threshold}"
    if scale:
        flags += "_scaled"
    if clean_train:
        flags += "_clean"
    dataset = results.dataset_folder(dataset, data_path)
    return Path("baselines") / dataset / flags / f"label{label}" / f"rd{rd}"


def _check_settings(
    dataset, names, threshold, threshold_percentile, batch_size, threads, contamination, logdir
):
    check_names(names)
    if not names:
        raise ValueError("No baseline to run. Pass --baselines with at least one name.")
    if UntrainedALADBaseline.name in names:
        UntrainedALADBaseline.check_dataset(dataset)
    if threshold not in evaluation.THRESHOLD_MODES:
        raise ValueError(
            f"Invalid --threshold {threshold!r}. Expected one of: "
            f"{', '.join(evaluation.THRESHOLD_MODES)}."
        )
    if threshold_percentile is not None and not 0 <= threshold_percentile <= 100:
        raise ValueError(
            f"Invalid --threshold_percentile {threshold_percentile}: expected a number "
            f"in [0, 100]."
        )
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"Invalid --batch_size {batch_size}: expected 1 or more.")
    if threads is not None and threads < 0:
        raise ValueError(f"Invalid --intra_op_threads {threads}: expected 0 or more.")
    evaluation.check_contamination_mode(contamination, threshold, threshold_percentile)
    results.check_folder_path(logdir, "--logdir")


def run_baselines(
    dataset,
    names=None,
    data_dir=None,
    rd=42,
    threshold="test_percentile",
    threshold_percentile=None,
    logdir="logs",
    label=0,
    batch_size=None,
    scale=None,
    clean_train=False,
    threads=1,
    **table_options,
):
    """Fit, score and evaluate baselines on a dataset's reference split.

    The split, threshold rule and metrics are those of `run_experiment` with
    the same settings. The validation split is held out only for
    `train_percentile`, as in a GAN run without `--enable_early_stop`. Each
    baseline gets its own folder under `<logdir>/baselines/`, never
    overwriting an earlier one, with `results.csv`, `test_scores.npz` and
    `summary.json`, and appends its rows to `<logdir>/results.csv`. The
    `Step` column is 0 because no baseline takes training steps.

    A user's table (`dataset="csv"`) is loaded and encoded as for a GAN run.
    Without a label column, every row is trained on and scored. Each run
    folder then gets `scores.csv` with every row's scores and decision, and
    the summary's `metrics` have only the threshold and the number of rows
    flagged.

    Args:
        dataset: Dataset name (kdd, arrhythmia, mnist or csv).
        names: Baseline names, keys of `BASELINES`. Defaults to `None`, which
            runs every baseline available for the dataset.
        data_dir: Folder searched first for the data files. Defaults to `None`.
        rd: Random seed of every baseline. Defaults to 42.
        threshold: `"test_percentile"` or `"train_percentile"`.
        threshold_percentile: Percentile overriding the threshold rule's
            default. Defaults to `None`.
        logdir: Top log folder. Defaults to `"logs"`.
        label: The anomalous digit on mnist; on kdd and arrhythmia it only
            names the run folder. Defaults to 0.
        batch_size: Rows per timed scoring chunk. Defaults to `None`, the
            dataset's reference batch size (kdd: 50), so that
            `mean_inference_time_s` compares with a GAN run's.
        scale: Whether to MinMax-scale tabular features before the baselines
            see them, as `--scale` does for GAN runs. Defaults to `None`,
            the dataset's default: off except for csv.
        clean_train: Whether to drop the anomalies from arrhythmia's
            training rows. Defaults to `False`.
        threads: Threads of the BLAS and OpenMP pools of NumPy and
            scikit-learn while fitting and scoring, or 0 for the libraries'
            defaults. Defaults to 1, as GAN runs use one TensorFlow intra-op
            thread by default. It does not change TensorFlow's threads.
        **table_options: The csv options of `alad_tf.data.DATASET_OPTIONS`,
            for example `data_path`, `label_column` or `drop_columns`, as
            `load_dataset` takes them. They are rejected for other datasets.

    Returns:
        A list with the summary dict of each baseline, as written to its
        `summary.json`.

    Raises:
        ValueError: If a name, the threshold settings, the batch size,
            `logdir` or a table option are invalid, or a baseline is not
            available for the dataset.
    """
    if names is None:
        names = available_baselines(dataset)
    names = list(names)
    _check_settings(
        dataset, names, threshold, threshold_percentile, batch_size, threads,
        table_options.get("contamination"), logdir,
    )
    if scale is None:
        scale = DEFAULT_SCALE.get(dataset, False)
    started = time.time()

    logging.info("Data loading...")
    splits = load_dataset(
        dataset, data_dir=data_dir, scale=scale,
        validation=threshold == "train_percentile", label=label, clean_train=clean_train,
        **table_options,
    )
    if batch_size is None:
        batch_size = reference_batch_size(dataset)
    load_seconds = time.time() - started
    logging.info(
        "Data: %d training rows, %s validation rows, %d test rows (%s anomalous)",
        len(splits.x_train), "no" if splits.x_valid is None else len(splits.x_valid),
        len(splits.x_test),
        "unknown share" if splits.y_test is None else f"{100 * splits.y_test.mean():.2f} %",
    )

    settings = {
        "dataset": dataset, "threshold": threshold,
        "threshold_percentile": threshold_percentile, "rd": rd, "label": label,
        "batch_size": batch_size, "scale": scale, "clean_train": clean_train,
        "data_dir": data_dir, "logdir": logdir, "threads": threads, **table_options,
    }
    summaries = []
    # On 2 CPU cores shared with other jobs, the default two OpenBLAS threads
    # made PCA fitting on KDD99 14 times slower than one thread.
    with threadpool_limits(limits=threads or None):
        for name in names:
            summaries.append(_run_one(name, splits, settings, load_seconds))
    return summaries


def _run_one(name, splits, settings, load_seconds):
    """Fit, score, evaluate and write one baseline; return its summary."""
    started = time.time()
    baseline = create_baseline(name, settings["dataset"], rd=settings["rd"])

    logging.info("[%s] Fitting on %d training rows...", name, len(splits.x_train))
    fit_started = time.time()
    baseline.fit(splits.x_train)
    training_seconds = time.time() - fit_started

    logging.info("[%s] Scoring %d test rows...", name, len(splits.x_test))
    test_scores, mean_inference_time = score_in_chunks(
        baseline, splits.x_test, settings["batch_size"]
    )
    valid_scores = None
    if settings["threshold"] == "train_percentile":
        valid_scores, _ = score_in_chunks(baseline, splits.x_valid, settings["batch_size"])
    metrics = evaluation.evaluate_scores(
        splits.y_test, test_scores, settings["threshold"], splits.test_percentile,
        valid_scores=valid_scores, threshold_percentile=settings["threshold_percentile"],
    )
    logging.info("[%s] Mean inference time is %.6f s per chunk", name, mean_inference_time)
    evaluation.log_metrics(metrics, len(splits.x_test), name)

    folder = run_folder_name(
        name, settings["dataset"], settings["threshold"], settings["label"], settings["rd"],
        scale=settings["scale"], clean_train=settings["clean_train"],
        data_path=settings.get("data_path"),
    )
    run_dir, _ = results.resolve_run_dir(settings["logdir"], folder, resume=False)
    results.write_results(
        run_dir, settings["logdir"], metrics, step=0, rd=settings["rd"],
        threshold=settings["threshold"], model=name, dataset=settings["dataset"],
        weight="", label=settings["label"],
    )
    labels = {} if splits.y_test is None else {"y_test": splits.y_test}
    np.savez_compressed(run_dir / "test_scores.npz", **labels, **test_scores)
    if splits.y_test is None:
        primary = baseline.primary_score
        results.write_row_scores(run_dir, test_scores, primary, metrics[primary]["threshold"])

    summary = {
        "run_dir": str(run_dir),
        "kind": "baseline",
        "flags": {"model": "baselines", "baseline": name, **settings, **baseline.params()},
        "primary_score": baseline.primary_score,
        "metrics": metrics,
        "mean_inference_time_s": mean_inference_time,
        "training_seconds": training_seconds,
        # Includes loading the data once, as a GAN run's total does.
        "total_seconds": load_seconds + time.time() - started,
    }
    results.write_summary(run_dir, summary)
    logging.info("[%s] Run folder: %s", name, run_dir)
    return summary


__all__ = [
    "BASELINES", "Baseline", "IsolationForestBaseline", "KNNBaseline",
    "OneClassSVMBaseline", "PCABaseline", "UntrainedALADBaseline", "available_baselines",
    "check_names", "create_baseline", "reference_batch_size", "run_baselines",
    "score_in_chunks",
]
