"""Base class of the adversarial anomaly detectors."""

import keras
import tensorflow as tf

from alad_tf.models.optimizers import FusedAdam


def sigmoid_cross_entropy(logits, target):
    """Return the per-row sigmoid cross-entropy of `logits` against a constant target."""
    return tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.fill(tf.shape(logits), tf.cast(target, logits.dtype)), logits=logits
    )


def reference_adam(learning_rate):
    """Build Adam with the TF1 settings of the original code (beta_1 0.5, epsilon 1e-8)."""
    return FusedAdam(learning_rate=learning_rate, beta_1=0.5, beta_2=0.999, epsilon=1e-8)


class AdversarialDetector(keras.Model):
    """GAN with an encoder whose EMA networks score anomalies.

    Subclasses set the class attributes, build their networks, and implement
    `train_step` and `score_batch`. Scores are higher for more anomalous rows.

    The exponential moving average (EMA) is hand-written rather than taken from
    the optimizer's `use_ema`. The original updates each network's average
    right after that network's own step, with plain decay and shadows that
    start at the initial weights. Keras instead averages every variable at
    every `apply` call.

    Args:
        networks: Dict of name to `keras.Model`.
        latent_dim: Size of the latent code.
        ema_decay: Decay of the moving average of the scoring networks.
        score_degree: Norm degree of the feature-matching (`fm`) score.
            Defaults to 1.
        seed: Seed of latent sampling. Defaults to `None` (not reproducible).
        validation_score: Score tracked on validation rows. Defaults to the
            class attribute `validation_score`.
    """

    # Score names returned by `score_batch`, in output order.
    score_names = ()
    # Score whose mean over the validation split is tracked each epoch.
    validation_score = None
    # Networks whose EMA copies compute the scores.
    scoring_networks = ()
    # Value of --m -> score used for the exported decision.
    primary_scores = {}
    # Whether one optimizer serves every network (ALAD) or each network has
    # its own (EGBAD).
    shared_optimizer = True

    def __init__(
        self, networks, latent_dim, ema_decay, score_degree=1, seed=None,
        validation_score=None, **kwargs,
    ):
        super().__init__(**kwargs)
        if validation_score is not None:
            self.validation_score = validation_score
        self.network_optimizers = {}
        self.networks = networks
        self.latent_dim = latent_dim
        self.ema_decay = ema_decay
        self.score_degree = score_degree
        self.seed_generator = keras.random.SeedGenerator(seed)

        ema_networks = {}
        for name in self.scoring_networks:
            copy = keras.models.clone_model(networks[name])
            copy.set_weights(networks[name].get_weights())
            copy.trainable = False
            ema_networks[name] = copy
        self.ema_networks = ema_networks

        self.validation_tracker = keras.metrics.Mean(name=f"score_{self.validation_score}")
        self.built = True

    @property
    def row_shape(self):
        """Shape of one input row: `(n_features,)` or `(height, width, channels)`."""
        return tuple(self.networks["encoder"].input_shape[1:])

    @property
    def metrics(self):
        return [*self.loss_trackers.values(), self.validation_tracker]

    def compile(self, optimizer=None, learning_rate=1e-5, **kwargs):
        """Configure training with the original's Adam settings.

        Models with `shared_optimizer` use one optimizer for every network.
        The others get one Adam per network, and `optimizer` is then the
        discriminator's.

        Args:
            optimizer: Optimizer of every network (shared) or of the
                discriminator. Defaults to Adam with the original settings
                (beta_1 0.5, epsilon 1e-8) and `learning_rate`.
            learning_rate: Learning rate of the default optimizers.
            **kwargs: Passed to `keras.Model.compile`, for example
                `steps_per_execution` or `jit_compile`.
        """
        optimizer = optimizer or reference_adam(learning_rate)
        super().compile(optimizer=optimizer, **kwargs)
        if self.shared_optimizer:
            # A Keras 3 optimizer only updates variables it was built with, and
            # each step updates one network's subset.
            self.optimizer.build(self.trainable_variables)
            return
        self.network_optimizers = {
            name: optimizer if name == "discriminator" else reference_adam(learning_rate)
            for name in self.networks
        }
        for name, network_optimizer in self.network_optimizers.items():
            network_optimizer.build(self.networks[name].trainable_variables)

    def sample_latent(self, batch_size):
        return keras.random.normal(
            (batch_size, self.latent_dim), seed=self.seed_generator
        )

    def apply_step(self, network_name, gradients):
        """Apply one network's gradients, then update its moving average."""
        network = self.networks[network_name]
        optimizer = (
            self.optimizer if self.shared_optimizer else self.network_optimizers[network_name]
        )
        optimizer.apply(gradients, network.trainable_variables)
        if network_name in self.ema_networks:
            self._update_ema(network, self.ema_networks[network_name])

    def _variables_of(self, names):
        return [v for name in names for v in self.networks[name].trainable_variables]

    def _apply_in_order(self, names, gradients):
        """Split a flat gradient list by network and apply each network's step."""
        start = 0
        for name in names:
            count = len(self.networks[name].trainable_variables)
            self.apply_step(name, gradients[start : start + count])
            start += count

    def _update_ema(self, network, ema_network):
        decay = self.ema_decay
        for average, variable in zip(ema_network.weights, network.weights):
            if variable.trainable:
                average.assign(decay * average + (1.0 - decay) * variable)
            else:
                # Batch-norm statistics and spectral-norm vectors are copied raw.
                average.assign(variable)

    def update_trackers(self, values):
        for name, value in values.items():
            self.loss_trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.loss_trackers.items()}

    def reconstruct(self, x):
        """Return G(E(x)) computed with the EMA networks in inference mode."""
        ema = self.ema_networks
        return ema["generator"](ema["encoder"](x, training=False), training=False)

    def call(self, x, training=False):
        """Return a dict of anomaly scores, one float per row of `x`."""
        return self.score_batch(x)

    def score_batch(self, x):
        raise NotImplementedError

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        scores = self.score_batch(x)
        self.validation_tracker.update_state(scores[self.validation_score])
        return {self.validation_tracker.name: self.validation_tracker.result()}

    @classmethod
    def options_from_config(cls, config):
        """Return the constructor options that a `RunConfig` sets."""
        return {"score_degree": config.d}

    def primary_score(self, method):
        """Map a --m value to the score used for the exported decision."""
        if method not in self.primary_scores:
            raise ValueError(
                f"Invalid --m {method!r}. Expected one of: "
                f"{', '.join(self.primary_scores)}."
            )
        return self.primary_scores[method]
