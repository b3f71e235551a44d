"""Arrhythmia (UCI, ODDS version) under the ALAD protocol.

452 patients with 274 features; classes 3, 4, 5, 7, 8, 9, 14 and 15 are the
anomalous class (66 rows, 14.6 %). `train_test_split(test_size=0.5,
random_state=42)` gives 226 training and 226 test rows. As in the reference
code, the training half keeps its 34 anomalies unless `clean_train` is set,
and the top 15 % of the test scores are flagged.
"""

import numpy as np
import pandas as pd
from absl import logging
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from alad_tf.data.base import Splits, find_or_download

MAT_NAME = "arrhythmia.mat"
DATA_NAME = "arrhythmia.data"
ANOMALOUS_CLASSES = (3, 4, 5, 7, 8, 9, 14, 15)
TEST_PERCENTILE = 85.0
SPLIT_SEED = 42
VALIDATION_FRACTION = 0.1
LABEL_NOTE = (
    "Arrhythmia labels: classes 3, 4, 5, 7, 8, 9, 14 and 15 are anomalous (1), the "
    "others normal (0), as in the ODDS version used by the ALAD paper."
)


def read_mat(path):
    """Return `X` (float32) and `y` (0/1 float32) from the ODDS `arrhythmia.mat`."""
    from scipy.io import loadmat

    arrays = loadmat(path)
    return arrays["X"].astype(np.float32), arrays["y"].ravel().astype(np.float32)


def read_uci(path):
    """Return `X` and `y` from the UCI `arrhythmia.data`, as ODDS derived them.

    The five columns with missing values (`?`) are dropped, leaving 274
    features, and the class column (the last) maps to 1 for the anomalous
    classes.
    """
    frame = pd.read_csv(path, header=None, na_values="?")
    if frame.shape[1] != 280:
        raise ValueError(
            f"{path} is not the UCI arrhythmia file: expected 280 comma-separated "
            f"columns, found {frame.shape[1]}."
        )
    classes = frame.pop(frame.columns[-1])
    features = frame.loc[:, ~frame.isna().any()]
    labels = classes.isin(ANOMALOUS_CLASSES).to_numpy(dtype=np.float32)
    return features.to_numpy(dtype=np.float32), labels


def load(data_dir=None, scale=False, validation=False, label=0, clean_train=False):
    """Load Arrhythmia with the reference split.

    Args:
        data_dir: Folder searched first. `arrhythmia.mat` is preferred, then
            `arrhythmia.data`. Neither is downloaded.
        scale: Whether to MinMax-scale features, fitted on the training rows.
            Defaults to `False`, as the reference.
        validation: Whether to hold out 10 % of the training rows as a
            validation split. Defaults to `False`.
        label: Ignored.
        clean_train: Whether to drop the anomalies from the training half.
            Defaults to `False`, as the reference.

    Returns:
        A `Splits` instance.
    """
    del label
    path = find_or_download([MAT_NAME, DATA_NAME], data_dir)
    logging.info("Reading Arrhythmia from %s", path)
    x, y = read_mat(path) if path.suffix == ".mat" else read_uci(path)

    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.5, random_state=SPLIT_SEED
    )
    if clean_train:
        x_train, y_train = x_train[y_train == 0], y_train[y_train == 0]

    x_valid = y_valid = None
    if validation:
        rng = np.random.RandomState(SPLIT_SEED)
        order = rng.permutation(len(x_train))
        valid_size = int(VALIDATION_FRACTION * len(x_train))
        valid_rows, train_rows = order[:valid_size], order[valid_size:]
        x_valid, y_valid = x_train[valid_rows], y_train[valid_rows]
        x_train, y_train = x_train[train_rows], y_train[train_rows]

    scaler = None
    if scale:
        scaler = MinMaxScaler().fit(x_train)
        x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
        if x_valid is not None:
            x_valid = scaler.transform(x_valid)

    return Splits(
        name="arrhythmia",
        x_train=x_train.astype(np.float32),
        y_train=y_train,
        x_test=x_test.astype(np.float32),
        y_test=y_test,
        x_valid=None if x_valid is None else x_valid.astype(np.float32),
        y_valid=y_valid,
        feature_names=[f"feature_{index}" for index in range(x.shape[1])],
        test_percentile=TEST_PERCENTILE,
        label_note=LABEL_NOTE,
        scaler=scaler,
    )
