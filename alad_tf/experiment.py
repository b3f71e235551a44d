"""One run end to end: data, model, training, scoring, results and export.

The command line is a thin layer over `run_experiment`, which a notebook can
call directly with a `RunConfig`.
"""

import dataclasses
import json
import math
import numbers
import shutil
import time
from pathlib import Path

import keras
import numpy as np
from absl import logging

from alad_tf import evaluation, export, plots, results, training
from alad_tf.data import DEFAULT_SCALE, LOADERS, load_dataset
from alad_tf.models import MODELS, build_model
from alad_tf.networks import get_architecture
from alad_tf.tables import SETTINGS_OUTSIDE_FOLDER_NAME

# Default number of epochs per (model, dataset), sized so that the plain
# command finishes in under 10 minutes on a 2-core CPU.
DEFAULT_EPOCHS = {
    ("alad", "kdd"): 10,
    ("alad", "arrhythmia"): 700,
    ("bigan", "arrhythmia"): 700,
    # BiGAN on KDD99 still improves after 10 epochs. Scored every 2 epochs
    # over seeds 1 to 4, its cross-e F1 averaged 0.785 at 10 epochs and 0.924
    # at 34, and two seeds collapsed to about 0.48 between epochs 44 and 50.
    # NOTE: five other seeds averaged only 0.757 at 34 epochs (one at 0.27).
    ("bigan", "kdd"): 34,
    # Measured on a smaller MNIST (the 10,000 test images, 72 steps per epoch)
    # with digit 0 anomalous: AUPRC rose from 0.43 after 720 steps to 0.85
    # after 3,240 and stayed at 0.84 to 0.86 up to 5,040. 7 epochs of the
    # full data are 3,528 steps, about 36 minutes on 2 CPU cores.
    # NOTE: not checked on the full 70,000 images, which were not available.
    ("bigan", "mnist"): 7,
}

# The user's own tables get about the training steps of the KDD99 default
# (10 epochs of 3,967 steps), within these bounds on the number of epochs.
TABLE_STEP_BUDGET = 40_000
TABLE_EPOCH_RANGE = (10, 1000)

# Datasets whose --label has no effect.
LABEL_FREE_DATASETS = ("kdd", "arrhythmia", "csv")


def default_epochs(model_name, dataset, train_rows, batch_size):
    """Return the default number of epochs of a model on a dataset.

    The reference datasets have a fixed default. A user's table gets
    `TABLE_STEP_BUDGET` training steps, rounded up to whole epochs and kept
    in `TABLE_EPOCH_RANGE`.
    """
    if (model_name, dataset) in DEFAULT_EPOCHS:
        return DEFAULT_EPOCHS[(model_name, dataset)]
    steps_per_epoch = max(1, train_rows // batch_size)
    low, high = TABLE_EPOCH_RANGE
    return int(min(high, max(low, math.ceil(TABLE_STEP_BUDGET / steps_per_epoch))))


@dataclasses.dataclass
class RunConfig:
    """Settings of one run. Field names follow the command-line flags.

    `nb_epochs`, `batch_size` and `learning_rate` of `None` take the
    reference values of the model and dataset, and `scale` of `None` the
    dataset's default (`alad_tf.data.DEFAULT_SCALE`). `verbose` 1 shows a
    progress bar of the training steps when standard output is a terminal
    or a notebook, and 0 hides it, with the same log lines.
    """

    model: str = "alad"
    dataset: str = "kdd"
    nb_epochs: int | None = None
    label: int = 0
    m: str = "fm"
    w: float = 0.1
    d: int = 1
    rd: int = 42
    enable_sm: bool = False
    enable_dzz: bool = False
    enable_early_stop: bool = False
    sn: bool = False
    data_dir: str | None = None
    logdir: str = "logs"
    batch_size: int | None = None
    learning_rate: float | None = None
    threshold: str = "test_percentile"
    threshold_percentile: float | None = None
    scale: bool | None = None
    clean_train: bool = False
    data_path: str | None = None
    label_column: str | None = None
    anomaly_values: list | None = None
    categorical_columns: list | None = None
    contamination: float | None = None
    fillna: bool = False
    no_header: bool = False
    drop_columns: list | None = None
    resume: bool = False
    export_dir: str | None = None
    verbose: int = 1

    def validate(self):
        """Raise `ValueError` naming the first invalid setting."""
        if self.model not in MODELS:
            raise ValueError(
                f"Unknown model {self.model!r}. Expected one of: {', '.join(sorted(MODELS))}."
            )
        if self.dataset in LOADERS:
            # Before the data is loaded, which can mean a download.
            get_architecture(self.model, self.dataset)
        for name in ("rd", "nb_epochs", "batch_size"):
            value = getattr(self, name)
            # bool is an int subclass, but rd=True is a mistake.
            if (value is None and name != "rd") or (
                isinstance(value, numbers.Integral) and not isinstance(value, bool)
            ):
                continue
            hint = " For several seeds, call alad_tf.experiments.run_seeds." if name == "rd" else ""
            raise ValueError(f"Invalid --{name} {value!r}: expected a whole number.{hint}")
        if self.rd < 0:
            raise ValueError(f"Invalid --rd {self.rd}: expected 0 or more.")
        if self.nb_epochs is not None and self.nb_epochs < 0:
            raise ValueError(f"Invalid --nb_epochs {self.nb_epochs}: expected 0 or more.")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"Invalid --batch_size {self.batch_size}: expected 1 or more.")
        if self.learning_rate is not None and not (
            self.learning_rate > 0 and math.isfinite(self.learning_rate)
        ):
            raise ValueError(
                f"Invalid --learning_rate {self.learning_rate}: expected a positive number."
            )
        if self.verbose not in (0, 1):
            raise ValueError(f"Invalid --verbose {self.verbose}: expected 0 or 1.")
        if self.d < 1:
            raise ValueError(f"Invalid --d {self.d}: expected a norm degree of 1 or more.")
        if not 0 <= self.w <= 1:
            raise ValueError(f"Invalid --w {self.w}: expected a weight in [0, 1].")
        if self.threshold not in evaluation.THRESHOLD_MODES:
            raise ValueError(
                f"Invalid --threshold {self.threshold!r}. Expected one of: "
                f"{', '.join(evaluation.THRESHOLD_MODES)}."
            )
        if self.threshold_percentile is not None and not 0 <= self.threshold_percentile <= 100:
            raise ValueError(
                f"Invalid --threshold_percentile {self.threshold_percentile}: "
                f"expected a number in [0, 100]."
            )
        evaluation.check_contamination_mode(
            self.contamination, self.threshold, self.threshold_percentile
        )
        if self.export_dir and Path(self.export_dir).expanduser().exists():
            raise ValueError(
                f"Export folder {self.export_dir} already exists. Choose another "
                f"--export_dir or remove it first."
            )
        results.check_folder_path(self.logdir, "--logdir")
        if self.export_dir:
            results.check_folder_path(Path(self.export_dir).parent, "--export_dir")

    @property
    def needs_validation(self):
        return self.enable_early_stop or self.threshold == "train_percentile"


