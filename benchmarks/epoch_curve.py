"""Score the test set every few epochs of one training run, for each seed.

Trains exactly as `python main.py MODEL run` does (same seeding, data
pipeline, optimizers and checkpoints), and after every `--every` epochs scores
the test set with the EMA networks and the reference threshold rule. The
resulting table shows how F1 moves with training length, which is what a
per-dataset default number of epochs has to be chosen from. Scoring does not
draw random numbers, so the weights after epoch N equal those of a run with
`--nb_epochs N`.

Usage:
    python benchmarks/epoch_curve.py --model bigan --dataset kdd --rd 1,2,3 \
        --nb_epochs 40 --every 2 --output curve.csv

Writes one CSV row per seed, epoch and score with precision, recall, F1,
AUROC, AUPRC (the MNIST measure of the reference) and the training seconds
spent so far.
"""

import csv
import os
import tempfile
import time
from pathlib import Path

from absl import app, flags

flags.DEFINE_string("model", "alad", "Model to train: alad or bigan.")
flags.DEFINE_string("dataset", "kdd", "Dataset: kdd, arrhythmia or mnist.")
flags.DEFINE_string("rd", "1,2,3", "Comma-separated seeds, one training run each.")
flags.DEFINE_integer("nb_epochs", 20, "Epochs per run.", lower_bound=1)
flags.DEFINE_integer("every", 1, "Score the test set after every this many epochs.", lower_bound=1)
flags.DEFINE_integer("label", 0, "--label of the run (the anomalous digit for mnist).")
flags.DEFINE_string("data_dir", None, "Folder holding the dataset files.")
flags.DEFINE_bool("scale", None, "MinMax-scale tabular features, as --scale; default: the dataset's.")
flags.DEFINE_float("learning_rate", None, "Learning rate; defaults to the reference value.")
flags.DEFINE_bool("sn", False, "Spectral normalisation on the discriminators, as --sn.")
flags.DEFINE_bool("enable_dzz", False, "D_zz cycle term for ALAD, as --enable_dzz.")
flags.DEFINE_integer("intra_op_threads", 1, "TensorFlow intra-op threads, 1 as the command line.")
flags.DEFINE_string("output", "epoch_curve.csv", "CSV file to write; an existing file is kept.")
FLAGS = flags.FLAGS

METRICS = ("precision", "recall", "f1", "auroc", "auprc")

FIELDS = [
    "model", "dataset", "scale", "sn", "enable_dzz", "rd", "epoch", "score",
    "precision", "recall", "f1", "auroc", "auprc", "training_seconds",
]


def main(argv):
    del argv
    output = Path(FLAGS.output)
    if output.exists():
        raise SystemExit(f"Output file {output} already exists. Pass another --output or remove it.")

    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.intra_op_threads)

    from alad_tf import evaluation, training
    from alad_tf.experiment import RunConfig, default_epochs, prepare_experiment
    from alad_tf.experiments import parse_seeds

    class TestScoring(keras.callbacks.Callback):
        """Score the test set after every `every` epochs and keep the metrics."""

        def __init__(self, seed, splits, every, writer, handle, scorer_batch=1024):
            super().__init__()
            self.seed, self.splits, self.every, self.writer = seed, splits, every, writer
            self.handle = handle
            self.scorer_batch = scorer_batch
            self.train_seconds = 0.0
            self.epoch_start = None

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.train_seconds += time.perf_counter() - self.epoch_start
            if (epoch + 1) % self.every:
                return
            scores, _ = evaluation.Scorer(self.model, self.scorer_batch).score(self.splits.x_test)
            metrics = evaluation.evaluate_scores(
                self.splits.y_test, scores, "test_percentile", self.splits.test_percentile
            )
            summary = []
            for name, values in metrics.items():
                self.writer.writerow({
                    "model": FLAGS.model, "dataset": FLAGS.dataset,
                    "scale": "default" if FLAGS.scale is None else int(FLAGS.scale), "sn": int(FLAGS.sn),
                    "enable_dzz": int(FLAGS.enable_dzz), "rd": self.seed,
                    "epoch": epoch + 1, "score": name,
                    **{key: f"{values[key]:.4f}" for key in METRICS},
                    "training_seconds": f"{self.train_seconds:.1f}",
                })
                summary.append(f"{name} F1 {values['f1']:.4f} AUPRC {values['auprc']:.4f}")
            # A curve stopped part-way keeps the rows it has scored.
            self.handle.flush()
            print(
                f"{FLAGS.model}.{FLAGS.dataset} rd{self.seed} epoch {epoch + 1} "
                f"({self.train_seconds:.0f} s training): {', '.join(summary)}",
                flush=True,
            )

    with output.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, FIELDS)
        writer.writeheader()
        for seed in parse_seeds(FLAGS.rd):
            # The run's own preparation, so that epoch N gives the weights of
            # `--nb_epochs N --rd seed`.
            config, splits, model, _ = prepare_experiment(RunConfig(
                model=FLAGS.model, dataset=FLAGS.dataset, rd=seed, label=FLAGS.label,
                data_dir=FLAGS.data_dir, scale=FLAGS.scale, learning_rate=FLAGS.learning_rate,
                nb_epochs=FLAGS.nb_epochs, sn=FLAGS.sn, enable_dzz=FLAGS.enable_dzz,
            ))
            default = default_epochs(
                config.model, config.dataset, len(splits.x_train), config.batch_size
            )
            print(f"rd{seed}: {config.nb_epochs} epochs; the default is {default}", flush=True)
            with tempfile.TemporaryDirectory() as scratch:
                training.train(
                    model, splits.x_train, epochs=config.nb_epochs, batch_size=config.batch_size,
                    seed=seed, checkpoint_dir=os.path.join(scratch, "checkpoints"),
                    tensorboard_dir=scratch, run_name=f"{FLAGS.model}.{FLAGS.dataset}.rd{seed}",
                    extra_callbacks=[TestScoring(seed, splits, FLAGS.every, writer, handle)],
                )


if __name__ == "__main__":
    app.run(main)
