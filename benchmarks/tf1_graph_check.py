"""Train ALAD as a TensorFlow 1 graph, to cross-check the Keras port's F1.

The reference ALAD code is a TensorFlow 1 graph run by a session. TensorFlow
1.x no longer installs on current Python, and `tf.compat.v1.layers` needs
Keras 2, but `tf.compat.v1` still provides graph mode, `get_variable`
scopes with custom getters, the TF1 `AdamOptimizer` and
`ExponentialMovingAverage`. This script builds the ALAD graph from those,
with no code of `alad_tf.models` or `alad_tf.networks`:

- variables from `get_variable` (Glorot-uniform kernels, zero biases);
- one `AdamOptimizer(lr, beta1=0.5)` instance shared by the five `minimize`
  calls, so its beta-power accumulators advance on every call;
- one `ExponentialMovingAverage(0.999)` per network, grouped with that
  network's update, and read back through a custom getter for scoring;
- latent codes from NumPy's global generator, two copies of the training
  rows permuted by `RandomState(seed)` each epoch, the last partial batch
  dropped, and one session call for the discriminators and one for the
  generator and encoder per step.

Only the data loading (`alad_tf.data`) and the metrics
(`alad_tf.evaluation.binary_metrics`) come from the package. Comparing its
F1 over seeds with that of `python main.py alad run` tells differences of
the Keras port apart from the behaviour of the method itself.

Usage:
    python benchmarks/tf1_graph_check.py --dataset kdd --rd 1,2,3 \\
        --nb_epochs 10 --every 1 --output tf1_kdd.csv

Writes one CSV row per seed, epoch and score with precision, recall, F1 and
AUROC under the reference threshold (the top 20 % of test scores flagged on
KDD99, 15 % on Arrhythmia).
"""

import csv
import time
from pathlib import Path

import numpy as np
from absl import app, flags

flags.DEFINE_string("dataset", "kdd", "Dataset: kdd or arrhythmia.")
flags.DEFINE_string("rd", "1,2,3", "Comma-separated seeds, one training run each.")
flags.DEFINE_integer("nb_epochs", 10, "Epochs per run.", lower_bound=1)
flags.DEFINE_integer("every", 1, "Score the test set after every this many epochs.", lower_bound=1)
flags.DEFINE_bool("scale", False, "MinMax-scale the features, fitted on the training rows.")
flags.DEFINE_bool("enable_dzz", False, "Add the D_zz cost to the generator and encoder losses.")
flags.DEFINE_string("data_dir", None, "Folder holding the dataset files.")
flags.DEFINE_string("output", "tf1_graph_check.csv", "CSV file to write; an existing file is kept.")
FLAGS = flags.FLAGS

# Widths of the reference networks, and the reference hyperparameters.
SPECS = {
    "kdd": {
        "latent": 32, "encoder": (64,), "generator": (64, 128), "dxz_joint": (128,),
        "dxx": (128,), "dzz": (32,), "learning_rate": 1e-5, "batch_size": 50,
    },
    "arrhythmia": {
        "latent": 64, "encoder": (256, 128), "generator": (128, 256), "dxz_joint": (256,),
        "dxx": (256, 128), "dzz": (64, 32), "learning_rate": 1e-5, "batch_size": 32,
    },
}
EMA_DECAY = 0.999
LEAKY_SLOPE = 0.2
SCORES = ("ch", "l1", "l2", "fm")
FIELDS = ["dataset", "scale", "enable_dzz", "rd", "epoch", "score",
          "precision", "recall", "f1", "auroc", "training_seconds"]


