import dataclasses
import io
import json
import logging
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from alad_tf import training
from alad_tf.evaluation import Scorer, binary_metrics
from alad_tf.experiment import RunConfig, run_experiment
from alad_tf.models import build_model

LOSS_TERMS = (
    "loss_generator", "loss_encoder", "loss_discriminator", "loss_dis_xz", "loss_dis_xx",
    "loss_encgen_dxx",
)
# Logged, written to TensorBoard and plotted only with --enable_dzz.
DZZ_TERMS = ("loss_dis_zz", "loss_encgen_dzz")


def read_scalars(folder):
    """Return {tag: [(step, value), ...]} from the TensorBoard event files in `folder`."""
    accumulator = EventAccumulator(str(folder), size_guidance={"tensors": 0, "scalars": 0})
    accumulator.Reload()
    scalars = {}
    for tag in accumulator.Tags()["tensors"]:
        scalars[tag] = [
            (event.step, float(tf.make_ndarray(event.tensor_proto)))
            for event in accumulator.Tensors(tag)
        ]
    for tag in accumulator.Tags()["scalars"]:
        scalars[tag] = [(event.step, event.value) for event in accumulator.Scalars(tag)]
    return scalars


def test_tensorboard_epoch_and_test_scalars(cli_run):
    run_dir = cli_run["run_dir"]
    train = read_scalars(run_dir / "train")
    for term in LOSS_TERMS:
        events = train[f"epoch_{term}"]
        assert [step for step, _ in events] == [0, 1], term
        assert all(np.isfinite(value) for _, value in events)
    for term in DZZ_TERMS:
        assert f"epoch_{term}" not in train
    test = read_scalars(run_dir / "test")
    for score in ("ch", "l1", "l2", "fm"):
        for key in ("precision", "recall", "f1", "auroc"):
            assert test[f"test/{score}/{key}"][0][0] == 2 * 3967
    summary = json.loads((run_dir / "summary.json").read_text())
    assert test["test/fm/f1"][0][1] == pytest.approx(summary["metrics"]["fm"]["f1"], rel=1e-6)


def test_batch_summaries_have_increasing_steps(kdd_splits, tmp_path):
    keras.utils.set_random_seed(5)
    model, _ = build_model("alad", "kdd", 121, seed=5)
    model.compile(learning_rate=1e-5, steps_per_execution=1)
    training.train(
        model, kdd_splits.x_train[:500], epochs=2, batch_size=50, seed=5,
        checkpoint_dir=str(tmp_path / "checkpoints"), tensorboard_dir=str(tmp_path),
        run_name="test", batch_summaries=True,
    )
    events = read_scalars(tmp_path / "train")["batch_loss_generator"]
    steps = [step for step, _ in events]
    assert len(steps) == 20
    assert steps == sorted(set(steps))


def test_early_stopping_restores_best_epoch(kdd_splits_with_validation, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="absl")
    splits = kdd_splits_with_validation
    keras.utils.set_random_seed(6)
    model, _ = build_model("alad", "kdd", 121, seed=6)
    model.compile(learning_rate=1e-3)
    result = training.train(
        model, splits.x_train[:2000], epochs=3, batch_size=50, seed=6,
        checkpoint_dir=str(tmp_path / "checkpoints"), tensorboard_dir=str(tmp_path),
        run_name="test", x_valid=splits.x_valid[:1000], early_stop=True,
    )
    history = result["history"]["val_score_fm"]
    assert result["epoch_used"] == int(np.argmin(history))
    scores, _ = Scorer(model, batch_size=1000).score(splits.x_valid[:1000])
    assert float(np.mean(scores["fm"])) == pytest.approx(min(history), rel=1e-4)
    validation = read_scalars(tmp_path / "validation")
    assert [step for step, _ in validation["epoch_score_fm"]] == [0, 1, 2]
    # 3 epochs are fewer than the patience, so training ran to the end.
    assert (
        f"[test] Early stopping did not stop training early. Scoring with the weights of "
        f"epoch {result['epoch_used']} (counted from 0), the best of the epochs run"
    ) in caplog.text


