"""Train ALAD or BiGAN as a TensorFlow 1 graph, to cross-check the Keras port's F1.

The reference code is a TensorFlow 1 graph run by a session. TensorFlow 1.x
no longer installs on current Python, and `tf.compat.v1.layers` needs
Keras 2, but `tf.compat.v1` still provides graph mode, `get_variable`
scopes with custom getters, the TF1 `AdamOptimizer` and
`ExponentialMovingAverage`. This script builds the two detectors from
those, with no code of `alad_tf.models` or `alad_tf.networks`:

- variables from `get_variable` (Glorot-uniform kernels, zero biases);
- ALAD: one `AdamOptimizer(lr, beta1=0.5)` instance shared by the five
  `minimize` calls, so its beta-power accumulators advance on every call;
  BiGAN: one per network;
- one `ExponentialMovingAverage` per network (decay 0.999 for ALAD, 0.9999
  for BiGAN on KDD99), grouped with that network's update, and read back
  through a custom getter for scoring;
- two copies of the training rows permuted by `RandomState(seed)` each
  epoch, the last partial batch dropped, and one session call for the
  discriminators and one for the generator and encoder per step. ALAD's
  latent codes come from NumPy's global generator, BiGAN's from the graph.

Only the data loading (`alad_tf.data`) and the metrics
(`alad_tf.evaluation.binary_metrics`) come from the package. Comparing its
F1 over seeds with that of `python main.py MODEL run` separates differences of
the Keras port from the behaviour of the method itself.

Usage:
    python benchmarks/tf1_graph_check.py --dataset kdd --rd 1,2,3 \\
        --nb_epochs 10 --every 1 --output tf1_kdd.csv
    python benchmarks/tf1_graph_check.py --model bigan --rd 1,2,3 \\
        --nb_epochs 34 --every 34 --output tf1_bigan.csv

Writes one CSV row per seed, epoch and score with precision, recall, F1 and
AUROC under the reference threshold (the top 20 % of test scores flagged on
KDD99, 15 % on Arrhythmia), the counts of tied and flagged rows, and the F1
of a strict `score > threshold`.
"""

import csv
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from absl import app, flags

flags.DEFINE_string("model", "alad", "Model: alad, or bigan (kdd only).")
flags.DEFINE_string("dataset", "kdd", "Dataset: kdd or arrhythmia.")
flags.DEFINE_string("rd", "1,2,3", "Comma-separated seeds, one training run each.")
flags.DEFINE_integer("nb_epochs", 10, "Epochs per run.", lower_bound=1)
flags.DEFINE_integer("every", 1, "Score the test set after every this many epochs.", lower_bound=1)
flags.DEFINE_bool("scale", False, "MinMax-scale the features, fitted on the training rows.")
flags.DEFINE_bool("enable_dzz", False, "ALAD: add the D_zz cost to the generator and encoder losses.")
flags.DEFINE_float("w", 0.1, "BiGAN: weight of the discriminator term in the score.")
flags.DEFINE_string("data_dir", None, "Folder holding the dataset files.")
flags.DEFINE_string("output", "tf1_graph_check.csv", "CSV file to write; an existing file is kept.")
FLAGS = flags.FLAGS

v1 = tf.compat.v1

# Widths of the reference networks, and the reference hyperparameters.
SPECS = {
    ("alad", "kdd"): {
        "latent": 32, "encoder": (64,), "generator": (64, 128), "dxz_joint": (128,),
        "dxx": (128,), "dzz": (32,), "learning_rate": 1e-5, "batch_size": 50,
        "ema_decay": 0.999, "leaky_slope": 0.2,
    },
    ("alad", "arrhythmia"): {
        "latent": 64, "encoder": (256, 128), "generator": (128, 256), "dxz_joint": (256,),
        "dxx": (256, 128), "dzz": (64, 32), "learning_rate": 1e-5, "batch_size": 32,
        "ema_decay": 0.999, "leaky_slope": 0.2,
    },
    ("bigan", "kdd"): {
        "latent": 32, "encoder": (64,), "generator": (64, 128), "learning_rate": 1e-5,
        "batch_size": 50, "ema_decay": 0.9999, "leaky_slope": 0.1,
    },
}
FIELDS = ["model", "dataset", "scale", "enable_dzz", "rd", "epoch", "score",
          "precision", "recall", "f1", "auroc", "tied", "flagged", "f1_strict",
          "training_seconds"]


def dense(h, units, name):
    """Return h @ kernel + bias with a Glorot-uniform kernel and a zero bias."""
    kernel = v1.get_variable(
        f"{name}/kernel", (h.shape[-1], units), initializer=v1.glorot_uniform_initializer()
    )
    bias = v1.get_variable(f"{name}/bias", (units,), initializer=v1.zeros_initializer())
    return tf.matmul(h, kernel) + bias


