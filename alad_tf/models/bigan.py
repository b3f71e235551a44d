"""BiGAN detector of "Efficient GAN-Based Anomaly Detection" (EGBAD, Zenati et al., 2018)."""

import keras
import tensorflow as tf

from alad_tf.models.base import AdversarialDetector, sigmoid_cross_entropy


def bigan_losses(logit_real, logit_fake):
    """Return the BiGAN loss terms.

    Args:
        logit_real: D logits of real pairs (x, E(x)).
        logit_fake: D logits of generated pairs (G(z), z).

    Returns:
        A dict with `dis_encoder` (real pairs against 1), `dis_gen` (generated
        pairs against 0), `discriminator` (their sum), and the flipped targets
        `generator` (generated pairs against 1) and `encoder` (real pairs
        against 0).
    """
    ce = sigmoid_cross_entropy
    terms = {
        "dis_encoder": tf.reduce_mean(ce(logit_real, 1)),
        "dis_gen": tf.reduce_mean(ce(logit_fake, 0)),
        "generator": tf.reduce_mean(ce(logit_fake, 1)),
        "encoder": tf.reduce_mean(ce(logit_real, 0)),
    }
    terms["discriminator"] = terms["dis_encoder"] + terms["dis_gen"]
    return terms


class BiGAN(AdversarialDetector):
    """BiGAN detector: an encoder E learned jointly with a generator G.

    The discriminator D(x, z) distinguishes real pairs (x, E(x)) from generated
    pairs (G(z), z). Each training step first updates D on one batch, then G
    and E on a batch of an independently shuffled copy of the training data,
    each network with its own Adam.

    Scores, higher for more anomalous rows, follow the original code: with
    x_rec = G(E(x)) and the EMA networks,
    A(x) = (1 - w) * ||x - x_rec||_d + w * L_D(x), where L_D is
    - `cross_e`: sigmoid cross-entropy of D(x_rec, E(x)) against the "real"
      label (the reconstructed pair; the paper writes D(x, E(x))), or
    - `fm`: ||f_D(x, E(x)) - f_D(x_rec, E(x))||_d on D's feature layer.
    Both variants are computed; `--m` picks the primary one.

    Args:
        networks: Dict with `encoder`, `generator` and `discriminator`.
        latent_dim: Size of the latent code.
        ema_decay: Decay of the moving average (original: 0.9999 on KDD99).
        weight: Weight `w` of the discriminator term. Defaults to 0.1.
        method: `"cross-e"` or `"fm"`, the primary score and the one tracked
            on validation rows. Defaults to `"fm"`.
        **kwargs: Passed to `AdversarialDetector`.
    """

    score_names = ("cross_e", "fm")
    scoring_networks = ("encoder", "generator", "discriminator")
    primary_scores = {"cross-e": "cross_e", "fm": "fm"}
    shared_optimizer = False

    def __init__(self, networks, latent_dim, ema_decay=0.9999, weight=0.1, method="fm", **kwargs):
        super().__init__(
            networks, latent_dim, ema_decay, validation_score=self.primary_scores[method], **kwargs
        )
        self.weight = weight
        names = [
            "loss_generator", "loss_encoder", "loss_discriminator", "loss_dis_encoder",
            "loss_dis_gen",
        ]
        self.loss_trackers = {name: keras.metrics.Mean(name=name) for name in names}

    @classmethod
    def options_from_config(cls, config):
        return {"score_degree": config.d, "weight": config.w, "method": config.m}

    def _pair_losses(self, x, z):
        net = self.networks
        z_enc = net["encoder"](x, training=True)
        x_gen = net["generator"](z, training=True)
        logit_real = net["discriminator"]([x, z_enc], training=True)[0]
        logit_fake = net["discriminator"]([x_gen, z], training=True)[0]
        return bigan_losses(logit_real, logit_fake)

    def train_step(self, data):
        x_dis, x_gen = data
        batch_size = tf.shape(x_dis)[0]

        z = self.sample_latent(batch_size)
        with tf.GradientTape() as tape:
            dis_terms = self._pair_losses(x_dis, z)
        variables = self.networks["discriminator"].trainable_variables
        self.apply_step("discriminator", tape.gradient(dis_terms["discriminator"], variables))

        z = self.sample_latent(batch_size)
        with tf.GradientTape() as tape:
            terms = self._pair_losses(x_gen, z)
            # The generator loss does not depend on E and the encoder loss
            # does not depend on G, so one backward pass of their sum gives
            # each network its own gradient.
            loss_sum = terms["generator"] + terms["encoder"]
        names = ("generator", "encoder")
        gradients = tape.gradient(loss_sum, self._variables_of(names))
        self._apply_in_order(names, gradients)

        return self.update_trackers(
            {
                "loss_generator": terms["generator"],
                "loss_encoder": terms["encoder"],
                "loss_discriminator": dis_terms["discriminator"],
                "loss_dis_encoder": dis_terms["dis_encoder"],
                "loss_dis_gen": dis_terms["dis_gen"],
            }
        )

    def score_batch(self, x):
        ema = self.ema_networks
        z = ema["encoder"](x, training=False)
        x_rec = ema["generator"](z, training=False)
        logit_rec, features_rec = ema["discriminator"]([x_rec, z], training=False)
        _, features_real = ema["discriminator"]([x, z], training=False)

        residual = tf.reshape(x - x_rec, (tf.shape(x)[0], -1))
        reconstruction = tf.norm(residual, ord=self.score_degree, axis=1)
        cross_entropy = tf.squeeze(sigmoid_cross_entropy(logit_rec, 1), axis=1)
        feature_distance = tf.norm(features_real - features_rec, ord=self.score_degree, axis=1)
        keep = 1.0 - self.weight
        return {
            "cross_e": keep * reconstruction + self.weight * cross_entropy,
            "fm": keep * reconstruction + self.weight * feature_distance,
        }