# Flags that must match when --resume continues a run.
RESUME_FLAGS = (
    "batch_size", "learning_rate", "sn", "enable_dzz", "w", "d", "scale", "clean_train",
    "data_path", "label_column", "anomaly_values", "categorical_columns", "fillna", "no_header",
    "drop_columns",
)


def _check_resume_flags(run_dir, config):
    """Raise `ValueError` if a resumed run's saved flags differ from `config`."""
    saved_path = Path(run_dir) / "config.json"
    if not saved_path.exists():
        return
    saved = json.loads(saved_path.read_text())

    changed = [
        f"--{name} {saved[name]} (now {getattr(config, name)})"
        for name in RESUME_FLAGS
        if name in saved and not results.same_setting(name, saved[name], getattr(config, name))
    ]
    if changed:
        raise ValueError(
            f"Cannot resume {run_dir} with different settings: it was trained with "
            f"{', '.join(changed)}. Pass the original values, or drop --resume to "
            f"start a new run."
        )


def _log_header(config, run_name, hyperparameters, splits):
    logging.info("[%s] %s is training with the following parameters:", run_name, config.model.upper())
    for label, value in [
        ("Batch size", config.batch_size),
        ("Starting learning rate", config.learning_rate),
        ("EMA Decay", hyperparameters["ema_decay"]),
        ("Degree for L norms", config.d),
        ("Anomalous label", config.label),
        ("Score method", config.m),
        ("Discriminator zz enabled", config.enable_dzz),
        ("Spectral Norm enabled", config.sn),
        ("Epochs", config.nb_epochs),
        ("Threshold", config.threshold),
        ("Random seed", config.rd),
    ]:
        logging.info("[%s] %s: %s", run_name, label, value)
    logging.info("[%s] %s", run_name, splits.label_note)
    if config.dataset in LABEL_FREE_DATASETS:
        logging.info(
            "[%s] --label %d has no effect on %s; it only names the run folder.",
            run_name, config.label, config.dataset,
        )
    logging.info(
        "[%s] Data: %d training rows, %s validation rows, %d test rows (%s anomalous), "
        "rows of shape %s",
        run_name, len(splits.x_train),
        "no" if splits.x_valid is None else len(splits.x_valid),
        len(splits.x_test),
        "unknown share" if splits.y_test is None else f"{100 * splits.y_test.mean():.2f} %",
        splits.x_train.shape[1:],
    )


