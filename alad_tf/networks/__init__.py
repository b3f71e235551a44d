"""Network architectures and reference hyperparameters, by model and dataset."""

from alad_tf.networks import arrhythmia, kdd, mnist

# BiGAN's learning rate on the user's tables, which are MinMax-scaled by default:
# on the scaled KDD99 table it reached F1 0.90 at 1e-4 and 0.05 at KDD99's 1e-5.
TABLE_BIGAN_LEARNING_RATE = 1e-4

# (model, dataset) -> (network builder, reference hyperparameters).
_ARCHITECTURES = {
    ("alad", "kdd"): (kdd.alad_networks, kdd.ALAD_HYPERPARAMETERS),
    ("alad", "arrhythmia"): (arrhythmia.alad_networks, arrhythmia.ALAD_HYPERPARAMETERS),
    ("bigan", "arrhythmia"): (arrhythmia.bigan_networks, arrhythmia.BIGAN_HYPERPARAMETERS),
    ("bigan", "kdd"): (kdd.bigan_networks, kdd.BIGAN_HYPERPARAMETERS),
    ("bigan", "mnist"): (mnist.bigan_networks, mnist.BIGAN_HYPERPARAMETERS),
    # The user's own tables take the KDD99 networks, the reference models for
    # tabular rows, sized to the table's encoded width.
    ("alad", "csv"): (kdd.alad_networks, kdd.ALAD_HYPERPARAMETERS),
    ("bigan", "csv"): (
        kdd.bigan_networks,
        {**kdd.BIGAN_HYPERPARAMETERS, "learning_rate": TABLE_BIGAN_LEARNING_RATE},
    ),
}


def get_architecture(model_name, dataset_name):
    """Return the network builder and hyperparameters of a model on a dataset.

    Raises:
        ValueError: If the model has no architecture for the dataset.
    """
    key = (model_name, dataset_name)
    if key not in _ARCHITECTURES:
        available = ", ".join(f"{m} on {d}" for m, d in sorted(_ARCHITECTURES))
        raise ValueError(
            f"No {model_name!r} architecture for dataset {dataset_name!r}. "
            f"Available: {available}."
        )
    builder, hyperparameters = _ARCHITECTURES[key]
    return builder, dict(hyperparameters)
