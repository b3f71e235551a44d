import keras
import numpy as np
import pytest
import tensorflow as tf

from alad_tf.models import build_model
from alad_tf.models.alad import discriminator_losses, generator_encoder_losses
from alad_tf.models.optimizers import FusedAdam


def softplus(value):
    return float(np.log1p(np.exp(value)))


LOGITS = {
    "xz_real": 1.0, "xz_fake": -2.0, "xx_real": 0.5, "xx_fake": 3.0,
    "zz_real": -1.0, "zz_fake": 2.0,
}


def constant_logits():
    return {key: tf.constant([[value]]) for key, value in LOGITS.items()}


def test_discriminator_targets_real_one_fake_zero():
    loss_dxz, loss_dxx, loss_dzz = discriminator_losses(constant_logits())
    # CE(l, 1) = softplus(-l) and CE(l, 0) = softplus(l).
    assert float(loss_dxz) == pytest.approx(softplus(-1.0) + softplus(-2.0), rel=1e-6)
    assert float(loss_dxx) == pytest.approx(softplus(-0.5) + softplus(3.0), rel=1e-6)
    assert float(loss_dzz) == pytest.approx(softplus(1.0) + softplus(2.0), rel=1e-6)


def test_generator_and_encoder_targets_are_flipped():
    terms = generator_encoder_losses(constant_logits(), enable_dzz=False)
    assert float(terms["gen_xz"]) == pytest.approx(softplus(2.0), rel=1e-6)
    assert float(terms["enc_xz"]) == pytest.approx(softplus(1.0), rel=1e-6)
    assert float(terms["cost_x"]) == pytest.approx(softplus(0.5) + softplus(-3.0), rel=1e-6)
    assert float(terms["cost_z"]) == pytest.approx(softplus(-1.0) + softplus(-2.0), rel=1e-6)
    assert float(terms["generator"]) == pytest.approx(float(terms["gen_xz"] + terms["cost_x"]))
    assert float(terms["encoder"]) == pytest.approx(float(terms["enc_xz"] + terms["cost_x"]))


def test_dzz_term_enters_cycle_only_when_enabled():
    with_dzz = generator_encoder_losses(constant_logits(), enable_dzz=True)
    without = generator_encoder_losses(constant_logits(), enable_dzz=False)
    assert float(with_dzz["cycle"]) == pytest.approx(
        float(without["cost_x"] + without["cost_z"])
    )
    assert float(without["cycle"]) == pytest.approx(float(without["cost_x"]))


@pytest.fixture
def model():
    keras.utils.set_random_seed(3)
    model, _ = build_model("alad", "kdd", 121, seed=3)
    model.compile(learning_rate=1e-3)
    return model


def test_ema_networks_start_equal_and_lag(model):
    rows = tf.constant(np.random.RandomState(0).rand(50, 121).astype("float32"))
    for name, ema in model.ema_networks.items():
        for average, weight in zip(ema.weights, model.networks[name].weights):
            assert np.array_equal(average.numpy(), weight.numpy())
    model.train_step((rows, rows))
    for name, ema in model.ema_networks.items():
        raw = model.networks[name].weights[0].numpy()
        average = ema.weights[0].numpy()
        assert not np.allclose(average, raw)
        assert ema.weights[0].shape == model.networks[name].weights[0].shape


def test_ema_update_rule(model):
    network = model.networks["encoder"]
    ema = model.ema_networks["encoder"]
    start = [w.numpy() for w in ema.weights]
    target = [w.numpy() + 1.0 for w in network.weights]
    for weight, value in zip(network.weights, target):
        weight.assign(value)
    model._update_ema(network, ema)
    for average, before, value in zip(ema.weights, start, target):
        np.testing.assert_allclose(average.numpy(), 0.999 * before + 0.001 * value, rtol=1e-6)


def test_train_step_updates_every_network_and_shared_adam(model):
    rows = tf.constant(np.random.RandomState(1).rand(50, 121).astype("float32"))
    before = {name: [w.numpy() for w in net.trainable_weights] for name, net in model.networks.items()}
    logs = model.train_step((rows, rows))
    for name, net in model.networks.items():
        changed = [
            not np.array_equal(old, new.numpy()) for old, new in zip(before[name], net.trainable_weights)
        ]
        assert all(changed), name
    # One Adam shared by five networks advances once per network update.
    assert int(model.optimizer.iterations) == 5
    # The D_zz losses are tracked only with enable_dzz, though D_zz trains.
    assert set(logs) == {
        "loss_generator", "loss_encoder", "loss_discriminator", "loss_dis_xz",
        "loss_dis_xx", "loss_encgen_dxx",
    }
    assert float(logs["loss_discriminator"]) == pytest.approx(
        float(logs["loss_dis_xz"] + logs["loss_dis_xx"]), rel=1e-5
    )


