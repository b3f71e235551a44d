"""Containers and file lookup shared by the dataset loaders."""

import dataclasses
import os
from pathlib import Path

import numpy as np
from absl import logging

DATA_DIR_ENV = "ALAD_TF_DATA_DIR"
# Set to 1 (or true, yes) to never download, for machines without network access.
OFFLINE_ENV = "ALAD_TF_OFFLINE"


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a dataset file is neither on disk nor downloadable."""


@dataclasses.dataclass
class Splits:
    """Train, validation and test arrays of one dataset protocol.

    Labels use 1 for anomalous rows and 0 for normal rows.

    Attributes:
        name: Dataset name, for example `"kdd"`.
        x_train: Training rows, float32, shape `(n_train, n_features)`.
        y_train: Training labels.
        x_test: Test rows.
        y_test: Test labels, or `None` for an unlabelled table, whose test
            rows are all its rows.
        x_valid: Validation rows carved from the training rows, or `None`.
        y_valid: Validation labels, or `None`.
        feature_names: Column names of the feature matrix.
        test_percentile: Percentile of the test scores used as threshold by
            the reference protocol (80 flags the top 20 %).
        label_note: One sentence telling what the labels mean.
        scaler: The `sklearn.preprocessing.MinMaxScaler` fitted on the
            training rows when features are scaled, else `None`.
        preprocessor: The `TablePreprocessor` that encodes raw table rows,
            for the user's own tables, else `None`.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray | None
    x_valid: np.ndarray | None = None
    y_valid: np.ndarray | None = None
    feature_names: list = dataclasses.field(default_factory=list)
    test_percentile: float = 80.0
    label_note: str = ""
    scaler: object = None
    preprocessor: object = None

    @property
    def num_features(self):
        return self.x_train.shape[1]

    @property
    def network_input(self):
        """Number of features for tabular rows, or the image shape for images."""
        return self.x_train.shape[1] if self.x_train.ndim == 2 else tuple(self.x_train.shape[1:])


def search_dirs(data_dir=None):
    """Return the folders searched for dataset files, in order.

    The order is `data_dir`, `$ALAD_TF_DATA_DIR`, `./data`, then the Keras
    cache (`~/.keras/datasets`, or `$KERAS_HOME/datasets`).

    Raises:
        DatasetNotFoundError: If `data_dir` is given but is not a folder, so
            that a mistyped --data_dir is not silently skipped.
    """
    dirs = []
    if data_dir:
        folder = Path(data_dir).expanduser()
        if not folder.is_dir():
            problem = "is a file, not a folder" if folder.exists() else "not found"
            raise DatasetNotFoundError(
                f"Data folder {folder} {problem}. Pass the --data_dir that contains the "
                f"dataset files, or leave it out to search ${DATA_DIR_ENV}, ./data and the "
                f"Keras cache."
            )
        dirs.append(folder)
    if os.environ.get(DATA_DIR_ENV):
        folder = Path(os.environ[DATA_DIR_ENV]).expanduser()
        if folder.is_dir():
            dirs.append(folder)
        else:
            logging.warning(
                "$%s is %s, which is not a folder; looking for dataset files in the other "
                "folders.", DATA_DIR_ENV, folder,
            )
    dirs.append(Path("data").resolve())
    dirs.append(_keras_home() / "datasets")
    return dirs


def _keras_home():
    # Read at call time: Keras reads $KERAS_HOME once, at import.
    return Path(os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras")))


def find_or_download(file_names, data_dir=None, download=None):
    """Find the first of `file_names` in the search folders, else download it.

    Args:
        file_names: Accepted file names, in order of preference.
        data_dir: Folder searched first. Defaults to `None`.
        download: Optional dict with keys `fname`, `origin` and `sha256`,
            passed to `keras.utils.get_file`, which verifies the checksum and
            caches the file in the Keras cache. Ignored when
            `$ALAD_TF_OFFLINE` is 1.

    Returns:
        The path of the file found or downloaded.

    Raises:
        DatasetNotFoundError: If no folder has the file and the download
            failed or is not offered.
    """
    dirs = search_dirs(data_dir)
    for folder in dirs:
        for name in file_names:
            candidate = folder / name
            if candidate.is_file():
                return candidate

    searched = ", ".join(str(d) for d in dirs)
    expected_names = " or ".join(file_names)
    offline = os.environ.get(OFFLINE_ENV, "").lower() in ("1", "true", "yes")
    if download is None or offline:
        reason = "no download source" if download is None else f"{OFFLINE_ENV}=1"
        raise DatasetNotFoundError(
            f"Dataset file {expected_names} not found in: {searched} ({reason}). Place it "
            f"in one of these folders, or pass --data_dir."
        )
    # Imported only here, so that loading files from disk needs no TensorFlow.
    import keras

    # get_file falls back to /tmp/.keras when the cache folder does not exist.
    _keras_home().mkdir(parents=True, exist_ok=True)
    try:
        path = keras.utils.get_file(
            fname=download["fname"],
            origin=download["origin"],
            file_hash=download["sha256"],
            hash_algorithm="sha256",
            cache_dir=str(_keras_home()),
            cache_subdir="datasets",
        )
    except Exception as error:  # get_file raises bare Exception on network errors.
        raise DatasetNotFoundError(
            f"Dataset file {expected_names} not found in: {searched}, and the download "
            f"from {download['origin']} failed ({error}). Download it by hand "
            f"and place it in one of these folders, or pass --data_dir."
        ) from error
    return Path(path)
