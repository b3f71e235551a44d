"""MNIST under the EGBAD protocol: one digit is anomalous, the nine others normal.

All images (training and test files together) are scaled to [-1, 1]. The
normal images are permuted once with `RandomState(42)`: the first 80 % train
the model, and the remaining 20 % plus every image of the anomalous digit form
the test set, permuted again with the same generator. The reference code drew
train and test from two different permutations, so most test normals had been
seen in training; one permutation keeps them disjoint.
"""

import gzip

import numpy as np
from absl import logging

from alad_tf.data.base import DatasetNotFoundError, Splits, find_or_download, search_dirs

NPZ_NAME = "mnist.npz"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
# sha256 of Keras's mnist.npz, as `keras.datasets.mnist.load_data` checks it.
NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
SPLIT_SEED = 42
TRAIN_FRACTION = 0.8
VALIDATION_FRACTION = 0.1
LABEL_NOTE = (
    "MNIST labels: --label is the anomalous digit (1); the nine other digits are "
    "normal (0), as in the EGBAD paper."
)


def read_idx(path):
    """Read a gzipped IDX file of the LeCun MNIST distribution as a uint8 array.

    Args:
        path: Path of the file, for example `t10k-images-idx3-ubyte.gz`.

    Returns:
        An array whose shape is given in the file's header: `(n, 28, 28)`
        for images, `(n,)` for labels.
    """
    with gzip.open(path, "rb") as source:
        content = source.read()
    dimensions = content[3]
    shape = [int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(dimensions)]
    return np.frombuffer(content, dtype=np.uint8, offset=4 + 4 * dimensions).reshape(shape)


def read_images(data_dir=None):
    """Return all MNIST images (uint8, `(n, 28, 28)`) and labels.

    Looks for Keras's `mnist.npz`, then for the four LeCun idx files, in the
    usual data folders, and finally downloads `mnist.npz` through
    `keras.datasets.mnist` unless `$ALAD_TF_OFFLINE` is set.
    """
    # Folders with some but not all idx files, named in the error below.
    incomplete = []
    for folder in search_dirs(data_dir):
        if (folder / NPZ_NAME).is_file():
            return _read_npz(folder / NPZ_NAME)
        missing = [name for name in IDX_FILES.values() if not (folder / name).is_file()]
        if 0 < len(missing) < len(IDX_FILES):
            incomplete.append(f"{folder} lacks {', '.join(missing)}")
        if not missing:
            logging.info("Reading MNIST idx files from %s", folder)
            arrays = {key: read_idx(folder / name) for key, name in IDX_FILES.items()}
            return (
                np.concatenate([arrays["x_train"], arrays["x_test"]]),
                np.concatenate([arrays["y_train"], arrays["y_test"]]),
            )

    try:
        path = find_or_download(
            [NPZ_NAME],
            data_dir,
            {
                "fname": NPZ_NAME,
                "origin": "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
                "sha256": NPZ_SHA256,
            },
        )
    except DatasetNotFoundError as error:
        partial = f" Found only some of them: {'; '.join(incomplete)}." if incomplete else ""
        raise DatasetNotFoundError(
            f"{error} The four idx files ({', '.join(IDX_FILES.values())}) in one folder "
            f"also work.{partial}"
        ) from error
    return _read_npz(path)


def _read_npz(path):
    """Return the merged training and test images and labels of a Keras `mnist.npz`."""
    logging.info("Reading MNIST from %s", path)
    with np.load(path) as arrays:
        images = np.concatenate([arrays["x_train"], arrays["x_test"]])
        labels = np.concatenate([arrays["y_train"], arrays["y_test"]])
    return images, labels


def check_digit(anomalous_digit):
    """Raise `ValueError` unless `anomalous_digit` is a digit from 0 to 9."""
    if anomalous_digit not in range(10):
        raise ValueError(
            f"Invalid --label {anomalous_digit} for mnist: expected the anomalous digit, 0 to 9."
        )


def split(images, labels, anomalous_digit, validation=False):
    """Apply the protocol to uint8 images and digit labels.

    Returns:
        A `Splits` instance with float32 images in [-1, 1] of shape
        `(n, 28, 28, 1)`.
    """
    check_digit(anomalous_digit)
    x = (images.astype(np.float32) / 255.0 * 2.0 - 1.0)[..., np.newaxis]
    is_anomalous = labels == anomalous_digit
    normal_x, anomalous_x = x[~is_anomalous], x[is_anomalous]

    rng = np.random.RandomState(SPLIT_SEED)
    order = rng.permutation(len(normal_x))
    normal_x = normal_x[order]
    train_size = int(TRAIN_FRACTION * len(normal_x))
    x_train, held_out = normal_x[:train_size], normal_x[train_size:]

    x_test = np.concatenate([held_out, anomalous_x])
    y_test = np.concatenate([np.zeros(len(held_out)), np.ones(len(anomalous_x))]).astype(np.float32)
    order = rng.permutation(len(x_test))
    x_test, y_test = x_test[order], y_test[order]

    x_valid = None
    if validation:
        valid_size = int(VALIDATION_FRACTION * len(x_train))
        x_valid, x_train = x_train[:valid_size], x_train[valid_size:]

    return Splits(
        name="mnist",
        x_train=x_train,
        y_train=np.zeros(len(x_train), np.float32),
        x_test=x_test,
        y_test=y_test,
        x_valid=x_valid,
        y_valid=None if x_valid is None else np.zeros(len(x_valid), np.float32),
        feature_names=[],
        # Flag the known share of anomalies, as the KDD99 protocol does.
        test_percentile=100.0 * (1.0 - float(y_test.mean())),
        label_note=LABEL_NOTE,
    )


def load(data_dir=None, scale=False, validation=False, label=0):
    """Load MNIST with digit `label` as the anomalous class.

    Args:
        data_dir: Folder searched first for the data files. Defaults to `None`.
        scale: Ignored: images are always scaled to [-1, 1].
        validation: Whether to hold out 10 % of the training images as a
            validation split. Defaults to `False`.
        label: The anomalous digit. Defaults to 0.

    Returns:
        A `Splits` instance.
    """
    del scale
    # Before reading, which can mean a download.
    check_digit(label)
    images, labels = read_images(data_dir)
    return split(images, labels, label, validation=validation)

