"""Run folders, result CSVs, JSON summaries and test-metric summaries."""

import glob
import json
import time
from pathlib import Path

import pandas as pd
import tensorflow as tf

from alad_tf.data import DEFAULT_SCALE
from alad_tf.networks import get_architecture

# Columns of the original per-configuration results.csv, then ours.
RUN_COLUMNS = [
    "Method", "Step", "AUROC", "Precision", "Recall", "F1 score", "Random Seed",
    "Threshold mode", "Threshold", "AUPRC",
]
# Columns of the original global results/results.csv, then ours.
GLOBAL_COLUMNS = [
    "Model", "Dataset", "Method", "Weight", "Label", "Step", "AUROC", "Precision",
    "Recall", "F1 score", "Random Seed", "Date", "Threshold mode", "Run", "AUPRC",
]


def check_folder_path(path, flag):
    """Raise `ValueError` if `path` or one of its parents exists but is not a folder."""
    path = Path(path).expanduser()
    for candidate in [path, *path.parents]:
        if candidate.exists() and not candidate.is_dir():
            raise ValueError(
                f"Invalid {flag} {path}: {candidate} is a file, not a folder. "
                f"Pass a folder path."
            )


def run_folder_name(config):
    """Return the relative folder of a run, built from its model, dataset, flags, label and seed.

    A learning rate other than the reference value of the model and dataset
    adds `_lr<rate>` to the flags part, so runs of a learning-rate sweep get
    their own folders.
    """
    flags = (
        f"{config.m}_w{config.w:g}_sn{int(config.sn)}_dzz{int(config.enable_dzz)}"
        f"_es{int(config.enable_early_stop)}_{config.threshold}"
    )
    # `scale` is None until the dataset's default is filled in.
    scale = DEFAULT_SCALE.get(config.dataset, False) if config.scale is None else config.scale
    if scale:
        flags += "_scaled"
    if config.clean_train:
        flags += "_clean"
    if config.learning_rate is not None:
        _, hyperparameters = get_architecture(config.model, config.dataset)
        if config.learning_rate != hyperparameters["learning_rate"]:
            flags += f"_lr{config.learning_rate:g}"
    dataset = dataset_folder(config.dataset, config.data_path)
    return Path(config.model) / dataset / flags / f"label{config.label}" / f"rd{config.rd}"


def dataset_folder(dataset, data_path=None):
    """Return the dataset part of a run folder: the dataset name, plus the table's file name for csv.

    The file name keeps its suffixes with dots turned into underscores
    (`flows.csv.gz` gives `csv/flows_csv_gz`), so that a table and its
    Parquet or compressed copy get their own folders.
    """
    folder = Path(dataset)
    if dataset == "csv" and data_path:
        # Tables with the same file name in different folders share run
        # folders. `--resume` and the report separate them by the recorded path.
        folder /= Path(data_path).name.replace(".", "_") or "table"
    return folder


def same_path(first, second):
    """Return whether two file paths name the same file once resolved."""
    if first is None or second is None:
        return first == second
    return Path(first).expanduser().resolve() == Path(second).expanduser().resolve()


def resolve_run_dir(logdir, name, resume, settings=None):
    """Pick the folder of a run without touching earlier runs.

    A new run takes `name`, or `name_2`, `name_3`, … when earlier runs exist.
    With `resume`, the latest folder with a checkpoint is reused, or a new one
    is created when there is none.

    Args:
        logdir: Top log folder.
        name: Relative folder of the run, from `run_folder_name`.
        resume: Whether to continue the latest run with a checkpoint.
        settings: Dict of the run's flags that are not in the folder name
            (`tables.SETTINGS_OUTSIDE_FOLDER_NAME`), such as `d` or a table's
            `data_path`. Runs with other values share the run folders, so
            `resume` skips the runs whose `config.json` records another
            value. Defaults to `None`, which skips none.

    Returns:
        A tuple `(path, resumed)`.
    """
    base = Path(logdir).expanduser() / name
    free = free_path(base)
    if resume:
        earlier = numbered_paths(base)
        with_checkpoint = [
            path for path in earlier
            if (path / "checkpoints" / "latest.weights.h5").exists()
            and _same_settings(path, settings or {})
        ]
        if with_checkpoint:
            return with_checkpoint[-1], True
    free.mkdir(parents=True)
    return free, False


def same_setting(name, saved, value):
    """Return whether a setting recorded in a run's config.json equals `value`.

    Paths are compared once resolved, and `value` after a JSON round trip,
    which turns tuples into lists as in the saved file.
    """
    if name == "data_path":
        return same_path(saved, value)
    return saved == json.loads(json.dumps(value))


def _same_settings(run_dir, settings):
    """Return whether a run folder's config.json records the values of `settings`.

    A setting that the file lacks, as in runs of older versions, matches.
    """
    saved_path = Path(run_dir) / "config.json"
    if not saved_path.exists():
        return True
    saved = json.loads(saved_path.read_text())
    return all(
        same_setting(name, saved[name], value)
        for name, value in settings.items() if name in saved
    )