def test_resume_keeps_early_stopping_state(kdd_splits_with_validation, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="absl")
    monkeypatch.setattr(training, "EARLY_STOP_PATIENCE", 1)
    splits = kdd_splits_with_validation

    def fit(epochs):
        keras.utils.set_random_seed(6)
        model, _ = build_model("alad", "kdd", 121, seed=6)
        # Without averaging, the validation score is noisy enough to stop early.
        model.ema_decay = 0.0
        model.compile(learning_rate=1e-2)
        result = training.train(
            model, splits.x_train[:500], epochs=epochs, batch_size=50, seed=6,
            checkpoint_dir=str(tmp_path / "checkpoints"), tensorboard_dir=str(tmp_path),
            run_name="test", x_valid=splits.x_valid[:500], early_stop=True, checkpoint_interval=0,
        )
        scores, _ = Scorer(model, batch_size=500).score(splits.x_valid[:500])
        return result, scores["fm"]

    first, first_scores = fit(epochs=30)
    stopped_epoch = training.read_early_stop_state(tmp_path / "checkpoints")["stopped_epoch"]
    assert 0 < stopped_epoch < 29
    assert first["epochs_run"] == stopped_epoch + 1
    # The states of the last checkpoint and of the one before it, with the weights they name.
    saved = sorted(path.name for path in (tmp_path / "checkpoints" / training.EARLY_STOP_DIR).iterdir())
    assert [name for name in saved if name.startswith("epochs_")] == [
        f"epochs_{stopped_epoch}.json", f"epochs_{stopped_epoch + 1}.json"
    ]
    assert 1 <= len([name for name in saved if name.endswith(".npz")]) <= 2

    caplog.clear()
    resumed, resumed_scores = fit(epochs=30)
    assert resumed["epochs_run"] == 0
    assert resumed["epoch_used"] == first["epoch_used"]
    np.testing.assert_allclose(resumed_scores, first_scores, rtol=1e-6)
    assert f"Early stopping stopped after epoch {stopped_epoch}." in caplog.text


def test_early_stopping_state_survives_fallback(kdd_splits_with_validation, tmp_path, caplog):
    splits = kdd_splits_with_validation

    def fit(epochs):
        model, _ = build_model("alad", "kdd", 121, seed=6)
        model.compile(learning_rate=1e-3)
        return training.train(
            model, splits.x_train[:500], epochs=epochs, batch_size=50, seed=6,
            checkpoint_dir=str(tmp_path / "checkpoints"), tensorboard_dir=str(tmp_path),
            run_name="test", x_valid=splits.x_valid[:500], early_stop=True, checkpoint_interval=0,
        )

    fit(epochs=3)
    before = training.read_early_stop_state(tmp_path / "checkpoints", epochs=2)
    # A save cut short by Ctrl-C leaves a truncated weights file, so the
    # resume falls back to the checkpoint of 2 epochs and to its state.
    weights = tmp_path / "checkpoints" / "latest.weights.h5"
    weights.write_bytes(weights.read_bytes()[:5000])

    caplog.clear()
    result = fit(epochs=4)
    assert result["initial_epoch"] == 2
    assert "has no early-stopping state" not in caplog.text
    # The restored best value can only improve.
    after = training.read_early_stop_state(tmp_path / "checkpoints", epochs=4)
    assert after["best"] <= before["best"]


def test_resume_warns_without_stop_state(kdd_splits_with_validation, tmp_path, caplog):
    splits = kdd_splits_with_validation
    for early_stop in (False, True):
        model, _ = build_model("alad", "kdd", 121, seed=6)
        model.compile(learning_rate=1e-3)
        training.train(
            model, splits.x_train[:500], epochs=1 + early_stop, batch_size=50, seed=6,
            checkpoint_dir=str(tmp_path / "checkpoints"), tensorboard_dir=str(tmp_path),
            run_name="test", x_valid=splits.x_valid[:500], early_stop=early_stop,
            checkpoint_interval=0,
        )
    assert (
        "[test] The checkpoint of 1 finished epoch has no early-stopping state, so patience "
        "and the best epoch start again from epoch 1."
    ) in caplog.text


@pytest.fixture(scope="module")
def scaled_kdd_splits(data_dir):
    from alad_tf.data import load_dataset

    return load_dataset("kdd", data_dir=str(data_dir), scale=True)


