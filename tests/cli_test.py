import json

import pandas as pd
import pytest

from conftest import run_cli


def test_run_prints_metrics_of_every_score(cli_run):
    output = cli_run["result"].stdout
    for score in ("ch", "l1", "l2", "fm"):
        assert f"{score:>3}: precision" in output
    assert "SavedModel:" in output
    log = cli_run["result"].stderr
    assert "Epoch 0 | time = " in log
    assert "Epoch 1 | time = " in log
    assert "loss gen = " in log
    assert "loss dis xx = " in log
    assert "loss dis zz" not in log
    assert "Testing : mean inference time is" in log
    assert "Testing at step 7934, method fm: Prec = " in log


def test_run_folder_contents(cli_run):
    run_dir = cli_run["run_dir"]
    assert (run_dir / "checkpoints" / "latest.weights.h5").is_file()
    assert (run_dir / "saved_model" / "saved_model.pb").is_file()
    assert (run_dir / "test_scores.npz").is_file()
    results = pd.read_csv(run_dir / "results.csv")
    assert list(results["Method"]) == ["ch", "l1", "l2", "fm"]
    assert list(results.columns[:7]) == [
        "Method", "Step", "AUROC", "Precision", "Recall", "F1 score", "Random Seed",
    ]
    assert set(results["Threshold mode"]) == {"test_percentile"}
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["flags"]["nb_epochs"] == 2
    assert summary["flags"]["batch_size"] == 50
    assert summary["epochs_run"] == 2
    assert set(summary["metrics"]) == {"ch", "l1", "l2", "fm"}
    assert "loss_dis_zz" not in summary["history"]
    assert "loss_encgen_dzz" not in summary["history"]


def test_global_results_csv(cli_run):
    table = pd.read_csv(cli_run["logdir"] / "results.csv")
    assert list(table.columns[:12]) == [
        "Model", "Dataset", "Method", "Weight", "Label", "Step", "AUROC", "Precision",
        "Recall", "F1 score", "Random Seed", "Date",
    ]
    assert set(table["Model"]) == {"alad_snFalse_dzzFalse"}


def test_new_run_never_overwrites_and_resume_continues(cli_run, data_dir, tmp_path):
    import shutil

    logdir = tmp_path / "logs"
    shutil.copytree(cli_run["logdir"], logdir)
    first = logdir / "alad" / "kdd" / "fm_w0.1_sn0_dzz0_es0_test_percentile" / "label0" / "rd7"
    before = (first / "results.csv").read_bytes()
    common = ["--rd", "7", "--logdir", str(logdir), "--data_dir", str(data_dir)]

    fresh = run_cli("alad", "run", "--nb_epochs", "0", *common)
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert first.with_name("rd7_2").is_dir()
    assert (first / "results.csv").read_bytes() == before

    # A run written before D_zz losses were left out without --enable_dzz
    # has them in its history; the resumed history keeps only tracked losses.
    earlier = json.loads((first / "summary.json").read_text())
    earlier["history"]["loss_dis_zz"] = [1.0, 2.0]
    (first / "summary.json").write_text(json.dumps(earlier))

    # rd7_2 has no checkpoint, so --resume continues rd7 from its epoch 2.
    resumed = run_cli("alad", "run", "--nb_epochs", "3", "--resume", *common)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    summary = json.loads((first / "summary.json").read_text())
    assert summary["resumed"] is True
    assert summary["initial_epoch"] == 2
    assert summary["epochs_run"] == 1
    assert summary["epochs_trained"] == 3
    assert len(summary["history"]["loss_generator"]) == 3
    assert summary["history"]["loss_generator"][:2] == earlier["history"]["loss_generator"]
    assert "loss_dis_zz" not in summary["history"]
    assert "Epoch 2 | time" in resumed.stderr
    assert "Epoch 0 | time" not in resumed.stderr
    assert "Testing at step 11901, method fm" in resumed.stderr
    # The first export is kept; the resumed run writes a new one beside it.
    assert (first / "saved_model").is_dir()
    assert (first / "saved_model_2").is_dir()

    changed = run_cli("alad", "run", "--nb_epochs", "4", "--resume", "--batch_size", "10", *common)
    assert changed.returncode == 1

    fewer = run_cli("alad", "run", "--nb_epochs", "1", "--resume", *common)
    assert fewer.returncode == 1
    assert "it has already trained 3 epochs" in fewer.stderr
    assert "Cannot resume" in changed.stderr
    assert "--batch_size 50 (now 10)" in changed.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["alad", "run", "--dataset", "cifar"], "value should be one of <arrhythmia|csv|kdd|mnist>"),
        (["alad", "run", "--nb_epochs", "-1"], "nb_epochs"),
        (["alad", "run", "--threshold", "median"], "value should be one of"),
        (["alad", "run", "--m", "l3"], "value should be one of"),
        (["alad", "run", "--batch_size", "0"], "batch_size"),
        (["alad", "run", "--threshold_percentile", "120"], "threshold_percentile"),
        (["gan", "run"], "Unknown model 'gan'. Expected one of: alad, bigan."),
        (["alad", "train"], "Unknown mode 'train'. Expected one of: run, sweep."),
        (["alad"], "Expected a command: alad run, bigan run, alad sweep, bigan sweep"),
        (["alad", "run", "--learning_rate", "-1"], "Invalid --learning_rate -1.0"),
        (["alad", "run", "--learning_rate", "inf"], "Invalid --learning_rate inf"),
        (["alad", "run", "--rd", "-1"], "rd"),
    ],
)
def test_bad_arguments_exit_nonzero(args, message, tmp_path):
    result = run_cli(*args, "--logdir", str(tmp_path / "logs"), timeout=300)
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "logs").exists() or not any((tmp_path / "logs").rglob("*.csv"))


