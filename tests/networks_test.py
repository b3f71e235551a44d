import keras
import numpy as np
import pytest

from alad_tf.networks import get_architecture
from alad_tf.networks.kdd import alad_networks
from alad_tf.networks.layers import SpectralDense


@pytest.fixture(scope="module")
def networks():
    return alad_networks(121, 32)


def test_encoder_and_generator_shapes(networks):
    assert networks["encoder"].output_shape == (None, 32)
    assert networks["generator"].output_shape == (None, 121)
    assert networks["encoder"].count_params() == (121 * 64 + 64) + (64 * 32 + 32)
    assert networks["generator"].count_params() == (
        (32 * 64 + 64) + (64 * 128 + 128) + (128 * 121 + 121)
    )


def test_discriminator_shapes(networks):
    logit, features = networks["discriminator_xz"].output_shape
    assert logit == (None, 1)
    assert features == (None, 128)
    assert networks["discriminator_xx"].output_shape == [(None, 1), (None, 128)]
    assert networks["discriminator_zz"].output_shape == [(None, 1), (None, 32)]


def test_discriminator_parameter_counts(networks):
    dxz = networks["discriminator_xz"]
    batch_norm = 4 * 128  # gamma, beta, moving mean and variance
    dense = (121 * 128 + 128) + (32 * 128 + 128) + (256 * 128 + 128) + (128 + 1)
    assert dxz.count_params() == dense + batch_norm
    trainable = sum(int(np.prod(w.shape)) for w in dxz.trainable_weights)
    assert trainable == dense + 2 * 128
    assert networks["discriminator_xx"].count_params() == (242 * 128 + 128) + 129
    assert networks["discriminator_zz"].count_params() == (64 * 32 + 32) + 33


def test_reference_layers(networks):
    leaky = [
        layer for layer in networks["discriminator_xx"].layers
        if isinstance(layer, keras.layers.LeakyReLU)
    ]
    assert [layer.negative_slope for layer in leaky] == [pytest.approx(0.2)]
    rates = [
        layer.rate for layer in networks["discriminator_xz"].layers
        if isinstance(layer, keras.layers.Dropout)
    ]
    assert rates == [0.5, 0.5]
    batch_norm = [
        layer for layer in networks["discriminator_xz"].layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ][0]
    assert batch_norm.momentum == 0.99
    assert batch_norm.epsilon == 1e-3


def test_spectral_norm_wraps_hidden_discriminator_layers():
    networks = alad_networks(121, 32, spectral_norm=True)
    for name in ("discriminator_xz", "discriminator_xx", "discriminator_zz"):
        layers = networks[name].layers
        spectral = [layer for layer in layers if isinstance(layer, SpectralDense)]
        assert spectral, name
        # The logit layer stays a plain dense layer, as in the original.
        assert isinstance(networks[name].get_layer("logit"), keras.layers.Dense)
    for name in ("encoder", "generator"):
        assert not any(isinstance(layer, SpectralDense) for layer in networks[name].layers)


def test_spectral_dense_has_unit_spectral_norm():
    layer = SpectralDense(16)
    layer.build((None, 8))
    inputs = np.random.RandomState(0).normal(size=(4, 8)).astype("float32")
    for _ in range(50):
        layer(inputs, training=True)
    kernel = layer.kernel.numpy()
    u = layer.u.numpy()
    v = u @ kernel.T
    v /= np.linalg.norm(v)
    sigma_estimate = float((v @ kernel @ u.T).item())
    assert sigma_estimate == pytest.approx(np.linalg.svd(kernel, compute_uv=False)[0], rel=1e-3)


def test_spectral_dense_keeps_u_at_inference():
    layer = SpectralDense(4)
    layer.build((None, 3))
    before = layer.u.numpy().copy()
    layer(np.ones((2, 3), "float32"), training=False)
    assert np.array_equal(layer.u.numpy(), before)
    layer(np.ones((2, 3), "float32"), training=True)
    assert not np.array_equal(layer.u.numpy(), before)


def test_reference_hyperparameters():
    _, hyperparameters = get_architecture("alad", "kdd")
    assert hyperparameters == {
        "learning_rate": 1e-5, "batch_size": 50, "latent_dim": 32, "ema_decay": 0.999,
    }


def test_table_bigan_learning_rate():
    # BiGAN learns MinMax-scaled tables at 1e-4, not at KDD99's 1e-5.
    _, table = get_architecture("bigan", "csv")
    _, kdd = get_architecture("bigan", "kdd")
    assert table == {**kdd, "learning_rate": 1e-4}
    assert get_architecture("alad", "csv")[1] == get_architecture("alad", "kdd")[1]


def test_unknown_architecture():
    with pytest.raises(ValueError, match="No 'alad' architecture for dataset 'mnist'"):
        get_architecture("alad", "mnist")