def test_training_beats_untrained_model(scaled_kdd_splits):
    # On MinMax-scaled rows, a short run at a higher learning rate learns to
    # reconstruct attacks. On raw rows a few epochs are too noisy to compare.
    splits = scaled_kdd_splits
    rows, labels = splits.x_test[::10], splits.y_test[::10]

    keras.utils.set_random_seed(1)
    model, _ = build_model("alad", "kdd", 121, seed=1)
    model.compile(learning_rate=1e-3, steps_per_execution=100)
    untrained, _ = Scorer(model, batch_size=1000).score(rows)
    untrained_auroc = binary_metrics(labels, untrained["l2"], 0)["auroc"]

    model.fit(
        training.make_train_dataset(splits.x_train[:20_000], 50, seed=1), epochs=2, verbose=0
    )
    trained, _ = Scorer(model, batch_size=1000).score(rows)
    trained_auroc = binary_metrics(labels, trained["l2"], 0)["auroc"]
    assert trained_auroc > untrained_auroc + 0.2


def test_train_percentile_run_via_api(data_dir, tmp_path, kdd_splits_with_validation):
    config = RunConfig(
        nb_epochs=0, threshold="train_percentile", data_dir=str(data_dir),
        logdir=str(tmp_path / "logs"), rd=3,
    )
    summary = run_experiment(config)
    assert summary["flags"]["threshold"] == "train_percentile"
    run_dir = tmp_path / "logs" / "alad" / "kdd" / "fm_w0.1_sn0_dzz0_es0_train_percentile" / "label0" / "rd3"
    assert summary["run_dir"] == str(run_dir)
    # The threshold is the 95th percentile of the held-out training rows'
    # scores. The untrained model is rebuilt with the run's seed to compute it.
    keras.utils.set_random_seed(3)
    model, _ = build_model("alad", "kdd", 121, seed=3)
    valid_scores, _ = Scorer(model, batch_size=50).score(kdd_splits_with_validation.x_valid)
    for name in ("ch", "l1", "l2", "fm"):
        expected = np.percentile(valid_scores[name], 95)
        assert summary["metrics"][name]["threshold"] == pytest.approx(expected, rel=1e-4), name


@pytest.mark.parametrize("enable_dzz", [True, False])
def test_dzz_losses_reported_only_with_dzz(enable_dzz, kdd_splits, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="absl")
    keras.utils.set_random_seed(6)
    model, _ = build_model("alad", "kdd", 121, seed=6, enable_dzz=enable_dzz)
    model.compile(learning_rate=1e-5)
    discriminator_zz = [weight.numpy() for weight in model.networks["discriminator_zz"].trainable_weights]
    fit = training.train(
        model, kdd_splits.x_train[:500], epochs=2, batch_size=50, seed=6,
        checkpoint_dir=str(tmp_path / "checkpoints"), tensorboard_dir=str(tmp_path),
        run_name="dzz",
    )

    # D_zz trains either way, as in the reference code.
    trained = model.networks["discriminator_zz"].trainable_weights
    assert not any(np.array_equal(old, new.numpy()) for old, new in zip(discriminator_zz, trained))
    scalars = read_scalars(tmp_path / "train")
    messages = [record.getMessage() for record in caplog.records]
    epoch_lines = [message for message in messages if "Epoch 1 | time" in message]
    assert len(epoch_lines) == 1
    for term in LOSS_TERMS:
        assert len(fit["history"][term]) == 2, term
        assert f"epoch_{term}" in scalars, term
    for term in DZZ_TERMS:
        assert (term in fit["history"]) == enable_dzz, term
        assert (f"epoch_{term}" in scalars) == enable_dzz, term
    assert ("loss dis zz = " in epoch_lines[0]) == enable_dzz


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_bar_only_on_terminal(terminal, kdd_splits, tmp_path, monkeypatch):
    stdout = _Terminal() if terminal else io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)
    keras.utils.set_random_seed(5)
    model, _ = build_model("alad", "kdd", 121, seed=5)
    model.compile(learning_rate=1e-5)
    training.train(
        model, kdd_splits.x_train[:500], epochs=1, batch_size=50, seed=5,
        checkpoint_dir=str(tmp_path / "checkpoints"), tensorboard_dir=str(tmp_path),
        run_name="progress", progress=True,
    )
    output = stdout.getvalue()
    if terminal:
        # The bar counts the 10 steps of the epoch.
        assert "10/10" in output
        assert "\r" in output
    else:
        assert output == ""


