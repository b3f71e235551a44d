"""Dataset protocols. Each loader returns a `Splits` instance."""

from alad_tf.data import arrhythmia, kdd, mnist, table
from alad_tf.data.base import DATA_DIR_ENV, DatasetNotFoundError, Splits, search_dirs

# Dataset name -> loader taking (data_dir, scale, validation, label) and the
# dataset's options below.
LOADERS = {
    "arrhythmia": arrhythmia.load,
    "csv": table.load,
    "kdd": kdd.load,
    "mnist": mnist.load,
}

# Options that only some datasets accept, named as their command-line flags.
DATASET_OPTIONS = {
    "arrhythmia": ("clean_train",),
    "csv": (
        "data_path", "label_column", "anomaly_values", "categorical_columns",
        "contamination", "fillna", "no_header", "drop_columns",
    ),
}

# Whether features are MinMax-scaled when `scale` is `None`. The reference
# protocols never scale; the user's own tables are scaled by default.
DEFAULT_SCALE = {"csv": True}


def load_dataset(name, data_dir=None, scale=None, validation=False, label=0, **options):
    """Load a dataset by name with its protocol.

    Args:
        name: One of the keys of `LOADERS`.
        data_dir: Folder searched first for the data files. Defaults to `None`.
        scale: Whether to MinMax-scale tabular features, fitted on the training
            rows. Defaults to `None`, which takes `DEFAULT_SCALE` (no scaling
            for the reference datasets).
        validation: Whether to hold out part of the training rows as a
            validation split. Defaults to `False`.
        label: Class argument of the protocol: the anomalous digit on mnist,
            ignored on the other datasets. Defaults to 0.
        **options: Dataset options of `DATASET_OPTIONS`, for example
            `clean_train=True` for arrhythmia or `data_path` for csv. Options
            left at `None`, `False` or empty are ignored.

    Returns:
        A `Splits` instance.

    Raises:
        ValueError: If `name` is not a known dataset, or an option does not
            apply to it.
        DatasetNotFoundError: If the data files cannot be found or downloaded.
    """
    if name not in LOADERS:
        raise ValueError(
            f"Unknown dataset {name!r}. Expected one of: {', '.join(sorted(LOADERS))}."
        )
    set_options = {
        key: value for key, value in options.items()
        if value is not None and value is not False and not (isinstance(value, (list, tuple)) and not value)
    }
    accepted = DATASET_OPTIONS.get(name, ())
    for key in set_options:
        if key not in accepted:
            users = [dataset for dataset, keys in DATASET_OPTIONS.items() if key in keys]
            raise ValueError(
                f"--{key} is not available for {name}: it applies to "
                f"--dataset {' or '.join(users) or 'none'}. Drop --{key}."
            )
    if scale is None:
        scale = DEFAULT_SCALE.get(name, False)
    return LOADERS[name](
        data_dir=data_dir, scale=scale, validation=validation, label=label, **set_options
    )


__all__ = [
    "DATASET_OPTIONS", "DATA_DIR_ENV", "DEFAULT_SCALE", "DatasetNotFoundError", "LOADERS",
    "Splits", "load_dataset", "search_dirs",
]
