"""Networks and hyperparameters of the KDD99 models.

Layer widths, activations, dropout rates and initialisers follow the
original ALAD code for KDD99 (121 one-hot features, latent size 32).
"""

import keras

from alad_tf.networks.layers import dense

# Reference training hyperparameters of ALAD on KDD99.
ALAD_HYPERPARAMETERS = {
    "learning_rate": 1e-5,
    "batch_size": 50,
    "latent_dim": 32,
    "ema_decay": 0.999,
}

ALAD_LEAKY_SLOPE = 0.2


def _leaky(name=None):
    return keras.layers.LeakyReLU(negative_slope=ALAD_LEAKY_SLOPE, name=name)


def alad_encoder(input_dim, latent_dim):
    """Build E(x): Dense(64), leaky ReLU, Dense(latent_dim)."""
    x = keras.Input((input_dim,), name="x")
    h = _leaky()(dense(64)(x))
    z = dense(latent_dim)(h)
    return keras.Model(x, z, name="encoder")


def alad_generator(input_dim, latent_dim, width_scale=1):
    """Build G(z): Dense(64), ReLU, Dense(128), ReLU, Dense(input_dim).

    `width_scale` multiplies the two hidden widths.
    """
    z = keras.Input((latent_dim,), name="z")
    h = keras.layers.ReLU()(dense(64 * width_scale)(z))
    h = keras.layers.ReLU()(dense(128 * width_scale)(h))
    x = dense(input_dim)(h)
    return keras.Model(z, x, name="generator")


def alad_discriminator_xz(input_dim, latent_dim, spectral_norm=False):
    """Build D_xz(x, z), returning the logit and the 128-wide feature layer."""
    x = keras.Input((input_dim,), name="x")
    z = keras.Input((latent_dim,), name="z")

    hx = dense(128, spectral_norm)(x)
    hx = keras.layers.BatchNormalization(momentum=0.99, epsilon=1e-3)(hx)
    hx = _leaky()(hx)

    hz = _leaky()(dense(128, spectral_norm)(z))
    hz = keras.layers.Dropout(0.5)(hz)

    h = keras.layers.Concatenate()([hx, hz])
    features = keras.layers.Dropout(0.5)(_leaky()(dense(128, spectral_norm)(h)))
    logit = dense(1, name="logit")(features)
    return keras.Model([x, z], [logit, features], name="discriminator_xz")


def alad_discriminator_xx(input_dim, spectral_norm=False):
    """Build D_xx(x, x'), returning the logit and the 128-wide feature layer."""
    x = keras.Input((input_dim,), name="x")
    x_prime = keras.Input((input_dim,), name="x_prime")
    h = keras.layers.Concatenate()([x, x_prime])
    features = keras.layers.Dropout(0.2)(_leaky()(dense(128, spectral_norm)(h)))
    logit = dense(1, name="logit")(features)
    return keras.Model([x, x_prime], [logit, features], name="discriminator_xx")


def alad_discriminator_zz(latent_dim, spectral_norm=False):
    """Build D_zz(z, z'), returning the logit and the 32-wide feature layer."""
    z = keras.Input((latent_dim,), name="z")
    z_prime = keras.Input((latent_dim,), name="z_prime")
    h = keras.layers.Concatenate()([z, z_prime])
    features = keras.layers.Dropout(0.2)(_leaky()(dense(32, spectral_norm)(h)))
    logit = dense(1, name="logit")(features)
    return keras.Model([z, z_prime], [logit, features], name="discriminator_zz")


def alad_networks(input_dim, latent_dim, spectral_norm=False):
    """Build the five ALAD networks for KDD99-like tabular data.

    Args:
        input_dim: Number of input features (121 for KDD99).
        latent_dim: Size of the latent code.
        spectral_norm: Whether the hidden dense layers of the three
            discriminators are spectrally normalised. The original code ignores
            this switch on KDD99. Defaults to `False`.

    Returns:
        A dict with keys `encoder`, `generator`, `discriminator_xz`,
        `discriminator_xx` and `discriminator_zz`.
    """
    return {
        "encoder": alad_encoder(input_dim, latent_dim),
        "generator": alad_generator(input_dim, latent_dim),
        "discriminator_xz": alad_discriminator_xz(input_dim, latent_dim, spectral_norm),
        "discriminator_xx": alad_discriminator_xx(input_dim, spectral_norm),
        "discriminator_zz": alad_discriminator_zz(latent_dim, spectral_norm),
    }


# Reference training hyperparameters of BiGAN (EGBAD) on KDD99.
BIGAN_HYPERPARAMETERS = {
    "learning_rate": 1e-5,
    "batch_size": 50,
    "latent_dim": 32,
    "ema_decay": 0.9999,
}

BIGAN_LEAKY_SLOPE = 0.1


def _bigan_leaky():
    return keras.layers.LeakyReLU(negative_slope=BIGAN_LEAKY_SLOPE)


def bigan_discriminator(input_dim, latent_dim, spectral_norm=False, width_scale=1):
    """Build the BiGAN D(x, z), returning the logit and the 128-wide feature layer.

    The original names it D(z, x) but concatenates the x branch first, as here.
    `width_scale` multiplies the hidden widths.
    """
    width = 128 * width_scale
    x = keras.Input((input_dim,), name="x")
    z = keras.Input((latent_dim,), name="z")
    hx = keras.layers.Dropout(0.2)(_bigan_leaky()(dense(width, spectral_norm)(x)))
    hz = keras.layers.Dropout(0.2)(_bigan_leaky()(dense(width, spectral_norm)(z)))
    h = keras.layers.Concatenate()([hx, hz])
    features = keras.layers.Dropout(0.2)(_bigan_leaky()(dense(width, spectral_norm)(h)))
    logit = dense(1, name="logit")(features)
    return keras.Model([x, z], [logit, features], name="discriminator")


def bigan_networks(input_dim, latent_dim, spectral_norm=False, width_scale=1):
    """Build the three BiGAN (EGBAD) networks for KDD99-like tabular data.

    The encoder is Dense(64), leaky ReLU (slope 0.1), Dense(latent_dim); the
    generator is the same as ALAD's. No batch normalisation is used.

    Args:
        input_dim: Number of input features (121 for KDD99).
        latent_dim: Size of the latent code.
        spectral_norm: Whether the hidden dense layers of the discriminator
            are spectrally normalised. Defaults to `False`.
        width_scale: Factor applied to every hidden width, for wider inputs.
            Defaults to 1, the reference KDD99 widths.

    Returns:
        A dict with keys `encoder`, `generator` and `discriminator`.
    """
    x = keras.Input((input_dim,), name="x")
    z = dense(latent_dim)(_bigan_leaky()(dense(64 * width_scale)(x)))
    encoder = keras.Model(x, z, name="encoder")
    return {
        "encoder": encoder,
        "generator": alad_generator(input_dim, latent_dim, width_scale),
        "discriminator": bigan_discriminator(input_dim, latent_dim, spectral_norm, width_scale),
    }