def dropout(h, rate, training):
    return tf.nn.dropout(h, rate=rate) if training else h


def sigmoid_ce(logits, target):
    labels = tf.ones_like(logits) if target else tf.zeros_like(logits)
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)


def ema_getter(ema):
    """Return a custom getter that reads each variable's moving average."""
    # TF1 passes the default getter as the keyword `getter`.
    def custom_getter(getter, name, *args, **kwargs):
        variable = getter(name, *args, **kwargs)
        average = ema.average(variable)
        return average if average is not None else variable
    return custom_getter


def minimize_with_ema(optimizer, loss, scope, decay):
    """Return the update of `scope`'s variables grouped with their moving average."""
    variables = v1.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES, scope=scope + "/")
    update = optimizer.minimize(loss, var_list=variables)
    ema = v1.train.ExponentialMovingAverage(decay=decay)
    # As the reference: the average op is made outside the update's control
    # dependency, so the two are grouped but not ordered.
    maintain = ema.apply(variables)
    with tf.control_dependencies([update]):
        return tf.group(maintain), ema


def minimize_each(losses, make_optimizer, decay):
    """Minimize each scope's loss with the optimizer from `make_optimizer`.

    Returns:
        Two dicts keyed by scope: the update ops, and the moving averages.
    """
    steps, averages = {}, {}
    for scope, loss in losses.items():
        steps[scope], averages[scope] = minimize_with_ema(make_optimizer(), loss, scope, decay)
    return steps, averages


def reconstruct_with_ema(encoder, generator, x, averages):
    """Return E(x) and G(E(x)) computed with the moving averages of both networks."""
    with v1.variable_scope("encoder", reuse=True, custom_getter=ema_getter(averages["encoder"])):
        z_enc = encoder(x)
    with v1.variable_scope("generator", reuse=True,
                           custom_getter=ema_getter(averages["generator"])):
        x_rec = generator(z_enc)
    return z_enc, x_rec


def encoder_generator(spec, n_features):
    """Return the encoder and generator functions of `spec`."""
    def encoder(x):
        h = x
        for i, units in enumerate(spec["encoder"]):
            h = tf.nn.leaky_relu(dense(h, units, f"hidden{i}"), alpha=spec["leaky_slope"])
        return dense(h, spec["latent"], "out")

    def generator(z):
        h = z
        for i, units in enumerate(spec["generator"]):
            h = tf.nn.relu(dense(h, units, f"hidden{i}"))
        return dense(h, n_features, "out")

    return encoder, generator