def test_train_step_with_dzz_tracks_dzz_losses():
    keras.utils.set_random_seed(3)
    model, _ = build_model("alad", "kdd", 121, seed=3, enable_dzz=True)
    model.compile(learning_rate=1e-3)
    rows = tf.constant(np.random.RandomState(1).rand(50, 121).astype("float32"))
    logs = model.train_step((rows, rows))
    assert set(logs) == {
        "loss_generator", "loss_encoder", "loss_discriminator", "loss_dis_xz",
        "loss_dis_xx", "loss_dis_zz", "loss_encgen_dxx", "loss_encgen_dzz",
    }
    assert float(logs["loss_discriminator"]) == pytest.approx(
        float(logs["loss_dis_xz"] + logs["loss_dis_xx"] + logs["loss_dis_zz"]), rel=1e-5
    )


def test_fused_adam_matches_keras_adam():
    rng = np.random.RandomState(0)
    initial = rng.normal(size=(5, 3)).astype("float32")
    gradients = [rng.normal(size=(5, 3)).astype("float32") for _ in range(4)]
    results = []
    for optimizer in (
        keras.optimizers.Adam(1e-2, beta_1=0.5, epsilon=1e-8),
        FusedAdam(1e-2, beta_1=0.5, epsilon=1e-8),
    ):
        variable = keras.Variable(initial)
        optimizer.build([variable])
        for gradient in gradients:
            optimizer.apply([tf.constant(gradient)], [variable])
        results.append(variable.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5, atol=1e-7)


def test_scores_are_deterministic_and_batch_independent(model, kdd_splits):
    from alad_tf.evaluation import Scorer

    rows = kdd_splits.x_test[:1003]
    first, _ = Scorer(model, batch_size=50).score(rows)
    second, _ = Scorer(model, batch_size=50).score(rows)
    other, _ = Scorer(model, batch_size=256).score(rows)
    for name in model.score_names:
        assert first[name].shape == (1003,)
        assert np.array_equal(first[name], second[name]), name
        # Raw KDD99 features reach 1e9, so float32 sums differ in the last bits
        # when the chunk size changes the matmul blocking.
        np.testing.assert_allclose(first[name], other[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_score_formulas_on_small_batch(model):
    rows = np.random.RandomState(2).rand(7, 121).astype("float32")
    scores = {k: v.numpy() for k, v in model.score_batch(tf.constant(rows)).items()}
    ema = model.ema_networks
    reconstruction = ema["generator"](ema["encoder"](rows)).numpy()
    logit, features_rec = ema["discriminator_xx"]([rows, reconstruction])
    _, features_real = ema["discriminator_xx"]([rows, rows])
    residual = rows - reconstruction
    np.testing.assert_allclose(scores["l1"], np.abs(residual).sum(1), rtol=1e-5)
    np.testing.assert_allclose(scores["l2"], np.sqrt((residual ** 2).sum(1)), rtol=1e-5)
    np.testing.assert_allclose(
        scores["ch"], np.log1p(np.exp(-logit.numpy()[:, 0])), rtol=1e-5
    )
    np.testing.assert_allclose(
        scores["fm"], np.abs(features_real.numpy() - features_rec.numpy()).sum(1), rtol=1e-5
    )


def test_primary_score_mapping(model):
    assert model.primary_score("cross-e") == "ch"
    assert model.primary_score("fm") == "fm"
    with pytest.raises(ValueError, match="Invalid --m 'l3'"):
        model.primary_score("l3")


def test_summed_losses_give_each_network_its_own_gradient(model):
    from alad_tf.models.alad import DISCRIMINATORS

    rows = tf.constant(np.random.RandomState(4).rand(50, 121).astype("float32") * 1000)
    z = model.sample_latent(50)
    with tf.GradientTape(persistent=True) as tape:
        logits = model._forward(rows, z)
        losses = discriminator_losses(logits)
        terms = generator_encoder_losses(logits, enable_dzz=True)
        discriminator_sum = losses[0] + losses[1] + losses[2]
        generator_encoder_sum = terms["gen_xz"] + terms["enc_xz"] + terms["cycle"]

    separate = list(zip(DISCRIMINATORS, losses, [discriminator_sum] * 3))
    separate += [
        ("generator", terms["generator"], generator_encoder_sum),
        ("encoder", terms["encoder"], generator_encoder_sum),
    ]
    for name, own_loss, summed_loss in separate:
        variables = model.networks[name].trainable_variables
        own = tape.gradient(own_loss, variables)
        summed = tape.gradient(summed_loss, variables)
        for expected, actual in zip(own, summed):
            np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-6, err_msg=name)
