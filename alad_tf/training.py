"""Training loop shared by every model and dataset: datasets, callbacks, fit."""

import glob
import json
import math
import os
import shutil
import sys
import time
import warnings

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from alad_tf.tables import count_of

# Training steps run inside one `tf.function` call. Per-batch summaries
# (--enable_sm) need one step per call.
STEPS_PER_EXECUTION = 100

# Early stopping ends training after this many epochs without a lower
# validation score, as the original's counter that must exceed 10.
EARLY_STOP_PATIENCE = 11

# Minimum seconds between two checkpoints, as the original's Supervisor saved
# every 20 s. Saving after every epoch took 0.19 s against 0.06 s of training
# per Arrhythmia epoch, and made a 700-epoch run 3.3 times slower.
CHECKPOINT_INTERVAL = 20


def make_train_dataset(x, batch_size, seed):
    """Zip two independently shuffled copies of `x`, batched without the last partial batch.

    The discriminators train on batches of the first copy, the generator and
    encoder on batches of the second, and both copies are reshuffled every
    epoch, as in the original.
    """
    if len(x) < batch_size:
        raise ValueError(
            f"The training split has {len(x)} rows, fewer than one batch of "
            f"{batch_size}. Pass a smaller --batch_size."
        )
    rows = tf.constant(x)
    indices = tf.data.Dataset.range(len(x))

    # Shuffling row indices and gathering each batch gives the same batches
    # as shuffling the rows, because the order depends only on the seed and
    # the buffer size. The pipeline alone took 0.31 instead of 0.68 ms per
    # KDD99 step on 2 cores.
    def shuffled(copy_seed):
        return indices.shuffle(len(x), seed=copy_seed, reshuffle_each_iteration=True).batch(
            batch_size, drop_remainder=True
        )

    def gather_batches(indices_dis, indices_gen):
        return tf.gather(rows, indices_dis), tf.gather(rows, indices_gen)

    # With tf.data autotuning on, about half the KDD99 epochs on 2 cores ran
    # at a fixed 20.5 s instead of 9 to 16 s, with or without spectral
    # normalisation. With a fixed one-batch prefetch, none of 24 measured
    # epochs did. The pipeline is 8 times faster than a training step, so
    # there is nothing to tune.
    options = tf.data.Options()
    options.autotune.enabled = False
    return (
        tf.data.Dataset.zip(shuffled(seed), shuffled(seed + 1))
        .map(gather_batches)
        .prefetch(1)
        .with_options(options)
    )


def make_eval_dataset(x, batch_size):
    return tf.data.Dataset.from_tensor_slices(x).batch(batch_size)


class EpochLogger(keras.callbacks.Callback):
    """Log one line per epoch in the format of the original code.

    For ALAD: `Epoch N | time = Ns | loss gen = … | loss enc = … | loss dis = …
    | loss dis xz = … | loss dis xx = …`, plus `| loss dis zz = …` when the
    D_zz term is enabled. Epochs count from 0, as in the original.

    Args:
        run_name: Name of the run, prefixed to each line.
        fields: List of `(label, log key)` pairs printed after the time.
    """

    def __init__(self, run_name, fields):
        super().__init__()
        self.run_name = run_name
        self.fields = fields
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        elapsed = time.time() - self._start
        parts = [f"Epoch {epoch} | time = {elapsed:.0f}s"]
        parts += [f"{label} = {logs[key]:.4f}" for label, key in self.fields if key in logs]
        if "val_" + self.model.validation_tracker.name in logs:
            parts.append(
                f"valid {self.model.validation_score} = "
                f"{logs['val_' + self.model.validation_tracker.name]:.4f}"
            )
        logging.info("[%s] %s", self.run_name, " | ".join(parts))