def build_alad(spec, n_features, enable_dzz):
    """Build the ALAD training and scoring graph.

    Returns:
        The input placeholder `x`, the latent placeholder `z` (fed with
        NumPy draws), the discriminator step, the generator and encoder
        step, and a dict of score tensors.
    """
    encoder, generator = encoder_generator(spec, n_features)

    def leaky(h):
        return tf.nn.leaky_relu(h, alpha=spec["leaky_slope"])

    def batch_norm(h, name):
        # Only D_xz has batch normalisation, and scoring never calls D_xz, so
        # the moving statistics, which only inference reads, are left out.
        gamma = v1.get_variable(f"{name}/gamma", h.shape[-1:], initializer=v1.ones_initializer())
        beta = v1.get_variable(f"{name}/beta", h.shape[-1:], initializer=v1.zeros_initializer())
        mean, variance = tf.nn.moments(h, axes=[0])
        return tf.nn.batch_normalization(h, mean, variance, beta, gamma, 1e-3)

    def discriminator_xz(x, z):
        hx = leaky(batch_norm(dense(x, 128, "x"), "x_bn"))
        hz = dropout(leaky(dense(z, 128, "z")), 0.5, True)
        h = tf.concat([hx, hz], axis=1)
        for i, units in enumerate(spec["dxz_joint"]):
            h = dropout(leaky(dense(h, units, f"joint{i}")), 0.5, True)
        return dense(h, 1, "logit")

    def pair_discriminator(widths):
        def discriminator(a, b, training):
            h = tf.concat([a, b], axis=1)
            for i, units in enumerate(widths):
                h = dropout(leaky(dense(h, units, f"hidden{i}")), 0.2, training)
            return dense(h, 1, "logit"), h
        return discriminator

    discriminator_xx = pair_discriminator(spec["dxx"])
    discriminator_zz = pair_discriminator(spec["dzz"])

    x = v1.placeholder(tf.float32, (None, n_features), name="x")
    z = v1.placeholder(tf.float32, (None, spec["latent"]), name="z")
    reuse = {"reuse": v1.AUTO_REUSE}
    with v1.variable_scope("encoder", **reuse):
        z_enc = encoder(x)
    with v1.variable_scope("generator", **reuse):
        x_gen = generator(z)
        x_rec = generator(z_enc)
    with v1.variable_scope("encoder", **reuse):
        z_rec = encoder(x_gen)
    with v1.variable_scope("dxz", **reuse):
        xz_real = discriminator_xz(x, z_enc)
        xz_fake = discriminator_xz(x_gen, z)
    with v1.variable_scope("dxx", **reuse):
        xx_real, _ = discriminator_xx(x, x, True)
        xx_fake, _ = discriminator_xx(x, x_rec, True)
    with v1.variable_scope("dzz", **reuse):
        zz_real, _ = discriminator_zz(z, z, True)
        zz_fake, _ = discriminator_zz(z, z_rec, True)

    ce = sigmoid_ce
    cost_x = tf.reduce_mean(ce(xx_real, 0) + ce(xx_fake, 1))
    cost_z = tf.reduce_mean(ce(zz_real, 0) + ce(zz_fake, 1))
    cycle = cost_x + cost_z if enable_dzz else cost_x
    losses = {
        "generator": tf.reduce_mean(ce(xz_fake, 1)) + cycle,
        "encoder": tf.reduce_mean(ce(xz_real, 0)) + cycle,
        "dxz": tf.reduce_mean(ce(xz_real, 1)) + tf.reduce_mean(ce(xz_fake, 0)),
        "dxx": tf.reduce_mean(ce(xx_real, 1) + ce(xx_fake, 0)),
        "dzz": tf.reduce_mean(ce(zz_real, 1) + ce(zz_fake, 0)),
    }
    # One optimizer instance for every network, as the reference ALAD code has.
    optimizer = v1.train.AdamOptimizer(spec["learning_rate"], beta1=0.5)
    steps, averages = minimize_each(losses, lambda: optimizer, spec["ema_decay"])

    z_enc_ema, x_rec_ema = reconstruct_with_ema(encoder, generator, x, averages)
    with v1.variable_scope("dxx", reuse=True, custom_getter=ema_getter(averages["dxx"])):
        _, features_real = discriminator_xx(x, x, False)
        logit_rec, features_rec = discriminator_xx(x, x_rec_ema, False)

    residual = x - x_rec_ema
    scores = {
        "ch": tf.squeeze(ce(logit_rec, 1), axis=1),
        "l1": tf.norm(residual, ord=1, axis=1),
        "l2": tf.norm(residual, ord=2, axis=1),
        "fm": tf.norm(features_real - features_rec, ord=1, axis=1),
    }
    discriminator_step = [steps["dxz"], steps["dxx"], steps["dzz"]]
    generator_step = [steps["generator"], steps["encoder"]]
    return x, z, discriminator_step, generator_step, scores


def build_bigan(spec, n_features, weight):
    """Build the BiGAN (EGBAD) training and scoring graph.

    Returns:
        The input placeholder `x`, `None` (latent codes are drawn in the
        graph), the discriminator step, the generator and encoder step, and
        a dict of score tensors.
    """
    encoder, generator = encoder_generator(spec, n_features)

    def discriminator(x, z, training):
        def branch(h, name):
            h = tf.nn.leaky_relu(dense(h, 128, name), alpha=spec["leaky_slope"])
            return dropout(h, 0.2, training)
        h = tf.concat([branch(x, "x"), branch(z, "z")], axis=1)
        features = branch(h, "joint")
        return dense(features, 1, "logit"), features

    x = v1.placeholder(tf.float32, (None, n_features), name="x")
    z = tf.random.normal((tf.shape(x)[0], spec["latent"]))
    reuse = {"reuse": v1.AUTO_REUSE}
    with v1.variable_scope("encoder", **reuse):
        z_enc = encoder(x)
    with v1.variable_scope("generator", **reuse):
        x_gen = generator(z)
    with v1.variable_scope("discriminator", **reuse):
        logit_real, _ = discriminator(x, z_enc, True)
        logit_fake, _ = discriminator(x_gen, z, True)

    ce = sigmoid_ce
    losses = {
        "discriminator": tf.reduce_mean(ce(logit_real, 1)) + tf.reduce_mean(ce(logit_fake, 0)),
        "generator": tf.reduce_mean(ce(logit_fake, 1)),
        "encoder": tf.reduce_mean(ce(logit_real, 0)),
    }
    steps, averages = minimize_each(
        losses, lambda: v1.train.AdamOptimizer(spec["learning_rate"], beta1=0.5),
        spec["ema_decay"],
    )

    z_enc_ema, x_rec_ema = reconstruct_with_ema(encoder, generator, x, averages)
    with v1.variable_scope("discriminator", reuse=True,
                           custom_getter=ema_getter(averages["discriminator"])):
        _, features_real = discriminator(x, z_enc_ema, False)
        logit_rec, features_rec = discriminator(x_rec_ema, z_enc_ema, False)

    reconstruction = tf.norm(x - x_rec_ema, ord=1, axis=1)
    scores = {
        "cross_e": (1 - weight) * reconstruction
        + weight * tf.squeeze(ce(logit_rec, 1), axis=1),
        "fm": (1 - weight) * reconstruction
        + weight * tf.norm(features_real - features_rec, ord=1, axis=1),
    }
    generator_step = [steps["generator"], steps["encoder"]]
    return x, None, [steps["discriminator"]], generator_step, scores