def prepare_experiment(config):
    """Seed, load the data and build the compiled model of one run.

    `run_experiment` starts with these steps, and so does any tool that
    trains as a run does, such as `benchmarks/epoch_curve.py`: the same seed
    and the same order of data loading and model construction give the same
    weights.

    Args:
        config: A `RunConfig`. It is not modified.

    Returns:
        A tuple `(config, splits, model, hyperparameters)`: a validated copy
        of `config` whose `scale`, `batch_size`, `nb_epochs` and
        `learning_rate` hold the values used, the dataset `Splits`, the
        compiled detector, and the reference hyperparameters of the model on
        the dataset.
    """
    config = dataclasses.replace(config)
    config.validate()
    # Keras takes only Python ints as seeds, and JSON cannot write NumPy integers.
    for name in ("rd", "nb_epochs", "batch_size"):
        if getattr(config, name) is not None:
            setattr(config, name, int(getattr(config, name)))
    # `--export_dir=~/model` reaches the program with its `~`, as --logdir does.
    if config.export_dir:
        config.export_dir = str(Path(config.export_dir).expanduser())
    # config.json records the absolute path, so --resume recognises the table
    # from any working folder.
    if config.data_path:
        config.data_path = str(Path(config.data_path).expanduser().resolve())

    # Seeds Python, NumPy and TensorFlow; shuffling and latent sampling take
    # their own seeds from --rd.
    keras.utils.set_random_seed(config.rd)

    logging.info("Data loading...")
    if config.scale is None:
        config.scale = DEFAULT_SCALE.get(config.dataset, False)
    splits = load_dataset(
        config.dataset, data_dir=config.data_dir, scale=config.scale,
        validation=config.needs_validation, label=config.label,
        clean_train=config.clean_train, data_path=config.data_path,
        label_column=config.label_column, anomaly_values=config.anomaly_values,
        categorical_columns=config.categorical_columns,
        contamination=config.contamination, fillna=config.fillna,
        no_header=config.no_header, drop_columns=config.drop_columns,
    )

    model, hyperparameters = build_model(
        config.model, config.dataset, splits.network_input, spectral_norm=config.sn,
        seed=config.rd, **MODELS[config.model].options_from_config(config),
    )
    if config.batch_size is None:
        config.batch_size = hyperparameters["batch_size"]
    if config.nb_epochs is None:
        config.nb_epochs = default_epochs(
            config.model, config.dataset, len(splits.x_train), config.batch_size
        )
    if config.learning_rate is None:
        config.learning_rate = hyperparameters["learning_rate"]
    # Fail before training on an --m the model has no score for.
    model.primary_score(config.m)
    if len(splits.x_train) < config.batch_size:
        raise ValueError(
            f"The training split has {len(splits.x_train)} rows, fewer than one batch "
            f"of {config.batch_size}. Pass a smaller --batch_size."
        )

    model.compile(
        learning_rate=config.learning_rate,
        steps_per_execution=1 if config.enable_sm else training.STEPS_PER_EXECUTION,
    )
    return config, splits, model, hyperparameters


