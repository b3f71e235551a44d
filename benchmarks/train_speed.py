"""Measure ALAD or BiGAN training and scoring speed on KDD99.

Prints seconds per training epoch (batch 50, the full 198,361 training rows)
and microseconds per scored test row, with the machine's core count. The
first epoch includes tracing and is reported separately.

Usage:
    python benchmarks/train_speed.py [--model alad] [--data_dir DIR] [--epochs 2] [--intra_op_threads 1]
        [--sn] [--enable_dzz]
"""

import os
import platform
import time

from absl import app, flags

flags.DEFINE_enum("model", "alad", ["alad", "bigan"], "Model to time.")
flags.DEFINE_string("data_dir", None, "Folder holding the KDD99 file.")
flags.DEFINE_integer("epochs", 2, "Epochs to time; the first includes tracing.", lower_bound=2)
flags.DEFINE_integer("intra_op_threads", 1, "TensorFlow intra-op threads; 0 lets TensorFlow choose.")
flags.DEFINE_bool("sn", False, "Spectrally normalise the discriminators, as `main.py --sn`.")
flags.DEFINE_bool("enable_dzz", False, "Add the D_zz cycle term to ALAD's losses, as `main.py --enable_dzz`.")
flags.DEFINE_multi_integer("score_batch_size", [50, 1024], "Scoring chunk sizes to time.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    if FLAGS.enable_dzz and FLAGS.model != "alad":
        raise app.UsageError("--enable_dzz applies to ALAD only. Drop it, or pass --model alad.")
    import keras
    import tensorflow as tf

    if FLAGS.intra_op_threads:
        tf.config.threading.set_intra_op_parallelism_threads(FLAGS.intra_op_threads)

    from alad_tf.data import load_dataset
    from alad_tf.evaluation import Scorer
    from alad_tf.models import build_model
    from alad_tf.training import STEPS_PER_EXECUTION, make_train_dataset

    splits = load_dataset("kdd", data_dir=FLAGS.data_dir)
    keras.utils.set_random_seed(0)
    options = {"enable_dzz": FLAGS.enable_dzz} if FLAGS.model == "alad" else {}
    model, hyperparameters = build_model(
        FLAGS.model, "kdd", splits.num_features, spectral_norm=FLAGS.sn, seed=0, **options
    )
    model.compile(learning_rate=hyperparameters["learning_rate"], steps_per_execution=STEPS_PER_EXECUTION)
    dataset = make_train_dataset(splits.x_train, 50, seed=0)
    steps = len(splits.x_train) // 50

    epoch_seconds = []
    for _ in range(FLAGS.epochs):
        start = time.perf_counter()
        model.fit(dataset, epochs=1, verbose=0)
        epoch_seconds.append(time.perf_counter() - start)

    print(f"model: {FLAGS.model}, sn {FLAGS.sn}, enable_dzz {FLAGS.enable_dzz}")
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, intra-op threads {FLAGS.intra_op_threads or 'default'}")
    print(f"first epoch (with tracing): {epoch_seconds[0]:.1f} s")
    warm = epoch_seconds[1:]
    mean = sum(warm) / len(warm)
    print(
        f"training: {mean:.1f} s per epoch ({1000 * mean / steps:.2f} ms per step, "
        f"{steps} steps of batch 50), min {min(warm):.1f} s over {len(warm)} epochs"
    )

    for batch_size in FLAGS.score_batch_size:
        scorer = Scorer(model, batch_size=batch_size)
        scorer.score(splits.x_test[:batch_size])  # trace
        start = time.perf_counter()
        _, mean_batch = scorer.score(splits.x_test)
        total = time.perf_counter() - start
        print(
            f"scoring, chunks of {batch_size}: {1e6 * total / len(splits.x_test):.2f} us per row "
            f"({len(splits.x_test)} rows in {total:.1f} s, mean {1000 * mean_batch:.2f} ms per chunk)"
        )


if __name__ == "__main__":
    app.run(main)