def build_graph(tf, spec, n_features, enable_dzz):
    """Build the ALAD training and scoring graph; return its tensors and ops."""
    v1 = tf.compat.v1
    glorot = v1.glorot_uniform_initializer()

    def dense(h, units, name):
        kernel = v1.get_variable(f"{name}/kernel", (h.shape[-1], units), initializer=glorot)
        bias = v1.get_variable(f"{name}/bias", (units,), initializer=v1.zeros_initializer())
        return tf.matmul(h, kernel) + bias

    def leaky(h):
        return tf.nn.leaky_relu(h, alpha=LEAKY_SLOPE)

    def dropout(h, rate, training):
        return tf.nn.dropout(h, rate=rate) if training else h

    def batch_norm(h, name, training):
        # Only D_xz has batch normalisation, and scoring never calls D_xz, so
        # the moving statistics, which only inference reads, are left out.
        assert training
        gamma = v1.get_variable(f"{name}/gamma", h.shape[-1:], initializer=v1.ones_initializer())
        beta = v1.get_variable(f"{name}/beta", h.shape[-1:], initializer=v1.zeros_initializer())
        mean, variance = tf.nn.moments(h, axes=[0])
        return tf.nn.batch_normalization(h, mean, variance, beta, gamma, 1e-3)

    def encoder(x):
        h = x
        for i, units in enumerate(spec["encoder"]):
            h = leaky(dense(h, units, f"hidden{i}"))
        return dense(h, spec["latent"], "out")

    def generator(z):
        h = z
        for i, units in enumerate(spec["generator"]):
            h = tf.nn.relu(dense(h, units, f"hidden{i}"))
        return dense(h, n_features, "out")

    def discriminator_xz(x, z, training):
        hx = leaky(batch_norm(dense(x, 128, "x"), "x_bn", training))
        hz = dropout(leaky(dense(z, 128, "z")), 0.5, training)
        h = tf.concat([hx, hz], axis=1)
        for i, units in enumerate(spec["dxz_joint"]):
            h = dropout(leaky(dense(h, units, f"joint{i}")), 0.5, training)
        return dense(h, 1, "logit")

    def discriminator_pair(widths):
        def discriminator(a, b, training):
            h = tf.concat([a, b], axis=1)
            for i, units in enumerate(widths):
                h = dropout(leaky(dense(h, units, f"hidden{i}")), 0.2, training)
            return dense(h, 1, "logit"), h
        return discriminator

    discriminator_xx = discriminator_pair(spec["dxx"])
    discriminator_zz = discriminator_pair(spec["dzz"])

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
        xz_real = discriminator_xz(x, z_enc, True)
        xz_fake = discriminator_xz(x_gen, z, True)
    with v1.variable_scope("dxx", **reuse):
        xx_real, _ = discriminator_xx(x, x, True)
        xx_fake, _ = discriminator_xx(x, x_rec, True)
    with v1.variable_scope("dzz", **reuse):
        zz_real, _ = discriminator_zz(z, z, True)
        zz_fake, _ = discriminator_zz(z, z_rec, True)

    def ce(logits, target):
        labels = tf.ones_like(logits) if target else tf.zeros_like(logits)
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)

    loss_dxz = tf.reduce_mean(ce(xz_real, 1)) + tf.reduce_mean(ce(xz_fake, 0))
    loss_dxx = tf.reduce_mean(ce(xx_real, 1) + ce(xx_fake, 0))
    loss_dzz = tf.reduce_mean(ce(zz_real, 1) + ce(zz_fake, 0))
    cost_x = tf.reduce_mean(ce(xx_real, 0) + ce(xx_fake, 1))
    cost_z = tf.reduce_mean(ce(zz_real, 0) + ce(zz_fake, 1))
    cycle = cost_x + cost_z if enable_dzz else cost_x
    loss_gen = tf.reduce_mean(ce(xz_fake, 1)) + cycle
    loss_enc = tf.reduce_mean(ce(xz_real, 0)) + cycle

    learning_rate = spec["learning_rate"]
    optimizer = v1.train.AdamOptimizer(learning_rate, beta1=0.5)
    losses = {"encoder": loss_enc, "generator": loss_gen, "dxz": loss_dxz,
              "dxx": loss_dxx, "dzz": loss_dzz}
    train_ops = {}
    averages = {}
    for scope, loss in losses.items():
        variables = v1.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES, scope=scope + "/")
        update = optimizer.minimize(loss, var_list=variables)
        ema = v1.train.ExponentialMovingAverage(decay=EMA_DECAY)
        # As the reference: the average op is made outside the update's
        # control dependency, so the two are grouped but not ordered.
        maintain = ema.apply(variables)
        with tf.control_dependencies([update]):
            train_ops[scope] = tf.group(maintain)
        averages[scope] = ema

    def ema_getter(ema):
        # TF1 passes the default getter as the keyword `getter`.
        def custom_getter(getter, name, *args, **kwargs):
            variable = getter(name, *args, **kwargs)
            average = ema.average(variable)
            return average if average is not None else variable
        return custom_getter

    with v1.variable_scope("encoder", reuse=True, custom_getter=ema_getter(averages["encoder"])):
        z_enc_ema = encoder(x)
    with v1.variable_scope("generator", reuse=True,
                           custom_getter=ema_getter(averages["generator"])):
        x_rec_ema = generator(z_enc_ema)
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
    discriminator_step = [train_ops["dxz"], train_ops["dxx"], train_ops["dzz"]]
    generator_step = [train_ops["generator"], train_ops["encoder"]]
    return x, z, discriminator_step, generator_step, scores


