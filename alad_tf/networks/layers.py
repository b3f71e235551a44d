"""Layers shared by the networks."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="alad_tf")
class SpectralDense(keras.layers.Layer):
    """Dense layer whose kernel is divided by its largest singular value.

    The original ALAD code runs one power iteration per forward pass, lets
    gradients flow through the power-iteration vectors and keeps one
    non-trainable vector `u`. `keras.layers.SpectralNormalization` stops the
    gradient at `u` and `v` and overwrites the wrapped kernel, so it cannot
    reproduce that behaviour.

    Unlike the original, `u` is updated only in training mode, so that scoring
    and the exported model are pure functions of their input.

    Args:
        units: Output width.
        kernel_initializer: Initializer of the unnormalised kernel. Defaults
            to `"glorot_uniform"`.
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
        )
        self.bias = self.add_weight(
            name="bias", shape=(self.units,), initializer="zeros"
        )
        self.u = self.add_weight(
            name="u",
            shape=(1, self.units),
            initializer=keras.initializers.TruncatedNormal(),
            trainable=False,
        )

    def call(self, inputs, training=False):
        kernel = self.kernel
        v = _normalize(tf.matmul(self.u, kernel, transpose_b=True))
        u = _normalize(tf.matmul(v, kernel))
        sigma = tf.matmul(tf.matmul(v, kernel), u, transpose_b=True)
        if training:
            self.u.assign(u)
        return tf.matmul(inputs, kernel / sigma) + self.bias

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
            }
        )
        return config


def _normalize(vector):
    # a / (||a|| + 1e-12), as the original; tf.math.l2_normalize clips the
    # squared norm instead.
    return vector / (tf.norm(vector) + 1e-12)


def dense(units, spectral_norm=False, name=None):
    """Build a Glorot-uniform dense layer with zero bias, spectrally normalised on request."""
    if spectral_norm:
        return SpectralDense(units, name=name)
    return keras.layers.Dense(units, kernel_initializer="glorot_uniform", name=name)
