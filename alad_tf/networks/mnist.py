"""Networks and hyperparameters of the MNIST models (28x28x1 images in [-1, 1])."""

import keras

# Reference training hyperparameters of BiGAN (EGBAD) on MNIST.
BIGAN_HYPERPARAMETERS = {
    "learning_rate": 1e-5,
    "batch_size": 100,
    "latent_dim": 200,
    "ema_decay": 0.999,
}

LEAKY_SLOPE = 0.1


def _init():
    # N(0, 0.02), not truncated, as tf.random_normal_initializer in the original.
    return keras.initializers.RandomNormal(stddev=0.02)


def _conv(filters, kernel, strides):
    return keras.layers.Conv2D(filters, kernel, strides, padding="same", kernel_initializer=_init())


def _deconv(filters, kernel, strides):
    return keras.layers.Conv2DTranspose(
        filters, kernel, strides, padding="same", kernel_initializer=_init()
    )


def _dense(units, name=None):
    return keras.layers.Dense(units, kernel_initializer=_init(), name=name)


def _batch_norm():
    return keras.layers.BatchNormalization(momentum=0.99, epsilon=1e-3)


def _leaky():
    return keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE)


def bigan_networks(input_shape, latent_dim, spectral_norm=False):
    """Build the BiGAN (EGBAD) encoder, generator and discriminator for MNIST.

    Args:
        input_shape: Image shape, `(28, 28, 1)`.
        latent_dim: Size of the latent code (200 in the original).
        spectral_norm: Not supported on MNIST; must be `False`.

    Returns:
        A dict with keys `encoder`, `generator` and `discriminator`.
    """
    if spectral_norm:
        raise ValueError("--sn is not available for BiGAN on mnist. Drop --sn.")

    x = keras.Input(input_shape, name="x")
    h = _leaky()(_conv(32, 3, 1)(x))
    h = _leaky()(_batch_norm()(_conv(64, 3, 2)(h)))
    h = _leaky()(_batch_norm()(_conv(128, 3, 2)(h)))
    z = _dense(latent_dim)(keras.layers.Flatten()(h))
    encoder = keras.Model(x, z, name="encoder")

    z_input = keras.Input((latent_dim,), name="z")
    h = keras.layers.ReLU()(_batch_norm()(_dense(1024)(z_input)))
    h = keras.layers.ReLU()(_batch_norm()(_dense(7 * 7 * 128)(h)))
    h = keras.layers.Reshape((7, 7, 128))(h)
    h = keras.layers.ReLU()(_batch_norm()(_deconv(64, 4, 2)(h)))
    image = keras.layers.Activation("tanh")(_deconv(1, 4, 2)(h))
    generator = keras.Model(z_input, image, name="generator")

    x_input = keras.Input(input_shape, name="x")
    z_branch_input = keras.Input((latent_dim,), name="z")
    hx = keras.layers.Dropout(0.5)(_leaky()(_conv(64, 4, 2)(x_input)))
    hx = keras.layers.Dropout(0.5)(_leaky()(_batch_norm()(_conv(64, 4, 2)(hx))))
    hx = keras.layers.Flatten()(hx)
    hz = keras.layers.Dropout(0.5)(_leaky()(_dense(512)(z_branch_input)))
    h = keras.layers.Concatenate()([hx, hz])
    features = keras.layers.Dropout(0.5)(_leaky()(_dense(1024)(h)))
    logit = _dense(1, name="logit")(features)
    discriminator = keras.Model(
        [x_input, z_branch_input], [logit, features], name="discriminator"
    )
    return {"encoder": encoder, "generator": generator, "discriminator": discriminator}
