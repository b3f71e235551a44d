import keras
import numpy as np
import pytest
import tensorflow as tf

from alad_tf.models import build_model
from alad_tf.models.bigan import bigan_losses
from alad_tf.networks.kdd import bigan_networks


def softplus(value):
    return float(np.log1p(np.exp(value)))


def test_network_shapes_and_parameter_counts():
    networks = bigan_networks(121, 32)
    assert networks["encoder"].output_shape == (None, 32)
    assert networks["generator"].output_shape == (None, 121)
    assert networks["discriminator"].output_shape == [(None, 1), (None, 128)]
    assert networks["encoder"].count_params() == (121 * 64 + 64) + (64 * 32 + 32)
    assert networks["discriminator"].count_params() == (
        (121 * 128 + 128) + (32 * 128 + 128) + (256 * 128 + 128) + (128 + 1)
    )
    slopes = [
        layer.negative_slope for layer in networks["discriminator"].layers
        if isinstance(layer, keras.layers.LeakyReLU)
    ]
    assert slopes == [pytest.approx(0.1)] * 3
    rates = [
        layer.rate for layer in networks["discriminator"].layers
        if isinstance(layer, keras.layers.Dropout)
    ]
    assert rates == [0.2, 0.2, 0.2]


def test_loss_targets():
    terms = bigan_losses(tf.constant([[1.5]]), tf.constant([[-0.5]]))
    assert float(terms["dis_encoder"]) == pytest.approx(softplus(-1.5), rel=1e-6)
    assert float(terms["dis_gen"]) == pytest.approx(softplus(-0.5), rel=1e-6)
    assert float(terms["discriminator"]) == pytest.approx(softplus(-1.5) + softplus(-0.5), rel=1e-6)
    assert float(terms["generator"]) == pytest.approx(softplus(0.5), rel=1e-6)
    assert float(terms["encoder"]) == pytest.approx(softplus(1.5), rel=1e-6)


@pytest.fixture
def model():
    keras.utils.set_random_seed(8)
    model, hyperparameters = build_model("bigan", "kdd", 121, seed=8, weight=0.1, method="cross-e")
    assert hyperparameters["ema_decay"] == 0.9999
    model.compile(learning_rate=1e-3)
    return model


def test_one_adam_per_network(model):
    optimizers = model.network_optimizers
    assert set(optimizers) == {"encoder", "generator", "discriminator"}
    assert len({id(optimizer) for optimizer in optimizers.values()}) == 3
    rows = tf.constant(np.random.RandomState(0).rand(50, 121).astype("float32"))
    model.train_step((rows, rows))
    for name, optimizer in optimizers.items():
        assert int(optimizer.iterations) == 1, name
        assert optimizer.beta_1 == 0.5
        assert optimizer.epsilon == 1e-8


def test_score_formula_on_small_batch(model):
    rows = np.random.RandomState(2).rand(6, 121).astype("float32")
    scores = {k: v.numpy() for k, v in model.score_batch(tf.constant(rows)).items()}
    ema = model.ema_networks
    z = ema["encoder"](rows).numpy()
    reconstruction = ema["generator"](z).numpy()
    logit, features_rec = ema["discriminator"]([reconstruction, z])
    _, features_real = ema["discriminator"]([rows, z])
    l1 = np.abs(rows - reconstruction).sum(1)
    cross_entropy = np.log1p(np.exp(-logit.numpy()[:, 0]))
    feature_distance = np.abs(features_real.numpy() - features_rec.numpy()).sum(1)
    np.testing.assert_allclose(scores["cross_e"], 0.9 * l1 + 0.1 * cross_entropy, rtol=1e-5)
    np.testing.assert_allclose(scores["fm"], 0.9 * l1 + 0.1 * feature_distance, rtol=1e-5)


def test_validation_score_follows_method(model):
    assert model.validation_score == "cross_e"
    assert model.validation_tracker.name == "score_cross_e"
    assert model.primary_score("cross-e") == "cross_e"
    assert model.primary_score("fm") == "fm"


def test_checkpoint_restores_every_optimizer(model, tmp_path):
    rows = tf.constant(np.random.RandomState(1).rand(50, 121).astype("float32"))
    model.train_step((rows, rows))
    path = tmp_path / "bigan.weights.h5"
    model.save_weights(path)

    keras.utils.set_random_seed(9)
    restored, _ = build_model("bigan", "kdd", 121, seed=9, method="cross-e")
    restored.compile(learning_rate=1e-3)
    restored.load_weights(path)
    for name in ("encoder", "generator", "discriminator"):
        before = model.network_optimizers[name].variables
        after = restored.network_optimizers[name].variables
        assert len(before) == len(after)
        for expected, actual in zip(before, after):
            np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected), err_msg=name)


def test_mnist_network_shapes():
    from alad_tf.networks.mnist import bigan_networks as mnist_networks

    networks = mnist_networks((28, 28, 1), 200)
    assert networks["encoder"].output_shape == (None, 200)
    assert networks["generator"].output_shape == (None, 28, 28, 1)
    assert networks["discriminator"].output_shape == [(None, 1), (None, 1024)]
    flatten = [
        layer for layer in networks["discriminator"].layers
        if isinstance(layer, keras.layers.Flatten)
    ][0]
    assert flatten.output.shape == (None, 7 * 7 * 64)
    rates = [
        layer.rate for layer in networks["discriminator"].layers
        if isinstance(layer, keras.layers.Dropout)
    ]
    assert rates == [0.5] * 4
    with pytest.raises(ValueError, match="--sn is not available for BiGAN on mnist"):
        mnist_networks((28, 28, 1), 200, spectral_norm=True)