def run_experiment(config):
    """Train, score, evaluate and export one detector.

    Args:
        config: A `RunConfig`.

    Returns:
        The summary dict that is also written to `summary.json` in the run
        folder.
    """
    started = time.time()
    config, splits, model, hyperparameters = prepare_experiment(config)
    primary = model.primary_score(config.m)

    # Scoring settings such as --threshold_percentile may change on resume.
    settings = {
        name: getattr(config, name) for name in SETTINGS_OUTSIDE_FOLDER_NAME
        if name in RESUME_FLAGS
    }
    run_dir, resumed = results.resolve_run_dir(
        config.logdir, results.run_folder_name(config), config.resume, settings
    )
    if resumed:
        _check_resume_flags(run_dir, config)
        trained = training.checkpoint_epochs(run_dir / "checkpoints")
        if config.nb_epochs < trained:
            raise ValueError(
                f"Cannot resume {run_dir} to --nb_epochs {config.nb_epochs}: it has already "
                f"trained {trained} epochs. Pass --nb_epochs {trained} or more, or drop "
                f"--resume to start a new run."
            )
    elif config.resume:
        logging.warning("No earlier run with a checkpoint to resume; starting a new run.")
    (run_dir / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2) + "\n")
    run_name = f"{config.model}.{config.dataset}.label{config.label}.{run_dir.name}"
    logging.info("[%s] Run folder: %s%s", run_name, run_dir, " (resumed)" if resumed else "")
    _log_header(config, run_name, hyperparameters, splits)

    logging.info("[%s] Start training...", run_name)
    training_started = time.time()
    try:
        fit = training.train(
            model,
            splits.x_train,
            epochs=config.nb_epochs,
            batch_size=config.batch_size,
            seed=config.rd,
            checkpoint_dir=str(run_dir / "checkpoints"),
            tensorboard_dir=str(run_dir),
            run_name=run_name,
            x_valid=splits.x_valid,
            early_stop=config.enable_early_stop,
            batch_summaries=config.enable_sm,
            extra_callbacks=(
                [training.ReconstructionImages(str(run_dir / "images"), splits.x_test[:8])]
                if splits.x_train.ndim == 4 else []
            ),
            progress=config.verbose >= 1,
        )
    except training.TrainingDiverged as error:
        raise ValueError(
            f"{error} Lower --learning_rate (now {config.learning_rate}) or pass --scale."
        ) from None
    training_seconds = time.time() - training_started

    logging.info("[%s] Testing evaluation...", run_name)
    scorer = evaluation.Scorer(model, batch_size=config.batch_size)
    test_scores, mean_inference_time = scorer.score(splits.x_test)
    valid_scores = None
    if splits.x_valid is not None:
        valid_scores, _ = scorer.score(splits.x_valid)
    metrics = evaluation.evaluate_scores(
        splits.y_test, test_scores, config.threshold, splits.test_percentile,
        valid_scores=valid_scores, threshold_percentile=config.threshold_percentile,
    )

    steps_per_epoch = len(splits.x_train) // config.batch_size
    step = (fit["epoch_used"] + 1) * steps_per_epoch
    logging.info("[%s] Testing : mean inference time is %.4f s", run_name, mean_inference_time)
    evaluation.log_metrics(metrics, len(splits.x_test), run_name, step)

    results.write_test_summaries(run_dir, metrics, mean_inference_time, step)
    results.write_run_results(run_dir, config.logdir, config, metrics, step)
    labels = {} if splits.y_test is None else {"y_test": splits.y_test}
    np.savez_compressed(run_dir / "test_scores.npz", **labels, **test_scores)
    if splits.y_test is None:
        results.write_row_scores(run_dir, test_scores, primary, metrics[primary]["threshold"])
    if splits.preprocessor is not None:
        export.write_preprocessing(run_dir, splits.preprocessor)

    # A resumed run keeps its earlier export and writes a new one beside it.
    saved_model_dir = results.free_path(run_dir / "saved_model")
    export_info = {"run_dir": str(run_dir), "flags": dataclasses.asdict(config)}
    export.export_saved_model(
        model, saved_model_dir, primary, metrics[primary]["threshold"], info=export_info,
        scaler=splits.scaler, feature_names=splits.feature_names,
        preprocessor=splits.preprocessor,
    )
    logging.info("[%s] SavedModel written to %s", run_name, saved_model_dir)
    if config.export_dir:
        shutil.copytree(saved_model_dir, config.export_dir)
        logging.info("[%s] SavedModel copied to %s", run_name, config.export_dir)

    history = fit["history"]
    previous_summary = run_dir / "summary.json"
    earlier = training.read_history(run_dir / "checkpoints") if resumed else {}
    if resumed and not earlier and previous_summary.exists():
        # A run from a version without training.HISTORY_FILE has its losses only in its summary.
        earlier = json.loads(previous_summary.read_text()).get("history", {})
    if earlier:
        # Keep the per-epoch losses from before the resume, also of a run
        # stopped by Ctrl-C, which wrote no summary. Only the losses tracked
        # now are kept, because an older run may hold others whose curves
        # would end at the resume.
        names = sorted(history) if fit["epochs_run"] else sorted(earlier)
        history = {
            name: earlier.get(name, [])[: fit["initial_epoch"]] + history.get(name, [])
            for name in names
        }

    plot_paths = plots.write_run_plots(run_dir, history, splits.y_test, test_scores, metrics, step)
    logging.info("[%s] Plots written to %s (PNG) and %s (TensorBoard)", run_name, run_dir, run_dir / "plots")

    summary = {
        "run_dir": str(run_dir),
        "resumed": resumed,
        "flags": dataclasses.asdict(config),
        "primary_score": primary,
        "epochs_run": fit["epochs_run"],
        "initial_epoch": fit["initial_epoch"],
        # Epochs trained in all, also before a resume.
        "epochs_trained": fit["initial_epoch"] + fit["epochs_run"],
        "epoch_used": fit["epoch_used"],
        "step": step,
        "training_seconds": training_seconds,
        "mean_inference_time_s": mean_inference_time,
        "metrics": metrics,
        "history": history,
        "plots": {name: path.name for name, path in plot_paths.items()},
        "saved_model": str(saved_model_dir),
        "export_dir": config.export_dir,
        "total_seconds": time.time() - started,
    }
    results.write_summary(run_dir, summary)
    return summary