def _fit_500_rows(
    kdd_splits, tmp_path, epochs, checkpoint_interval, learning_rate=1e-5, extra_callbacks=(),
    batch_summaries=False,
):
    """Train ALAD on 500 KDD99 rows with its checkpoint in `tmp_path / "checkpoints"`."""
    keras.utils.set_random_seed(4)
    model, _ = build_model("alad", "kdd", 121, seed=4)
    model.compile(learning_rate=learning_rate)
    return training.train(
        model, kdd_splits.x_train[:500], epochs=epochs, batch_size=50, seed=4,
        checkpoint_dir=str(tmp_path / "checkpoints"), tensorboard_dir=str(tmp_path),
        run_name="resume", checkpoint_interval=checkpoint_interval,
        extra_callbacks=extra_callbacks, batch_summaries=batch_summaries,
    )


class _InterruptAfterEpoch(keras.callbacks.Callback):
    """Raise `KeyboardInterrupt` at the end of one epoch, as Ctrl-C would."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.mark.parametrize(
    "checkpoint_interval, expected",
    [
        (0, "contains 2 finished epochs, so resuming continues from epoch 2."),
        (3600, "No checkpoint was saved yet (the first is written 3600 s after training "
               "starts), so resuming starts training again."),
    ],
)
def test_interrupt_logs_resume_point(kdd_splits, tmp_path, caplog, checkpoint_interval, expected):
    caplog.set_level(logging.INFO, logger="absl")
    with pytest.raises(KeyboardInterrupt):
        _fit_500_rows(
            kdd_splits, tmp_path, epochs=5, checkpoint_interval=checkpoint_interval,
            extra_callbacks=[_InterruptAfterEpoch(1)],
        )
    assert "[resume] Training interrupted. " in caplog.text
    assert expected in caplog.text
    if checkpoint_interval == 0:
        _fit_500_rows(kdd_splits, tmp_path, epochs=3, checkpoint_interval=0)
        assert (
            "[resume] Resuming from the checkpoint in "
            f"{tmp_path / 'checkpoints'}: 2 finished epochs, continuing with epoch 2."
        ) in caplog.text


def test_resume_of_finished_run_logs_nothing_left(kdd_splits, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="absl")
    _fit_500_rows(kdd_splits, tmp_path, epochs=1, checkpoint_interval=0)
    result = _fit_500_rows(kdd_splits, tmp_path, epochs=1, checkpoint_interval=0)
    assert result["epochs_run"] == 0
    assert (
        f"[resume] Resuming from the checkpoint in {tmp_path / 'checkpoints'}: 1 finished "
        f"epoch, so no epoch is left to train."
    ) in caplog.text


def test_resume_logs_each_epoch_once(kdd_splits, tmp_path):
    _fit_500_rows(kdd_splits, tmp_path, epochs=2, checkpoint_interval=0, batch_summaries=True)
    # Epochs 2 and 3 reach TensorBoard, but the checkpoint stays at 2 epochs.
    with pytest.raises(KeyboardInterrupt):
        _fit_500_rows(
            kdd_splits, tmp_path, epochs=6, checkpoint_interval=3600,
            extra_callbacks=[_InterruptAfterEpoch(3)], batch_summaries=True,
        )
    interrupted = read_scalars(tmp_path / "train")
    assert [step for step, _ in interrupted["epoch_loss_generator"]] == [0, 1, 2, 3]
    # 10 steps per epoch; the interrupted run's batches continue from step 21.
    batch_steps = [step for step, _ in interrupted["batch_loss_generator"]]
    assert batch_steps == list(range(1, 41))

    # The resumed run trains epochs 2 to 4 again, and each epoch and batch is logged once.
    _fit_500_rows(kdd_splits, tmp_path, epochs=5, checkpoint_interval=0, batch_summaries=True)
    resumed = read_scalars(tmp_path / "train")
    epochs = resumed["epoch_loss_generator"]
    assert [step for step, _ in epochs] == [0, 1, 2, 3, 4]
    assert epochs[:2] == interrupted["epoch_loss_generator"][:2]
    batches = resumed["batch_loss_generator"]
    assert [step for step, _ in batches] == list(range(1, 51))
    assert batches[:20] == interrupted["batch_loss_generator"][:20]


def test_diverged_training_stops_unsaved(kdd_splits, tmp_path):
    with pytest.raises(training.TrainingDiverged, match="is not finite in epoch 0") as raised:
        _fit_500_rows(kdd_splits, tmp_path, epochs=50, checkpoint_interval=0, learning_rate=1e4)
    assert raised.value.epoch == 0
    # The first epoch never finished, so no checkpoint contains the diverged weights.
    assert not list((tmp_path / "checkpoints").glob("*.weights.h5"))


def test_resume_falls_back_after_broken_checkpoint(kdd_splits, tmp_path):
    _fit_500_rows(kdd_splits, tmp_path, epochs=2, checkpoint_interval=0)
    # A save cut short by Ctrl-C leaves a truncated weights file.
    weights = tmp_path / "checkpoints" / "latest.weights.h5"
    weights.write_bytes(weights.read_bytes()[:5000])

    result = _fit_500_rows(kdd_splits, tmp_path, epochs=3, checkpoint_interval=0)
    assert result["initial_epoch"] == 1
    assert result["epochs_run"] == 2


def test_resume_after_interrupt_keeps_losses(data_dir, tmp_path):
    config = RunConfig(
        dataset="arrhythmia", nb_epochs=2, rd=5, data_dir=str(data_dir),
        logdir=str(tmp_path / "logs"), verbose=0,
    )
    first = run_experiment(config)
    # Ctrl-C during training leaves the checkpoint but no summary.
    (Path(first["run_dir"]) / "summary.json").unlink()

    resumed = run_experiment(dataclasses.replace(config, nb_epochs=4, resume=True))
    assert resumed["resumed"]
    assert resumed["initial_epoch"] == 2
    for term in LOSS_TERMS:
        assert len(resumed["history"][term]) == 4, term
        assert resumed["history"][term][:2] == pytest.approx(first["history"][term]), term


def test_train_dataset_shuffles_two_copies(kdd_splits):
    x = kdd_splits.x_train[:1_003]
    dataset = training.make_train_dataset(x, 50, seed=5)

    # Each epoch yields 20 full batches of each copy, drawn in the order that
    # shuffling the rows with the copy's seed gives.
    epochs = [list(dataset), list(dataset)]
    for copy, copy_seed in ((0, 5), (1, 6)):
        rows = tf.data.Dataset.from_tensor_slices(x).shuffle(
            len(x), seed=copy_seed, reshuffle_each_iteration=True
        ).batch(50, drop_remainder=True)
        for epoch in epochs:
            expected = np.stack([batch.numpy() for batch in rows])
            got = np.stack([batches[copy].numpy() for batches in epoch])
            assert got.shape == (20, 50, x.shape[1])
            np.testing.assert_array_equal(got, expected)

    first_epoch = np.concatenate([batches[0].numpy() for batches in epochs[0]])
    second_epoch = np.concatenate([batches[0].numpy() for batches in epochs[1]])
    assert not np.array_equal(first_epoch, second_epoch)


def test_train_dataset_is_not_autotuned(kdd_splits):
    # Autotuning made about half the KDD99 epochs twice as slow on 2 cores.
    dataset = training.make_train_dataset(kdd_splits.x_train[:500], 50, seed=5)
    assert dataset.options().autotune.enabled is False


def test_checkpoint_interval_skips_early_saves(kdd_splits, tmp_path, monkeypatch):
    saved_epochs = []
    save = training.CheckpointBackup._save_now

    def record(backup):
        save(backup)
        saved_epochs.append(backup._current_epoch)

    monkeypatch.setattr(training.CheckpointBackup, "_save_now", record)

    # Three short epochs within an hour: only the last one is saved.
    _fit_500_rows(kdd_splits, tmp_path, epochs=3, checkpoint_interval=3600)
    assert saved_epochs == [3]
    assert not (tmp_path / "checkpoints" / "latest.weights.h5.bkp").exists()

    resumed = _fit_500_rows(kdd_splits, tmp_path, epochs=5, checkpoint_interval=0)
    assert resumed["initial_epoch"] == 3
    assert saved_epochs == [3, 4, 5]