HELP_HINT = "Run `python main.py --help` for the flags."


@pytest.mark.parametrize(
    "args, error",
    [
        (["gan", "run"], "Error: Unknown model 'gan'. Expected one of: alad, bigan."),
        (["alad", "train"], "Error: Unknown mode 'train'. Expected one of: run, sweep."),
        (
            ["alad"],
            "Error: Expected a command: alad run, bigan run, alad sweep, bigan sweep, "
            "baselines run or report. Got: alad.",
        ),
        (
            ["alad", "run", "--dataset", "cifar"],
            "Error: Invalid --dataset 'cifar': value should be one of <arrhythmia|csv|kdd|mnist>.",
        ),
        (
            ["alad", "run", "--nb_epochs", "-1"],
            "Error: Invalid --nb_epochs '-1': -1 is not a non-negative integer.",
        ),
        (["alad", "run", "--nb_epochs", "abc"], "Error: Invalid --nb_epochs 'abc': expected a whole number."),
        (["alad", "run", "--learning_rate", "x"], "Error: Invalid --learning_rate 'x': expected a number."),
        (
            ["alad", "run", "--sn=maybe"],
            "Error: Invalid --sn 'maybe': expected true or false, or --sn and --nosn without a value.",
        ),
        (["alad", "run", "--bogus", "3"], "Error: Unknown command line flag 'bogus'."),
        (["report", "--rd", "3"], "Error: --rd has no effect on report. Drop it."),
        (["bigan", "sweep", "--baselines", "pca"], "Error: --baselines has no effect on bigan sweep. Drop it."),
        (["alad", "run", "--w", "0.5"], "Error: --w has no effect on alad run. Drop it."),
        (["bigan", "run", "--enable_dzz"], "Error: --enable_dzz has no effect on bigan run. Drop it."),
        (
            ["baselines", "run", "--sn", "--nb_epochs", "5"],
            "Error: --nb_epochs and --sn have no effect on baselines run. Drop them.",
        ),
        (
            ["report", "logs"],
            "Error: The command report takes no further arguments, got: report logs. Pass its "
            "settings as flags, such as --logdir.",
        ),
    ],
)
def test_usage_error_is_one_line_and_hint(args, error):
    result = run_cli(*args, timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [error, HELP_HINT]
    assert result.stdout == ""


def test_cli_choices_match_registries():
    from alad_tf import cli, data, evaluation, models

    assert cli.DATASETS == tuple(sorted(data.LOADERS))
    assert set(cli.MODEL_NAMES) == set(models.MODELS)
    assert cli.THRESHOLD_MODES == evaluation.THRESHOLD_MODES


def test_cli_import_skips_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys, alad_tf.cli; "
        "print(sorted(m for m in ('tensorflow', 'keras', 'pandas') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"


def _run_without_data(tmp_path, *args):
    """Run the CLI offline with an empty --data_dir and no other data folder."""
    (tmp_path / "nowhere").mkdir(exist_ok=True)
    return run_cli(
        *args, "--logdir", str(tmp_path / "logs"), "--data_dir", str(tmp_path / "nowhere"),
        env={"ALAD_TF_DATA_DIR": "", "ALAD_TF_OFFLINE": "1", "KERAS_HOME": str(tmp_path / "k")},
        cwd=tmp_path,
        timeout=300,
    )


def test_missing_dataset_exits_with_clear_message(tmp_path):
    result = _run_without_data(tmp_path, "alad", "run", "--nb_epochs", "1")
    assert result.returncode == 1
    assert "Error: Dataset file kddcup.data_10_percent_corrected or kddcup.data_10_percent.gz not found" in result.stderr
    assert str(tmp_path / "nowhere") in result.stderr


def test_all_seeds_diverging_exit_1(tmp_path, data_dir):
    result = run_cli(
        "alad", "run", "--dataset", "arrhythmia", "--rd", "1,2", "--nb_epochs", "50",
        "--learning_rate", "1e4", "--logdir", str(tmp_path / "logs"), "--data_dir", str(data_dir),
        timeout=300,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "Error: All 2 runs failed, so the summary has no results."
    assert "Seed 1: Training diverged: " in result.stdout
    assert "is not finite in epoch 0." in result.stdout


def test_missing_data_dir_is_an_error(tmp_path, data_dir):
    # $ALAD_TF_DATA_DIR contains the file, but a mistyped --data_dir must not be skipped.
    result = run_cli(
        "alad", "run", "--dataset", "arrhythmia", "--nb_epochs", "1",
        "--logdir", str(tmp_path / "logs"), "--data_dir", str(tmp_path / "typo"),
        env={"ALAD_TF_DATA_DIR": str(data_dir), "ALAD_TF_OFFLINE": "1"}, timeout=300,
    )
    assert result.returncode == 1
    assert f"Error: Data folder {tmp_path / 'typo'} not found. Pass the --data_dir" in result.stderr
    assert not (tmp_path / "logs").exists()


def test_model_without_networks_fails_before_loading(tmp_path):
    # No mnist.npz anywhere: the model check must come before the data is looked for.
    result = _run_without_data(tmp_path, "alad", "run", "--dataset", "mnist")
    assert result.returncode == 1
    assert "Error: No 'alad' architecture for dataset 'mnist'" in result.stderr
    assert "Dataset file" not in result.stderr


@pytest.mark.parametrize("flag", ["--logdir", "--export_dir"])
def test_folder_flag_under_a_file_is_rejected(flag, tmp_path, data_dir):
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    args = ["--logdir", str(tmp_path / "logs")] if flag == "--export_dir" else []
    result = run_cli(
        "alad", "run", "--nb_epochs", "0", flag, str(blocker / "sub"), *args,
        "--data_dir", str(data_dir), timeout=300,
    )
    assert result.returncode == 1
    assert f"Invalid {flag}" in result.stderr
    assert "is a file, not a folder" in result.stderr


def test_existing_export_dir_is_rejected_before_training(tmp_path, data_dir):
    target = tmp_path / "exported"
    target.mkdir()
    (target / "keep.txt").write_text("user data")
    result = run_cli(
        "alad", "run", "--nb_epochs", "1", "--logdir", str(tmp_path / "logs"),
        "--data_dir", str(data_dir), "--export_dir", str(target), timeout=300,
    )
    assert result.returncode == 1
    assert "Export folder" in result.stderr
    assert "already exists" in result.stderr
    assert (target / "keep.txt").read_text() == "user data"


def test_home_folder_paths_are_expanded(tmp_path, data_dir):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    for export in ("exported", "exported_2"):
        # `--flag=~/…` reaches the program unexpanded, because the shell
        # expands `~` only at the start of a word.
        result = run_cli(
            "alad", "run", "--dataset", "arrhythmia", "--nb_epochs", "0",
            "--logdir=~/logs", f"--export_dir=~/{export}", "--data_dir", str(data_dir),
            env={"HOME": str(home)}, cwd=work, timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        assert (home / export / "saved_model.pb").is_file()
    assert not (work / "~").exists()
    lines = (home / "logs" / "results.csv").read_text().splitlines()
    assert len(lines) == 1 + 2 * 4
    assert sum(line.startswith("Model,") for line in lines) == 1


def test_printed_tensorboard_command_is_quoted(tmp_path, data_dir):
    logdir = tmp_path / "my logs"
    result = run_cli(
        "alad", "run", "--dataset", "arrhythmia", "--nb_epochs", "0", "--logdir", str(logdir),
        "--data_dir", str(data_dir), timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"TensorBoard: tensorboard --logdir '{logdir}'" in result.stdout.splitlines()


def test_help_lists_flags_with_defaults():
    result = run_cli("--help", timeout=300)
    assert result.returncode == 0
    text = result.stdout + result.stderr
    for flag in ("--nb_epochs", "--[no]enable_dzz", "--threshold", "--export_dir", "--data_dir"):
        assert flag in text
    assert "(default: 'test_percentile')" in text


@pytest.mark.parametrize("method, primary", [("cross-e", "cross_e"), ("fm", "fm")])
def test_bigan_run_both_variants(method, primary, tmp_path, data_dir, kdd_splits):
    import numpy as np
    import tensorflow as tf

    logdir = tmp_path / "logs"
    result = run_cli(
        "bigan", "run", "--nb_epochs", "1", "--m", method, "--w", "0.1", "--d", "1",
        "--rd", "42", "--logdir", str(logdir), "--data_dir", str(data_dir),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "loss enc = " in result.stderr
    assert f"Testing at step 3967, method {primary}: Prec = " in result.stderr

    run_dir = logdir / "bigan" / "kdd" / f"{method}_w0.1_sn0_dzz0_es0_test_percentile" / "label0" / "rd42"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["primary_score"] == primary
    assert set(summary["metrics"]) == {"cross_e", "fm"}

    scores = np.load(run_dir / "test_scores.npz")
    assert scores[primary].shape == (247_011,)
    threshold = summary["metrics"][primary]["threshold"]
    assert np.isclose(threshold, np.percentile(scores[primary], 80))

    loaded = tf.saved_model.load(str(run_dir / "saved_model"))
    outputs = loaded.serve(tf.constant(kdd_splits.x_test[:100]))
    np.testing.assert_allclose(outputs["score"].numpy(), scores[primary][:100], rtol=1e-4)
    np.testing.assert_array_equal(
        outputs["is_anomaly"].numpy(), outputs["score"].numpy() >= np.float32(threshold)
    )


def test_bigan_mnist_run_with_images(tmp_path, mnist_dir):
    import numpy as np
    import tensorflow as tf
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logdir = tmp_path / "logs"
    result = run_cli(
        "bigan", "run", "--dataset", "mnist", "--label", "3", "--nb_epochs", "1",
        "--logdir", str(logdir), "--data_dir", str(mnist_dir),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "the anomalous digit" in result.stderr
    run_dir = logdir / "bigan" / "mnist" / "fm_w0.1_sn0_dzz0_es0_test_percentile" / "label3" / "rd42"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["flags"]["batch_size"] == 100
    assert 0.0 <= summary["metrics"]["fm"]["auprc"] <= 1.0

    accumulator = EventAccumulator(str(run_dir / "images"), size_guidance={"tensors": 0})
    accumulator.Reload()
    assert {"input_images", "reconstruct"} <= set(accumulator.Tags()["tensors"])

    scores = np.load(run_dir / "test_scores.npz")
    loaded = tf.saved_model.load(str(run_dir / "saved_model"))
    outputs = loaded.serve(tf.zeros((2, 28, 28, 1)))
    assert outputs["fm"].shape == (2,)
    assert scores["fm"].shape == scores["y_test"].shape


def test_alad_arrhythmia_run(tmp_path, data_dir):
    logdir = tmp_path / "logs"
    result = run_cli(
        "alad", "run", "--dataset", "arrhythmia", "--nb_epochs", "3", "--clean_train",
        "--logdir", str(logdir), "--data_dir", str(data_dir),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = logdir / "alad" / "arrhythmia" / "fm_w0.1_sn0_dzz0_es0_test_percentile_clean" / "label0" / "rd42"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["flags"]["batch_size"] == 32
    assert summary["step"] == 3 * (192 // 32)
    assert "--label 0 has no effect on arrhythmia" in result.stderr