class TrainingProgress(keras.callbacks.Callback):
    """Show one `keras.utils.Progbar` over all training steps of a run, with the player losses.

    The bar advances after every `tf.function` call (up to
    `STEPS_PER_EXECUTION` steps) and starts at the resumed epoch of a resumed
    run. It writes to standard output, while the per-epoch lines of
    `EpochLogger` go to the log. `train` adds it only when `redraws_lines()`
    returns true.

    Args:
        epochs: Total number of epochs.
        steps_per_epoch: Training steps per epoch.
        fields: List of `(label, log key)` pairs shown after the bar.
    """

    def __init__(self, epochs, steps_per_epoch, fields):
        super().__init__()
        self.steps_per_epoch = steps_per_epoch
        self.keys = [key for _, key in fields]
        self.progbar = keras.utils.Progbar(
            epochs * steps_per_epoch, stateful_metrics=self.keys, unit_name="step"
        )
        self._epoch_start = 0
        self._step = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = epoch * self.steps_per_epoch

    def on_train_batch_end(self, batch, logs=None):
        self._step = self._epoch_start + min(batch + 1, self.steps_per_epoch)
        values = [(key, float(logs[key])) for key in self.keys if logs and key in logs]
        self.progbar.update(self._step, values, finalize=False)

    def on_train_end(self, logs=None):
        # Early stopping ends before the target, so finalize explicitly to end the line.
        if self._step is not None:
            self.progbar.update(self._step, finalize=True)


class ReconstructionImages(keras.callbacks.Callback):
    """Write input images and their EMA reconstructions G(E(x)) to TensorBoard each epoch.

    Args:
        log_dir: Folder of the event file.
        images: A few images scaled to [-1, 1], shape `(n, height, width, channels)`.
    """

    def __init__(self, log_dir, images):
        super().__init__()
        self.images = tf.constant(images, tf.float32)
        self.writer = tf.summary.create_file_writer(log_dir)

    def on_epoch_end(self, epoch, logs=None):
        reconstructions = self.model.reconstruct(self.images)
        with self.writer.as_default():
            tf.summary.image("input_images", (self.images + 1.0) / 2.0, step=epoch, max_outputs=8)
            tf.summary.image("reconstruct", (reconstructions + 1.0) / 2.0, step=epoch, max_outputs=8)
        self.writer.flush()

    def on_train_end(self, logs=None):
        self.writer.close()


class TrainingDiverged(ValueError):
    """Raised when a logged loss or validation score becomes NaN or infinite.

    Attributes:
        name: Name of the first non-finite log, for example `loss_dis_xx`.
        epoch: Epoch in which it happened, 0-based.
    """

    def __init__(self, name, epoch):
        super().__init__(f"Training diverged: {name} is not finite in epoch {epoch}.")
        self.name = name
        self.epoch = epoch


class StopOnNonFinite(keras.callbacks.Callback):
    """Raise `TrainingDiverged` at the first non-finite training log.

    `keras.callbacks.TerminateOnNaN` checks only `logs["loss"]`, which these
    models do not log (they log one value per loss term), so it never stops
    them. This callback checks every log after each `fit` step call and at
    each epoch end. It raises instead of setting `stop_training`, so that no
    later callback saves the diverged weights as a checkpoint. Place it
    before `CheckpointBackup`.
    """

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self._check(logs)

    def on_epoch_end(self, epoch, logs=None):
        self._check(logs)

    def _check(self, logs):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                raise TrainingDiverged(name, self._epoch)


class CheckpointBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that saves at most every `interval` seconds and keeps the previous checkpoint.

    An epoch that ends less than `interval` seconds after the last save is
    saved only if it is the last one trained. So an interrupt (Ctrl-C) loses
    at most `interval` seconds of training plus the epoch in progress.

    An interrupt during a save leaves a partly written weights file. Keras
    then raises `ValueError` while loading, and its own fallback only
    catches `OSError`, so this class catches both and falls back to the
    previous checkpoint.

    Args:
        backup_dir: Folder of the checkpoint files.
        interval: Minimum seconds between two saves. 0 saves after every
            epoch. Defaults to `CHECKPOINT_INTERVAL`.
        run_name: Name used in log lines. Defaults to `"run"`.
        state: A `ResumableEarlyStopping` whose state is saved with each
            checkpoint and restored with it. Defaults to `None`.
    """

    def __init__(self, backup_dir, interval=CHECKPOINT_INTERVAL, run_name="run", state=None):
        super().__init__(backup_dir, double_checkpoint=True, delete_checkpoint=False)
        self.interval = interval
        self.run_name = run_name
        self.state = state
        self._last_save = None
        self._unsaved = False
        # Finished epochs in the checkpoint on disk, None before the first one.
        self.saved_epochs = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._last_save = time.monotonic()
        self._unsaved = False
        # A checkpoint always contains at least one finished epoch.
        self.saved_epochs = checkpoint_epochs(self.backup_dir) or None
        if self.saved_epochs is not None and self.state is not None:
            self.state.restore_state(self.backup_dir, self.saved_epochs)
        if self.saved_epochs is not None:
            finished = count_of(self.saved_epochs, "finished epoch")
            if self.saved_epochs >= self.params.get("epochs", 0):
                logging.info(
                    "[%s] Resuming from the checkpoint in %s: %s, so no epoch is left to "
                    "train.", self.run_name, self.backup_dir, finished,
                )
            else:
                logging.info(
                    "[%s] Resuming from the checkpoint in %s: %s, continuing with epoch %d.",
                    self.run_name, self.backup_dir, finished, self.saved_epochs,
                )

    def resume_point(self):
        """Describe where a resumed run would continue, for an interrupt message."""
        if self.saved_epochs is None:
            return (
                f"No checkpoint was saved yet (the first is written {self.interval:g} s "
                f"after training starts), so resuming starts training again."
            )
        return (
            f"The checkpoint in {self.backup_dir} contains "
            f"{count_of(self.saved_epochs, 'finished epoch')}, so resuming continues from "
            f"epoch {self.saved_epochs}."
        )

    def _save_model(self):
        # Keras calls this after every epoch (save_freq="epoch").
        if time.monotonic() - self._last_save < self.interval:
            self._unsaved = True
            return
        self._save_now()

    def _save_now(self):
        # The state first: an interrupt before the weights leaves the state of
        # the previous checkpoint, which is kept until the next save.
        if self.state is not None:
            self.state.save_state(self.backup_dir, self._current_epoch)
        super()._save_model()
        self._last_save = time.monotonic()
        self._unsaved = False
        previous, self.saved_epochs = self.saved_epochs, self._current_epoch
        if self.state is not None:
            # Keras keeps the previous checkpoint as a fallback, so its state stays too.
            self.state.prune_states(self.backup_dir, {previous, self.saved_epochs})

    def on_train_end(self, logs=None):
        if self._unsaved:
            self._save_now()
        super().on_train_end(logs)

    def _load_model(self):
        try:
            super()._load_model()
        except (OSError, ValueError):
            if not os.path.exists(self._prev_weights_path):
                raise
            logging.warning(
                "The latest checkpoint in %s cannot be read, probably because a save was "
                "interrupted. Resuming from the checkpoint saved before it.",
                self.backup_dir,
            )
            shutil.copy(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copy(self._prev_training_metadata_path, self._training_metadata_path)
            super()._load_model()


def checkpoint_epochs(checkpoint_dir):
    """Return the number of finished epochs in the checkpoint of `checkpoint_dir`, 0 if none."""
    metadata = os.path.join(checkpoint_dir, "training_metadata.json")
    if not os.path.exists(metadata):
        return 0
    with open(metadata) as handle:
        return int(json.load(handle)["epoch"])


def drop_resumed_summaries(log_dir, epochs, steps_per_epoch, iterations):
    """Remove from `log_dir` the TensorBoard events written after a checkpoint.

    A run interrupted after its last checkpoint has event files with epochs
    that the resumed run trains and logs again. TensorBoard would show both,
    and the curves would jump back. The event files are TFRecord files of
    `Event` protos, so each affected file is rewritten without those events,
    in one rename.

    Args:
        log_dir: Folder of event files, such as `<run>/train`.
        epochs: Finished epochs in the checkpoint. Per-epoch events
            (`epoch_*`) at this step (0-based epoch) or later are removed.
        steps_per_epoch: Training steps per epoch. Per-batch events
            (`batch_*`, 1-based steps) after `epochs * steps_per_epoch` are
            removed.
        iterations: The optimizer's iteration count in the checkpoint.
            Validation events against iterations (`evaluation_*`) after it
            are removed.

    Returns:
        The number of events removed.
    """
    last_kept = {
        "epoch_": epochs - 1,
        "batch_": epochs * steps_per_epoch,
        "evaluation_": iterations,
    }

    def written_later(event):
        return any(
            value.tag.startswith(prefix) and event.step > step
            for value in event.summary.value
            for prefix, step in last_kept.items()
        )

    removed = 0
    for path in sorted(glob.glob(os.path.join(log_dir, "events.out.tfevents.*"))):
        records = [record.numpy() for record in tf.data.TFRecordDataset(path)]
        remaining = [
            record for record in records
            if not written_later(tf.compat.v1.Event.FromString(record))
        ]
        if len(remaining) == len(records):
            continue
        partial = path + ".partial"
        with tf.io.TFRecordWriter(partial) as writer:
            for record in remaining:
                writer.write(record)
        os.replace(partial, path)
        removed += len(records) - len(remaining)
    return removed


class ResumableTensorBoard(keras.callbacks.TensorBoard):
    """`keras.callbacks.TensorBoard` whose steps continue where a checkpoint ends.

    Keras counts the per-batch steps from 0 again in every `fit` call. Say
    `backup` has restored a checkpoint of N finished epochs. This callback
    first removes the events that an interrupted run wrote after that
    checkpoint (`drop_resumed_summaries`). It then counts the per-batch
    steps from N * `steps_per_epoch`, so each epoch and batch appears once.

    Args:
        log_dir: Folder of the event files, as for `keras.callbacks.TensorBoard`.
        backup: The run's `CheckpointBackup`, placed before this callback.
        steps_per_epoch: Training steps per epoch.
        run_name: Name used in log lines.
        **kwargs: Passed to `keras.callbacks.TensorBoard`.
    """

    def __init__(self, log_dir, backup, steps_per_epoch, run_name, **kwargs):
        super().__init__(log_dir, **kwargs)
        self.backup = backup
        self.steps_per_epoch = steps_per_epoch
        self.run_name = run_name

    def on_train_begin(self, logs=None):
        epochs = self.backup.saved_epochs or 0
        if epochs:
            iterations = int(self.model.optimizer.iterations.numpy())
            removed = sum(
                drop_resumed_summaries(
                    os.path.join(self.log_dir, folder), epochs, self.steps_per_epoch, iterations
                )
                for folder in ("train", "validation")
            )
            if removed:
                logging.info(
                    "[%s] Removed %d TensorBoard events written after the checkpoint of "
                    "epoch %d, which this run logs again.", self.run_name, removed, epochs,
                )
        super().on_train_begin(logs)
        # Keras keeps the per-batch step in this private counter and resets it
        # to 0 here; a summary is written at the counter plus one.
        self._global_train_batch = epochs * self.steps_per_epoch


def _replace_file(path, write):
    """Write a file with `write(handle)` and move it to `path` in one rename."""
    partial = path + ".partial"
    with open(partial, "wb") as handle:
        write(handle)
    os.replace(partial, path)


# File in the checkpoint folder with the per-epoch logs of every epoch trained.
HISTORY_FILE = "history.json"


class HistoryBackup(keras.callbacks.Callback):
    """Write the per-epoch logs of every epoch trained so far to `HISTORY_FILE` after each epoch.

    A run stopped by Ctrl-C writes no summary, so a resumed run reads its
    earlier losses from this file (`read_history`). The file of a resumed
    run keeps the epochs before the resume. It is replaced in one rename,
    so an interrupt leaves the previous version whole.

    Args:
        backup_dir: Folder of the file, the checkpoint folder.
    """

    def __init__(self, backup_dir):
        super().__init__()
        self.path = os.path.join(backup_dir, HISTORY_FILE)
        self.history = {}

    def on_train_begin(self, logs=None):
        # Read once: the earlier epochs of a resumed run.
        self.history = read_history(os.path.dirname(self.path))

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            values = self.history.setdefault(name, [])
            # Drop the epochs from `epoch` on, which an interrupt after this
            # file but before the checkpoint can leave behind.
            values[epoch:] = [float(value)]
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        _replace_file(self.path, lambda handle: handle.write(json.dumps(self.history).encode()))


def read_history(checkpoint_dir):
    """Return the per-epoch logs that `HistoryBackup` wrote in `checkpoint_dir`, or `{}`."""
    path = os.path.join(checkpoint_dir, HISTORY_FILE)
    if not os.path.exists(path):
        return {}
    with open(path) as handle:
        return json.load(handle)


# Folder in the checkpoint folder with the early-stopping state of each of
# the last two checkpoints (`epochs_<N>.json`) and the best weights that
# they name.
EARLY_STOP_DIR = "early_stopping"


def read_early_stop_state(checkpoint_dir, epochs=None):
    """Return the early-stopping state saved with a checkpoint, or `None`.

    Args:
        checkpoint_dir: The run's checkpoint folder.
        epochs: Finished epochs of the checkpoint. Defaults to `None`, the
            checkpoint now in `checkpoint_dir`.
    """
    if epochs is None:
        epochs = checkpoint_epochs(checkpoint_dir)
    if not epochs:
        return None
    path = os.path.join(checkpoint_dir, EARLY_STOP_DIR, f"epochs_{epochs}.json")
    if not os.path.exists(path):
        return None
    with open(path) as handle:
        return json.load(handle)


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` whose state the run's `CheckpointBackup` saves and restores.

    Keras resets the patience counter, the best value and the best weights
    at the start of every `fit`, so a resumed run would forget the best
    epoch before the resume and train a stopped run again. The backup given
    this callback as `state` calls `save_state` just before it writes each
    checkpoint, and `restore_state` when `fit` starts from a checkpoint, so
    the state always belongs to the checkpoint's epoch.

    It must come before the backup in the callback list, so that the state
    of an epoch is complete when the backup saves it. For the same reason,
    it does not restore the best weights at the end of `fit`, which would
    put them in the last checkpoint: call `restore_best` after `fit`.

    Args:
        run_name: Name used in log lines.
        **kwargs: Passed to `keras.callbacks.EarlyStopping`, with
            `restore_best_weights=True`.
    """

    def __init__(self, run_name, **kwargs):
        super().__init__(restore_best_weights=True, **kwargs)
        self.run_name = run_name
        self._weights_name = None

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._weights_name = None

    def on_train_end(self, logs=None):
        # `restore_best` restores the best weights after `fit` instead.
        pass

    def restore_best(self):
        """Set the model's weights to the best epoch's, if an epoch was scored."""
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)

    def save_state(self, checkpoint_dir, epochs):
        """Write the state as of `epochs` finished epochs, and the best weights if they changed."""
        if self.best_weights is None:
            return
        folder = os.path.join(checkpoint_dir, EARLY_STOP_DIR)
        os.makedirs(folder, exist_ok=True)
        if self._weights_name is None or not self._weights_name.startswith(
            f"best_epoch_{self.best_epoch}_"
        ):
            # Named by the save too, so that a run resumed from an older
            # checkpoint never overwrites weights that a kept state names.
            self._weights_name = f"best_epoch_{self.best_epoch}_saved_{epochs}.npz"
            _replace_file(
                os.path.join(folder, self._weights_name),
                lambda handle: np.savez(handle, *self.best_weights),
            )
        state = {
            "epochs": epochs, "wait": self.wait, "best": float(self.best),
            "best_epoch": self.best_epoch, "stopped_epoch": self.stopped_epoch,
            "weights": self._weights_name,
        }
        _replace_file(
            os.path.join(folder, f"epochs_{epochs}.json"),
            lambda handle: handle.write(json.dumps(state).encode()),
        )

    def prune_states(self, checkpoint_dir, kept_epochs):
        """Remove the states of checkpoints other than `kept_epochs`, and weights no kept state names."""
        folder = os.path.join(checkpoint_dir, EARLY_STOP_DIR)
        if not os.path.isdir(folder):
            return
        kept_files = {f"epochs_{epochs}.json" for epochs in kept_epochs if epochs}
        weights_files = set()
        for name in os.listdir(folder):
            if name.startswith("epochs_") and name not in kept_files:
                os.remove(os.path.join(folder, name))
        for name in kept_files:
            path = os.path.join(folder, name)
            if os.path.exists(path):
                with open(path) as handle:
                    weights_files.add(json.load(handle)["weights"])
        for name in os.listdir(folder):
            if name.endswith(".npz") and name not in weights_files:
                os.remove(os.path.join(folder, name))

    def restore_state(self, checkpoint_dir, epochs):
        """Restore the state saved with the checkpoint of `epochs` finished epochs."""
        state = read_early_stop_state(checkpoint_dir, epochs)
        weights_path = None if state is None else os.path.join(
            checkpoint_dir, EARLY_STOP_DIR, state["weights"]
        )
        if weights_path is None or not os.path.exists(weights_path):
            logging.warning(
                "[%s] The checkpoint of %s has no early-stopping state, so patience and the "
                "best epoch start again from epoch %d.",
                self.run_name, count_of(epochs, "finished epoch"), epochs,
            )
            return
        self.wait = state["wait"]
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.stopped_epoch = state["stopped_epoch"]
        with np.load(weights_path) as saved:
            self.best_weights = [saved[f"arr_{index}"] for index in range(len(saved.files))]
        self._weights_name = state["weights"]


