"""Detector models, by name."""

from alad_tf.models.alad import ALAD
from alad_tf.models.base import AdversarialDetector
from alad_tf.models.bigan import BiGAN
from alad_tf.networks import get_architecture

MODELS = {
    "alad": ALAD,
    "bigan": BiGAN,
}


def build_model(model_name, dataset_name, input_dim, spectral_norm=False, seed=None, **options):
    """Build a detector with the reference networks of a dataset.

    Args:
        model_name: One of the keys of `MODELS`.
        dataset_name: Dataset whose reference architecture is used.
        input_dim: Number of input features, or the shape of one image.
        spectral_norm: Whether the discriminators are spectrally normalised.
            Defaults to `False`.
        seed: Seed of latent sampling. Defaults to `None`.
        **options: Model options, for example `enable_dzz` or `score_degree`
            (see each model's `options_from_config`).

    Returns:
        A tuple `(model, hyperparameters)`, where `hyperparameters` holds the
        reference `learning_rate`, `batch_size`, `latent_dim` and `ema_decay`.
    """
    if model_name not in MODELS:
        raise ValueError(
            f"Unknown model {model_name!r}. Expected one of: {', '.join(sorted(MODELS))}."
        )
    builder, hyperparameters = get_architecture(model_name, dataset_name)
    latent_dim = hyperparameters["latent_dim"]
    networks = builder(input_dim, latent_dim, spectral_norm=spectral_norm)
    model = MODELS[model_name](
        networks,
        latent_dim=latent_dim,
        ema_decay=hyperparameters["ema_decay"],
        seed=seed,
        name=model_name,
        **options,
    )
    return model, hyperparameters


__all__ = ["ALAD", "AdversarialDetector", "BiGAN", "MODELS", "build_model"]
