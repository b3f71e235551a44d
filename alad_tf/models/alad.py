"""ALAD: Adversarially Learned Anomaly Detection (Zenati et al., ICDM 2018)."""

import keras
import tensorflow as tf

from alad_tf.models.base import AdversarialDetector, sigmoid_cross_entropy

DISCRIMINATORS = ("discriminator_xz", "discriminator_xx", "discriminator_zz")


def discriminator_losses(logits):
    """Return the D_xz, D_xx and D_zz losses: real pairs target 1, fake pairs 0.

    Args:
        logits: Dict of `(batch, 1)` logits with keys `xz_real` (x, E(x)),
            `xz_fake` (G(z), z), `xx_real` (x, x), `xx_fake` (x, G(E(x))),
            `zz_real` (z, z) and `zz_fake` (z, E(G(z))).
    """
    ce = sigmoid_cross_entropy
    loss_dxz = tf.reduce_mean(ce(logits["xz_real"], 1)) + tf.reduce_mean(ce(logits["xz_fake"], 0))
    loss_dxx = tf.reduce_mean(ce(logits["xx_real"], 1) + ce(logits["xx_fake"], 0))
    loss_dzz = tf.reduce_mean(ce(logits["zz_real"], 1) + ce(logits["zz_fake"], 0))
    return loss_dxz, loss_dxx, loss_dzz


def generator_encoder_losses(logits, enable_dzz):
    """Return the generator and encoder loss terms, with flipped (non-saturating) targets.

    Args:
        logits: Dict of logits as for `discriminator_losses`.
        enable_dzz: Whether the D_zz cost enters the cycle term.

    Returns:
        A dict with `gen_xz`, `enc_xz`, `cost_x`, `cost_z`, `cycle`,
        `generator` (gen_xz + cycle) and `encoder` (enc_xz + cycle).
    """
    ce = sigmoid_cross_entropy
    terms = {
        "gen_xz": tf.reduce_mean(ce(logits["xz_fake"], 1)),
        "enc_xz": tf.reduce_mean(ce(logits["xz_real"], 0)),
        "cost_x": tf.reduce_mean(ce(logits["xx_real"], 0) + ce(logits["xx_fake"], 1)),
        "cost_z": tf.reduce_mean(ce(logits["zz_real"], 0) + ce(logits["zz_fake"], 1)),
    }
    terms["cycle"] = terms["cost_x"] + terms["cost_z"] if enable_dzz else terms["cost_x"]
    terms["generator"] = terms["gen_xz"] + terms["cycle"]
    terms["encoder"] = terms["enc_xz"] + terms["cycle"]
    return terms