def redraws_lines(stream=None):
    """Return whether `stream` (default: standard output) shows a redrawn progress bar as one line.

    This is true for a terminal and for a Jupyter notebook. A file or a pipe
    would instead keep every redraw of `keras.utils.Progbar`, with its
    carriage returns and ANSI colour codes, because Keras 3.15 redraws on
    every POSIX system whatever the output is.
    """
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty is not None and isatty()) or "ipykernel" in sys.modules


def log_fields(model):
    """Return the `(label, log key)` pairs of the per-epoch line of `model`."""
    fields = [
        ("loss gen", "loss_generator"),
        ("loss enc", "loss_encoder"),
        ("loss dis", "loss_discriminator"),
    ]
    if "loss_dis_xz" in model.loss_trackers:
        fields += [("loss dis xz", "loss_dis_xz"), ("loss dis xx", "loss_dis_xx")]
    # ALAD tracks the D_zz losses only with --enable_dzz.
    if "loss_dis_zz" in model.loss_trackers:
        fields.append(("loss dis zz", "loss_dis_zz"))
    return fields


def train(
    model,
    x_train,
    epochs,
    batch_size,
    seed,
    checkpoint_dir,
    tensorboard_dir,
    run_name,
    x_valid=None,
    early_stop=False,
    batch_summaries=False,
    extra_callbacks=(),
    progress=False,
    checkpoint_interval=CHECKPOINT_INTERVAL,
):
    """Train `model` with `keras.Model.fit` and the project's callbacks.

    Args:
        model: A compiled `AdversarialDetector`.
        x_train: Training rows.
        epochs: Total number of epochs. A resumed run continues up to it.
        batch_size: Rows per training step.
        seed: Seed of the two shuffled copies of the training data.
        checkpoint_dir: Folder of the `keras.callbacks.BackupAndRestore`
            checkpoint, written after an epoch when `checkpoint_interval`
            seconds have passed since the last save, and after the last
            epoch. If it already contains a checkpoint, training resumes
            from it.
        tensorboard_dir: Folder of the TensorBoard event files.
        run_name: Name used in log lines.
        x_valid: Validation rows, scored each epoch. Defaults to `None`.
        early_stop: Whether to stop when the validation score has not
            decreased for 11 epochs, restoring the best weights. Needs
            `x_valid`. Defaults to `False`.
        batch_summaries: Whether TensorBoard also gets per-batch scalars.
            Defaults to `False`.
        extra_callbacks: More Keras callbacks. Defaults to none.
        progress: Whether to show a progress bar of the training steps on
            standard output. It is shown only when standard output is a
            terminal or a notebook (`redraws_lines`), since the per-epoch
            log lines already give the progress. Defaults to `False`.
        checkpoint_interval: Minimum seconds between two checkpoints. 0
            saves after every epoch. Defaults to `CHECKPOINT_INTERVAL`.

    Returns:
        A dict with `history` (the Keras history dict), `initial_epoch`,
        `epochs_run` and `epoch_used` (the epoch whose weights the model has
        at the end, 0-based, or -1 if no epoch was ever trained). Resuming a
        run that early stopping ended trains no epoch and restores its best
        weights.

    Raises:
        TrainingDiverged: A loss or the validation score became NaN or
            infinite. The checkpoint, if any, is from an earlier epoch.
    """
    if early_stop and x_valid is None:
        raise ValueError("Early stopping needs validation rows (x_valid).")

    validation_data = None if x_valid is None else make_eval_dataset(x_valid, batch_size)
    stopper = None
    if early_stop:
        # The best weights are restored after training, stopped early or not.
        stopper = ResumableEarlyStopping(
            run_name,
            monitor=f"val_{model.validation_tracker.name}",
            mode="min",
            patience=EARLY_STOP_PATIENCE,
            verbose=0,
        )
        state = read_early_stop_state(checkpoint_dir)
        if state is not None and state["stopped_epoch"]:
            # Early stopping ended this run, so a resume only restores its best weights.
            # NOTE: config.json still records a larger --nb_epochs passed on resume, so
            # the report lists the run with runs of that value.
            epochs = state["epochs"]
    backup = CheckpointBackup(
        checkpoint_dir, interval=checkpoint_interval, run_name=run_name, state=stopper
    )
    steps_per_epoch = len(x_train) // batch_size
    callbacks = [
        # First, so that a diverged epoch is never saved or logged as finished.
        StopOnNonFinite(),
        # Before the checkpoint, so that the file contains every epoch of the checkpoint.
        HistoryBackup(checkpoint_dir),
        # Before the checkpoint, which saves the early-stopping state of the epoch.
        *([stopper] if stopper is not None else []),
        backup,
        EpochLogger(run_name, log_fields(model)),
        # After the checkpoint, which it reads to continue the steps.
        ResumableTensorBoard(
            tensorboard_dir, backup, steps_per_epoch, run_name,
            update_freq=1 if batch_summaries else "epoch", write_graph=False,
        ),
        *extra_callbacks,
    ]
    if progress and epochs > 0 and redraws_lines():
        # The bar shows the three player losses; the log lines have every term.
        callbacks.append(TrainingProgress(epochs, steps_per_epoch, log_fields(model)[:3]))

    with warnings.catch_warnings():
        # The datasets are shuffled by make_train_dataset, which Keras cannot see.
        warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
        try:
            history = model.fit(
                make_train_dataset(x_train, batch_size, seed),
                epochs=epochs,
                validation_data=validation_data,
                callbacks=callbacks,
                verbose=0,
            )
        except KeyboardInterrupt:
            logging.warning("[%s] Training interrupted. %s", run_name, backup.resume_point())
            raise
    if stopper is not None:
        stopper.restore_best()
    # A resumed run starts at the epoch after its checkpoint.
    initial_epoch = history.epoch[0] if history.epoch else epochs
    epochs_run = len(history.epoch)
    epoch_used = history.epoch[-1] if history.epoch else checkpoint_epochs(checkpoint_dir) - 1
    if stopper is not None and stopper.best_weights is not None:
        epoch_used = stopper.best_epoch
        stopped = (
            f"stopped after epoch {stopper.stopped_epoch}" if stopper.stopped_epoch
            else "did not stop training early"
        )
        logging.info(
            "[%s] Early stopping %s. Scoring with the weights of epoch %d (counted from 0), "
            "the best of the epochs run (valid %s = %.4f)",
            run_name, stopped, epoch_used, model.validation_score, stopper.best,
        )
    return {
        "history": history.history,
        "initial_epoch": initial_epoch,
        "epochs_run": epochs_run,
        "epoch_used": epoch_used,
    }