def run_seed(splits, spec, seed, writer):
    """Train one seed, scoring the test set every `--every` epochs."""
    from alad_tf.evaluation import binary_metrics

    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(seed)
        n_features = splits.x_train.shape[1]
        if FLAGS.model == "alad":
            built = build_alad(spec, n_features, FLAGS.enable_dzz)
        else:
            built = build_bigan(spec, n_features, FLAGS.w)
        x, z, discriminator_step, generator_step, scores = built
        init = v1.global_variables_initializer()
    config = v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    session = v1.Session(graph=graph, config=config)
    session.run(init)

    batch_size = spec["batch_size"]
    rng = np.random.RandomState(seed)
    # The reference ALAD draws latent codes from NumPy's global generator.
    np.random.seed(seed)

    def feed(rows):
        if z is None:
            return {x: rows}
        return {x: rows, z: np.random.normal(size=(batch_size, spec["latent"]))}

    train = splits.x_train
    train_copy = train.copy()
    steps = len(train) // batch_size
    seconds = 0.0
    for epoch in range(FLAGS.nb_epochs):
        begin = time.time()
        train = train[rng.permutation(len(train))]
        train_copy = train_copy[rng.permutation(len(train))]
        for step in range(steps):
            rows = slice(step * batch_size, (step + 1) * batch_size)
            session.run(discriminator_step, feed(train[rows]))
            session.run(generator_step, feed(train_copy[rows]))
        seconds += time.time() - begin
        print(f"[tf1 {FLAGS.model} rd{seed}] Epoch {epoch} | time = {time.time() - begin:.0f}s",
              flush=True)

        if (epoch + 1) % FLAGS.every and epoch + 1 != FLAGS.nb_epochs:
            continue
        # No scoring network has batch normalisation or dropout at inference,
        # so the chunk size changes only the last bits.
        chunks = [
            session.run(scores, {x: splits.x_test[start:start + 10_000]})
            for start in range(0, len(splits.x_test), 10_000)
        ]
        for name in scores:
            values = np.concatenate([chunk[name] for chunk in chunks])
            threshold = np.percentile(values, splits.test_percentile)
            metrics = binary_metrics(splits.y_test, values, threshold)
            # F1 of a strict `score > threshold`, which leaves out a block of
            # identical rows tied at the threshold.
            strict = binary_metrics(splits.y_test, values, np.nextafter(threshold, np.inf))
            writer.writerow({
                "model": FLAGS.model, "dataset": FLAGS.dataset, "scale": FLAGS.scale,
                "enable_dzz": FLAGS.enable_dzz, "rd": seed, "epoch": epoch + 1, "score": name,
                **{key: f"{metrics[key]:.4f}" for key in ("precision", "recall", "f1", "auroc")},
                "tied": metrics["tied"], "flagged": metrics["flagged"],
                "f1_strict": f"{strict['f1']:.4f}",
                "training_seconds": f"{seconds:.0f}",
            })
            print(f"[tf1 {FLAGS.model} rd{seed}] epoch {epoch + 1} {name}: "
                  f"F1 = {metrics['f1']:.4f} | AUROC = {metrics['auroc']:.4f} | "
                  f"tied = {metrics['tied']} | F1 with > = {strict['f1']:.4f}", flush=True)
    session.close()


def main(argv):
    del argv
    output = Path(FLAGS.output)
    if output.exists():
        raise SystemExit(f"Output file {output} already exists. Pass another --output or remove it.")
    key = (FLAGS.model, FLAGS.dataset)
    if key not in SPECS:
        known = ", ".join(f"--model {model} --dataset {dataset}" for model, dataset in SPECS)
        raise SystemExit(f"Invalid --model {key[0]!r} with --dataset {key[1]!r}. Expected one of: {known}.")

    from alad_tf.data import load_dataset

    v1.disable_eager_execution()
    splits = load_dataset(FLAGS.dataset, data_dir=FLAGS.data_dir, scale=FLAGS.scale)
    seeds = [int(seed) for seed in FLAGS.rd.split(",")]
    with open(output, "w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        for seed in seeds:
            run_seed(splits, SPECS[key], seed, writer)
            handle.flush()


if __name__ == "__main__":
    app.run(main)