class ALAD(AdversarialDetector):
    """ALAD detector: an encoder, a generator and three discriminators.

    D_xz distinguishes real pairs (x, E(x)) from generated pairs (G(z), z).
    D_xx distinguishes (x, x) from (x, G(E(x))), and D_zz distinguishes (z, z)
    from (z, E(G(z))). Each
    training step first updates the three discriminators on one batch, then
    the generator and encoder on a batch of an independently shuffled copy of
    the training data.

    Four scores, all higher for more anomalous rows, come from the EMA
    encoder, generator and D_xx, with x_rec = G(E(x)):
    - `ch`: sigmoid cross-entropy of D_xx(x, x_rec) against the "real" label.
    - `l1`, `l2`: L1 and L2 norms of x - x_rec.
    - `fm`: norm of degree `score_degree` of f_xx(x, x) - f_xx(x, x_rec), with
      f_xx the feature layer of D_xx.

    Args:
        networks: Dict with the five networks built by `alad_tf.networks`.
        latent_dim: Size of the latent code.
        ema_decay: Decay of the moving average. The original uses 0.999.
        enable_dzz: Whether the D_zz cycle term enters the generator and
            encoder losses. D_zz is trained either way, as in the original,
            but its losses `loss_dis_zz` and `loss_encgen_dzz` are tracked,
            and so logged, written to TensorBoard and plotted, only when it
            is set, as the original logs them. Defaults to `False`.
        **kwargs: Passed to `AdversarialDetector`.
    """

    score_names = ("ch", "l1", "l2", "fm")
    validation_score = "fm"
    scoring_networks = ("encoder", "generator", "discriminator_xx")
    primary_scores = {"cross-e": "ch", "fm": "fm"}

    def __init__(self, networks, latent_dim, ema_decay=0.999, enable_dzz=False, **kwargs):
        super().__init__(networks, latent_dim, ema_decay, **kwargs)
        self.enable_dzz = enable_dzz
        names = [
            "loss_generator", "loss_encoder", "loss_discriminator", "loss_dis_xz",
            "loss_dis_xx", "loss_encgen_dxx",
        ]
        if enable_dzz:
            names += ["loss_dis_zz", "loss_encgen_dzz"]
        self.loss_trackers = {name: keras.metrics.Mean(name=name) for name in names}

    @classmethod
    def options_from_config(cls, config):
        return {"score_degree": config.d, "enable_dzz": config.enable_dzz}

    def _forward(self, x, z):
        """Run every network in training mode, as both steps of the original do."""
        net = self.networks
        z_enc = net["encoder"](x, training=True)
        x_gen = net["generator"](z, training=True)
        x_rec = net["generator"](z_enc, training=True)
        z_rec = net["encoder"](x_gen, training=True)

        # D_xz has batch normalisation, so its real and fake pairs go through
        # separate calls with separate batch statistics, as in the original.
        # D_xx and D_zz have none, so one call on both pairs stacked computes
        # the same logits with half the ops.
        xz_real = net["discriminator_xz"]([x, z_enc], training=True)[0]
        xz_fake = net["discriminator_xz"]([x_gen, z], training=True)[0]
        xx_logits = net["discriminator_xx"](
            [tf.concat([x, x], 0), tf.concat([x, x_rec], 0)], training=True
        )[0]
        zz_logits = net["discriminator_zz"](
            [tf.concat([z, z], 0), tf.concat([z, z_rec], 0)], training=True
        )[0]
        xx_real, xx_fake = tf.split(xx_logits, 2)
        zz_real, zz_fake = tf.split(zz_logits, 2)
        logits = {
            "xz_real": xz_real, "xz_fake": xz_fake,
            "xx_real": xx_real, "xx_fake": xx_fake,
            "zz_real": zz_real, "zz_fake": zz_fake,
        }
        return logits

    def train_step(self, data):
        x_dis, x_gen = data
        batch_size = tf.shape(x_dis)[0]

        # Discriminator step: each discriminator descends its own loss.
        z = self.sample_latent(batch_size)
        with tf.GradientTape() as tape:
            loss_dxz, loss_dxx, loss_dzz = discriminator_losses(self._forward(x_dis, z))
            # The three losses depend on disjoint variables, so one backward
            # pass of their sum yields each discriminator's own gradients.
            loss_sum = loss_dxz + loss_dxx + loss_dzz
        gradients = tape.gradient(loss_sum, self._variables_of(DISCRIMINATORS))
        self._apply_in_order(DISCRIMINATORS, gradients)

        # Generator and encoder step, both from one forward pass.
        z = self.sample_latent(batch_size)
        with tf.GradientTape() as tape:
            terms = generator_encoder_losses(self._forward(x_gen, z), self.enable_dzz)
            # gen_xz does not depend on E and enc_xz does not depend on G, so
            # the gradient of their sum plus the cycle term gives dL_G/dG and
            # dL_E/dE in one backward pass.
            loss_sum = terms["gen_xz"] + terms["enc_xz"] + terms["cycle"]
        names = ("generator", "encoder")
        gradients = tape.gradient(loss_sum, self._variables_of(names))
        self._apply_in_order(names, gradients)

        losses = {
            "loss_generator": terms["generator"],
            "loss_encoder": terms["encoder"],
            "loss_discriminator": loss_dxz + loss_dxx,
            "loss_dis_xz": loss_dxz,
            "loss_dis_xx": loss_dxx,
            "loss_encgen_dxx": terms["cost_x"],
        }
        if self.enable_dzz:
            losses["loss_discriminator"] += loss_dzz
            losses["loss_dis_zz"] = loss_dzz
            losses["loss_encgen_dzz"] = terms["cost_z"]
        return self.update_trackers(losses)

    def score_batch(self, x):
        ema = self.ema_networks
        x_rec = ema["generator"](ema["encoder"](x, training=False), training=False)
        logit_rec, features_rec = ema["discriminator_xx"]([x, x_rec], training=False)
        _, features_real = ema["discriminator_xx"]([x, x], training=False)

        residual = tf.reshape(x - x_rec, (tf.shape(x)[0], -1))
        return {
            "ch": tf.squeeze(sigmoid_cross_entropy(logit_rec, 1), axis=1),
            "l1": tf.norm(residual, ord=1, axis=1),
            "l2": tf.norm(residual, ord=2, axis=1),
            "fm": tf.norm(features_real - features_rec, ord=self.score_degree, axis=1),
        }
