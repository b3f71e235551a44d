"""Dataset protocols. Each loader returns a `Splits` instance."""

from alad_tf.data import arrhythmia, kdd, mnist
from alad_tf.data.base import DATA_DIR_ENV, DatasetNotFoundError, Splits, search_dirs

# Dataset name -> loader taking (data_dir, scale, validation, label).
LOADERS = {
    "arrhythmia": arrhythmia.load,
    "kdd": kdd.load,
    "mnist": mnist.load,
}


def load_dataset(name, data_dir=None, scale=False, validation=False, label=0, clean_train=False):
    """Load a dataset by name with its reference protocol.

    Args:
        name: One of the keys of `LOADERS`.
        data_dir: Folder searched first for the data files. Defaults to `None`.
        scale: Whether to MinMax-scale tabular features, fitted on the training
            rows. Defaults to `False`.
        validation: Whether to hold out part of the training rows as a
            validation split. Defaults to `False`.
        label: Class argument of the protocol: the anomalous digit on mnist,
            ignored on kdd and arrhythmia. Defaults to 0.
        clean_train: Whether to drop anomalies from the training rows, for
            datasets whose protocol keeps them (arrhythmia). Defaults to
            `False`.

    Returns:
        A `Splits` instance.

    Raises:
        ValueError: If `name` is not a known dataset.
        DatasetNotFoundError: If the data files cannot be found or downloaded.
    """
    if name not in LOADERS:
        raise ValueError(
            f"Unknown dataset {name!r}. Expected one of: {', '.join(sorted(LOADERS))}."
        )
    options = {"clean_train": True} if clean_train else {}
    try:
        return LOADERS[name](
            data_dir=data_dir, scale=scale, validation=validation, label=label, **options
        )
    except TypeError as error:
        if "clean_train" not in str(error):
            raise
        raise ValueError(
            f"--clean_train is not available for {name}: its training rows are "
            f"already normal. Drop --clean_train."
        ) from error


__all__ = [
    "DATA_DIR_ENV", "DatasetNotFoundError", "LOADERS", "Splits", "load_dataset",
    "search_dirs",
]