def run_seed(tf, splits, spec, seed, writer):
    """Train one seed, scoring the test set every `--every` epochs."""
    from alad_tf.evaluation import binary_metrics

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(seed)
        x, z, discriminator_step, generator_step, scores = build_graph(
            tf, spec, splits.x_train.shape[1], FLAGS.enable_dzz
        )
        init = v1.global_variables_initializer()
    config = v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=1)
    session = v1.Session(graph=graph, config=config)
    session.run(init)

    batch_size = spec["batch_size"]
    latent = spec["latent"]
    rng = np.random.RandomState(seed)
    # The reference draws latent codes from NumPy's global generator.
    np.random.seed(seed)
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
            session.run(discriminator_step, {
                x: train[rows], z: np.random.normal(size=(batch_size, latent)),
            })
            session.run(generator_step, {
                x: train_copy[rows], z: np.random.normal(size=(batch_size, latent)),
            })
        seconds += time.time() - begin
        print(f"[tf1 rd{seed}] Epoch {epoch} | time = {time.time() - begin:.0f}s", flush=True)

        if (epoch + 1) % FLAGS.every and epoch + 1 != FLAGS.nb_epochs:
            continue
        # No scoring network has batch normalisation or dropout at inference,
        # so the chunk size changes only the last bits.
        chunks = [
            session.run(scores, {x: splits.x_test[start:start + 10_000]})
            for start in range(0, len(splits.x_test), 10_000)
        ]
        for name in SCORES:
            values = np.concatenate([chunk[name] for chunk in chunks])
            threshold = np.percentile(values, splits.test_percentile)
            metrics = binary_metrics(splits.y_test, values, threshold)
            writer.writerow({
                "dataset": FLAGS.dataset, "scale": FLAGS.scale, "enable_dzz": FLAGS.enable_dzz,
                "rd": seed, "epoch": epoch + 1, "score": name,
                **{key: f"{metrics[key]:.4f}" for key in ("precision", "recall", "f1", "auroc")},
                "training_seconds": f"{seconds:.0f}",
            })
            print(f"[tf1 rd{seed}] epoch {epoch + 1} {name}: F1 = {metrics['f1']:.4f} | "
                  f"AUROC = {metrics['auroc']:.4f}", flush=True)
    session.close()


def main(argv):
    del argv
    output = Path(FLAGS.output)
    if output.exists():
        raise SystemExit(f"Output file {output} already exists. Pass another --output or remove it.")
    if FLAGS.dataset not in SPECS:
        raise SystemExit(f"Invalid --dataset {FLAGS.dataset!r}. Expected one of: {', '.join(SPECS)}.")

    import tensorflow as tf

    from alad_tf.data import load_dataset

    tf.compat.v1.disable_eager_execution()
    splits = load_dataset(FLAGS.dataset, data_dir=FLAGS.data_dir, scale=FLAGS.scale)
    spec = SPECS[FLAGS.dataset]
    seeds = [int(seed) for seed in FLAGS.rd.split(",")]
    with open(output, "w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        for seed in seeds:
            run_seed(tf, splits, spec, seed, writer)
            handle.flush()


if __name__ == "__main__":
    app.run(main)