def _numbered(path):
    """Return `(number, folder)` pairs of `path` (number 1) and its `path_2`, `path_3`, …, in order."""
    path = Path(path)
    numbered = [(1, path)] if path.exists() else []
    if path.parent.is_dir():
        for sibling in path.parent.glob(f"{glob.escape(path.name)}_*"):
            suffix = sibling.name[len(path.name) + 1:]
            if suffix.isdigit() and int(suffix) >= 2:
                numbered.append((int(suffix), sibling))
    return sorted(numbered)


def numbered_paths(path):
    """Return `path` and its existing `path_2`, `path_3`, … siblings, in number order."""
    return [folder for _, folder in _numbered(path)]


def free_path(path):
    """Return `path` if it does not exist, else `path_N` after the highest number in use.

    A number freed by a removed folder is not reused, so a higher number
    always means a later run.
    """
    path = Path(path)
    numbered = _numbered(path)
    if not numbered:
        return path
    return path.with_name(f"{path.name}_{max(2, numbered[-1][0] + 1)}")


def write_run_results(run_dir, logdir, config, metrics, step):
    """Write the run's results.csv and append its rows to `<logdir>/results.csv`.

    Args:
        run_dir: Folder of the run.
        logdir: Top log folder holding the global CSV.
        config: The run's `RunConfig`.
        metrics: Dict of score name to `binary_metrics` dicts.
        step: Number of training steps behind the scored weights.
    """
    write_results(
        run_dir,
        logdir,
        metrics,
        step=step,
        rd=config.rd,
        threshold=config.threshold,
        model=f"{config.model}_sn{config.sn}_dzz{config.enable_dzz}",
        dataset=config.dataset,
        weight=f"dzzenabled{config.enable_dzz}",
        label=config.label,
    )


def write_results(run_dir, logdir, metrics, *, step, rd, threshold, model, dataset, weight, label):
    """Write a run folder's results.csv and append its rows to `<logdir>/results.csv`.

    Args:
        run_dir: Folder of the run.
        logdir: Top log folder holding the global CSV.
        metrics: Dict of score name to `binary_metrics` dicts.
        step: Number of training steps behind the scores.
        rd: Random seed of the run.
        threshold: Threshold mode, one of `evaluation.THRESHOLD_MODES`.
        model: Value of the global `Model` column.
        dataset: Dataset name.
        weight: Value of the global `Weight` column.
        label: Value of the global `Label` column.
    """
    rows, global_rows = [], []
    date = time.ctime()
    for method, values in metrics.items():
        # Unlabelled rows have a threshold but no metrics: their cells stay empty.
        common = {
            "Method": method,
            "Step": step,
            "AUROC": values.get("auroc"),
            "Precision": values.get("precision"),
            "Recall": values.get("recall"),
            "F1 score": values.get("f1"),
            "Random Seed": rd,
            "Threshold mode": threshold,
            "AUPRC": values.get("auprc"),
        }
        rows.append({**common, "Threshold": values["threshold"]})
        global_rows.append(
            {
                **common,
                "Model": model,
                "Dataset": dataset,
                "Weight": weight,
                "Label": label,
                "Date": date,
                "Run": str(run_dir),
            }
        )
    pd.DataFrame(rows, columns=RUN_COLUMNS).to_csv(Path(run_dir) / "results.csv", index=False)

    global_csv = Path(logdir).expanduser() / "results.csv"
    pd.DataFrame(global_rows, columns=GLOBAL_COLUMNS).to_csv(
        global_csv, mode="a", header=not global_csv.exists(), index=False
    )


def write_summary(run_dir, summary):
    """Write `summary.json` in the run folder."""
    path = Path(run_dir) / "summary.json"
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    return path


def write_test_summaries(tensorboard_dir, metrics, mean_inference_time, step):
    """Write the test metrics of every score as TensorBoard scalars under `test/`."""
    writer = tf.summary.create_file_writer(str(Path(tensorboard_dir) / "test"))
    with writer.as_default():
        for method, values in metrics.items():
            for key in ("precision", "recall", "f1", "auroc", "auprc", "threshold", "flagged"):
                if key in values:
                    tf.summary.scalar(f"test/{method}/{key}", values[key], step=step)
        tf.summary.scalar("test/mean_inference_time_s", mean_inference_time, step=step)
    writer.close()


def write_row_scores(run_dir, scores, primary_score, threshold):
    """Write `scores.csv`: the row position, every score and the decision of the primary score."""
    frame = pd.DataFrame(scores)
    frame.insert(0, "row", range(len(frame)))
    frame["is_anomaly"] = frame[primary_score] >= threshold
    path = Path(run_dir) / "scores.csv"
    frame.to_csv(path, index=False)
    return path
