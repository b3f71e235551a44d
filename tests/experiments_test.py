import json
import math

import pandas as pd
import pytest

from alad_tf import experiments, report, results
from alad_tf.experiment import RunConfig


@pytest.mark.parametrize(
    "text, seeds", [("42", [42]), ("1,2,3", [1, 2, 3]), (" 5, 0 ", [5, 0]), ("4294967295", [4294967295])]
)
def test_parse_seeds_valid(text, seeds):
    assert experiments.parse_seeds(text) == seeds


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,x", "Invalid --rd '1,x': 'x' is not a seed"),
        ("", "Invalid --rd '': '' is not a seed"),
        ("1,,2", "Invalid --rd '1,,2': '' is not a seed"),
        ("-1", "Invalid --rd '-1': '-1' is not a seed. Expected an integer from 0 to 4294967295"),
        ("4294967296", "'4294967296' is not a seed"),
        ("1.5", "'1.5' is not a seed"),
        ("1,2,1", "Invalid --rd '1,2,1': seed 1 appears twice."),
    ],
)
def test_parse_seeds_invalid(text, message):
    with pytest.raises(ValueError) as error:
        experiments.parse_seeds(text)
    assert message in str(error.value)


def test_parse_learning_rates_valid():
    assert experiments.parse_learning_rates("1e-5, 1e-4,0.01") == [1e-5, 1e-4, 0.01]


@pytest.mark.parametrize(
    "text, message",
    [
        (None, "The sweep mode needs --learning_rates"),
        ("", "The sweep mode needs --learning_rates"),
        ("1e-4,abc", "Invalid --learning_rates '1e-4,abc': 'abc' is not a positive number"),
        ("0", "'0' is not a positive number"),
        ("-1e-3", "'-1e-3' is not a positive number"),
        ("inf", "'inf' is not a positive number"),
        ("nan", "'nan' is not a positive number"),
        ("1e-3,0.001", "Invalid --learning_rates '1e-3,0.001': 0.001 appears twice."),
    ],
)
def test_parse_learning_rates_invalid(text, message):
    with pytest.raises(ValueError) as error:
        experiments.parse_learning_rates(text)
    assert message in str(error.value)


def test_run_folder_name_marks_learning_rate():
    default = RunConfig(dataset="arrhythmia", rd=3)
    assert str(results.run_folder_name(default)) == (
        "alad/arrhythmia/fm_w0.1_sn0_dzz0_es0_test_percentile/label0/rd3"
    )
    reference = RunConfig(dataset="arrhythmia", rd=3, learning_rate=1e-5)
    assert results.run_folder_name(reference) == results.run_folder_name(default)
    other = RunConfig(dataset="arrhythmia", rd=3, learning_rate=1e-3)
    assert str(results.run_folder_name(other)) == (
        "alad/arrhythmia/fm_w0.1_sn0_dzz0_es0_test_percentile_lr0.001/label0/rd3"
    )


def test_table_run_folder_names_file_and_scaling():
    config = RunConfig(dataset="csv", data_path="data/flows.csv.gz", rd=3)
    # Tables are scaled by default, before the default is filled in too.
    assert str(results.run_folder_name(config)) == (
        "alad/csv/flows_csv_gz/fm_w0.1_sn0_dzz0_es0_test_percentile_scaled/label0/rd3"
    )
    assert experiments._label_folder(config).parent.name.endswith("_scaled")
    parquet = RunConfig(dataset="csv", data_path="data/flows.parquet", rd=3)
    assert results.run_folder_name(parquet) != results.run_folder_name(config)
    unscaled = RunConfig(dataset="csv", data_path="data/flows.csv.gz", rd=3, scale=False)
    assert "_scaled" not in str(results.run_folder_name(unscaled))


def test_resume_skips_runs_of_another_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for folder, table in [("rd3", "a/flows.csv"), ("rd3_2", "b/flows.csv")]:
        run_dir = tmp_path / "logs" / folder
        (run_dir / "checkpoints").mkdir(parents=True)
        (run_dir / "checkpoints" / "latest.weights.h5").write_bytes(b"")
        config = {"data_path": str((tmp_path / table).resolve())}
        (run_dir / "config.json").write_text(json.dumps(config))

    # The same file under another spelling, relative to the working folder.
    settings = {"data_path": "./a/../a/flows.csv", "d": 1}
    run_dir, resumed = results.resolve_run_dir(tmp_path / "logs", "rd3", True, settings)
    assert resumed
    assert run_dir == tmp_path / "logs" / "rd3"
    run_dir, resumed = results.resolve_run_dir(tmp_path / "logs", "rd3", True, {"data_path": "c/flows.csv"})
    assert not resumed
    assert run_dir == tmp_path / "logs" / "rd3_3"


def test_new_run_number_skips_removed_folders(tmp_path):
    for folder in ("rd1", "rd1_3", "rd1_x", "rd10"):
        (tmp_path / folder).mkdir()
    # rd1_2 was removed: its number is not reused, so a higher number is a later run.
    assert results.free_path(tmp_path / "rd1") == tmp_path / "rd1_4"
    assert results.numbered_paths(tmp_path / "rd1") == [tmp_path / "rd1", tmp_path / "rd1_3"]
    assert results.free_path(tmp_path / "rd2") == tmp_path / "rd2"


def test_resume_skips_runs_of_another_degree(tmp_path):
    # --d is not in the folder name, so runs with d=1 and d=2 share it.
    for folder, degree in [("rd5", 1), ("rd5_2", 2)]:
        run_dir = tmp_path / "logs" / folder
        (run_dir / "checkpoints").mkdir(parents=True)
        (run_dir / "checkpoints" / "latest.weights.h5").write_bytes(b"")
        (run_dir / "config.json").write_text(json.dumps({"d": degree, "drop_columns": ["id"]}))

    for degree, expected in [(1, "rd5"), (2, "rd5_2")]:
        settings = {"d": degree, "drop_columns": ("id",)}
        run_dir, resumed = results.resolve_run_dir(tmp_path / "logs", "rd5", True, settings)
        assert resumed
        assert run_dir == tmp_path / "logs" / expected


def _summary(f1, run_dir="/runs/rd1"):
    metrics = {"precision": f1, "recall": f1, "f1": f1, "auroc": 0.7, "auprc": 0.4, "threshold": 1.0}
    return {
        "run_dir": run_dir, "metrics": {"ch": dict(metrics), "fm": dict(metrics)},
        "mean_inference_time_s": 0.01,
    }


def test_sweep_table_marks_best_and_failed_rates():
    Outcome = experiments.RunOutcome
    outcomes = [
        Outcome(1, 1e-5, summary=_summary(0.2)),
        Outcome(2, 1e-5, summary=_summary(0.4)),
        Outcome(1, 1e-4, summary=_summary(0.7)),
        Outcome(2, 1e-4, error="Training diverged: loss_generator is not finite."),
        Outcome(1, 1e-2, error="Training diverged: loss_dis_xx is not finite."),
        Outcome(2, 1e-2, error="Training diverged: loss_dis_xx is not finite."),
    ]
    table = experiments.sweep_table(outcomes, [1e-5, 1e-4, 1e-2], primary="fm")
    primary = table[table["primary"]].set_index("learning_rate")

    assert list(primary.index) == [1e-5, 1e-4, 1e-2]
    assert primary.loc[1e-5, "f1_mean"] == pytest.approx(0.3)
    assert primary.loc[1e-5, "f1_std"] == pytest.approx(math.sqrt(0.02))
    assert primary.loc[1e-5, "status"] == "ok"
    assert primary.loc[1e-4, "seeds"] == 1
    assert primary.loc[1e-4, "failed"] == 1
    assert primary.loc[1e-4, "status"] == "some runs failed"
    assert "seed 2: Training diverged" in primary.loc[1e-4, "failures"]
    assert primary.loc[1e-2, "status"] == "failed"
    assert primary.loc[1e-2, "seeds"] == 0
    assert math.isnan(primary.loc[1e-2, "f1_mean"])
    assert list(primary["best"]) == [False, True, False]
    # Every score of the finished rates, one row for the rate whose runs all failed.
    assert len(table) == 2 + 2 + 1


def test_run_seeds_never_overwrites_summary(tmp_path, data_dir):
    config = RunConfig(
        dataset="arrhythmia", nb_epochs=0, data_dir=str(data_dir), logdir=str(tmp_path), verbose=0
    )
    first = experiments.run_seeds(config, [4])
    second = experiments.run_seeds(config, [4])

    folder = tmp_path / "alad" / "arrhythmia" / "fm_w0.1_sn0_dzz0_es0_test_percentile" / "label0"
    assert first.csv_path == folder / "seeds_summary.csv"
    assert second.csv_path == folder / "seeds_summary_2.csv"
    assert second.markdown_path == folder / "seeds_summary_2.md"
    assert (folder / "rd4").is_dir()
    assert (folder / "rd4_2").is_dir()
    written = pd.read_csv(first.csv_path)
    assert list(written["score"]) == ["ch", "l1", "l2", "fm"]
    summary = first.summaries[0]
    assert written.loc[3, "f1_mean"] == pytest.approx(summary["metrics"]["fm"]["f1"])
    assert "label0/rd4_2`" in second.markdown_path.read_text()


def test_run_config_rejects_unknown_model():
    with pytest.raises(ValueError, match="Unknown model 'foo'. Expected one of: alad, bigan."):
        RunConfig(model="foo", dataset="arrhythmia").validate()


def test_run_seeds_rejects_export_dir(tmp_path):
    config = RunConfig(dataset="arrhythmia", logdir=str(tmp_path), export_dir=str(tmp_path / "export"))
    with pytest.raises(ValueError, match="--export_dir copies one SavedModel, but this command starts 2 runs"):
        experiments.run_seeds(config, [1, 2])


def _write_summary(folder, summary):
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(summary))


def test_report_groups_gan_and_baseline_runs(tmp_path):
    logdir = tmp_path / "logs"
    configuration = logdir / "alad" / "kdd" / "fm_w0.1_sn0_dzz0_es0_test_percentile" / "label0"
    for seed, f1 in ((1, 0.5), (2, 0.7)):
        summary = _summary(f1)
        summary["flags"] = {
            "model": "alad", "dataset": "kdd", "threshold": "test_percentile", "rd": seed,
            "nb_epochs": 10, "batch_size": 50, "learning_rate": 1e-5,
        }
        _write_summary(configuration / f"rd{seed}", summary)
    leak_free = _summary(0.9)
    leak_free["flags"] = {"model": "alad", "dataset": "kdd", "threshold": "train_percentile", "rd": 1}
    _write_summary(logdir / "alad" / "kdd" / "fm_w0.1_sn0_dzz0_es0_train_percentile" / "label0" / "rd1", leak_free)
    baseline = {
        "kind": "baseline",
        "flags": {
            "model": "baselines", "baseline": "iforest", "dataset": "kdd",
            "threshold": "test_percentile", "rd": 1, "label": 0,
        },
        "metrics": {"iforest": {"precision": 0.8, "recall": 0.6, "f1": 0.68, "auroc": 0.9, "auprc": 0.7, "threshold": 0.1}},
        "mean_inference_time_s": 0.5,
    }
    _write_summary(logdir / "baselines" / "kdd" / "iforest_test_percentile" / "label0" / "rd1", baseline)
    in_progress = configuration / "rd3"
    in_progress.mkdir()
    (in_progress / "config.json").write_text("{}")
    (logdir / "broken").mkdir()
    (logdir / "broken" / "summary.json").write_text("{not json")

    written = report.write_report(logdir, tmp_path / "out" / "report.md")
    text = written.text

    assert written.run_count == 4
    assert written.configuration_count == 3
    assert written.replaced is False
    assert "## kdd" in text
    test_section = text.split("### Test percentile (reference rule)")[1].split("### Train percentile")[0]
    gan_row = "| alad | `fm_w0.1_sn0_dzz0_es0_test_percentile/label0` | 10 | 1e-05 | fm | 2 | 0.6000 ± 0.1414 |"
    assert gan_row in test_section
    baseline_row = "| baseline iforest | `iforest_test_percentile/label0` | – | – | iforest | 1 | 0.8000 |"
    assert baseline_row in test_section
    assert test_section.index(gan_row) < test_section.index(baseline_row)
    assert "### Train percentile (leak-free)" in text
    assert "| 0.9000 |" in text.split("### Train percentile (leak-free)")[1]
    assert "1 run folder without summary.json (in progress or failed) left out" in text
    assert "`alad/kdd/fm_w0.1_sn0_dzz0_es0_test_percentile/label0/rd3`" in text
    assert "`broken/summary.json` (unreadable:" in text

    again = report.write_report(logdir, tmp_path / "out" / "report.md")
    assert again.replaced is True
    results_csv = tmp_path / "out" / "results.csv"
    results_csv.write_text("Method,F1 score\nfm,0.5\n")
    with pytest.raises(ValueError, match=r"Invalid --output .*results\.csv: the file exists and is not a report"):
        report.write_report(logdir, results_csv)
    assert results_csv.read_text() == "Method,F1 score\nfm,0.5\n"
    empty = tmp_path / "out" / "empty.md"
    empty.touch()
    assert report.write_report(logdir, empty).replaced is True

    # /proc accepts no new folders, even for root.
    with pytest.raises(ValueError, match=r"Failed to write the report to /proc/alad_tf_report/report\.md: "):
        report.write_report(logdir, "/proc/alad_tf_report/report.md")


def test_report_rejects_missing_logdir(tmp_path):
    with pytest.raises(ValueError, match="Log folder .*nowhere not found"):
        report.write_report(tmp_path / "nowhere")


def test_report_rejects_file_paths(tmp_path):
    log_file = tmp_path / "notes.txt"
    log_file.write_text("kept\n")
    with pytest.raises(ValueError, match=f"Invalid --logdir {log_file}: it is a file, not a folder"):
        report.write_report(log_file)
    (tmp_path / "logs").mkdir()
    with pytest.raises(ValueError, match=f"Invalid --output .*: {log_file} is a file, not a folder"):
        report.write_report(tmp_path / "logs", log_file / "report.md")
    assert log_file.read_text() == "kept\n"


def test_report_rejects_logdir_without_runs(tmp_path):
    logdir = tmp_path / "logs"
    (logdir / "alad" / "rd1").mkdir(parents=True)
    (logdir / "alad" / "rd1" / "config.json").write_text("{}")
    (logdir / "broken").mkdir()
    (logdir / "broken" / "summary.json").write_text("{")
    output = tmp_path / "out" / "report.md"
    with pytest.raises(ValueError) as raised:
        report.write_report(logdir, output)
    message = str(raised.value)
    assert message.startswith(f"Log folder {logdir} contains no run folders with results")
    assert "Found 1 run folder without summary.json, in progress or failed." in message
    assert "Found 1 summary.json file that could not be read or had no metrics." in message
    assert "\n" not in message
    assert not output.parent.exists()
    assert not (logdir / "report.md").exists()


def test_report_separates_settings_and_repeated_seeds(tmp_path):
    logdir = tmp_path / "logs"
    configuration = logdir / "alad" / "kdd" / "fm_w0.1_sn0_dzz0_es0_test_percentile" / "label0"
    flags = {"model": "alad", "dataset": "kdd", "threshold": "test_percentile", "nb_epochs": 10}
    runs = [
        ("rd1", 1, 1, 0.1), ("rd1_10", 1, 1, 0.6), ("rd1_2", 1, 1, 0.5), ("rd2", 2, 1, 0.7),
        ("rd1_3", 1, 2, 0.9),
    ]
    for folder, seed, degree, f1 in runs:
        summary = _summary(f1)
        summary["flags"] = {**flags, "rd": seed, "d": degree}
        _write_summary(configuration / folder, summary)

    text = report.write_report(logdir, tmp_path / "report.md").text

    # rd1 was run three times with d=1: its latest run (rd1_10) counts once.
    assert "| alad | `fm_w0.1_sn0_dzz0_es0_test_percentile/label0` | 10 | default | fm | 2 | 0.6500 ± 0.0707 |" in text
    assert (
        "2 earlier runs of a seed run again with the same settings left out (the latest run "
        "of each seed counts): `alad/kdd/fm_w0.1_sn0_dzz0_es0_test_percentile/label0/rd1`, "
        "`alad/kdd/fm_w0.1_sn0_dzz0_es0_test_percentile/label0/rd1_2`"
    ) in text
    assert "| alad | `fm_w0.1_sn0_dzz0_es0_test_percentile/label0` (d=2) | 10 | default | fm | 1 | 0.9000 |" in text


def test_report_separates_tables_with_one_file_name(tmp_path):
    logdir = tmp_path / "logs"
    configuration = (
        logdir / "alad" / "csv" / "flows_csv" / "fm_w0.1_sn0_dzz0_es0_test_percentile_scaled"
        / "label0"
    )
    runs = [("rd7", "/data/a/flows.csv", 0.5), ("rd7_2", "/data/b/flows.csv", 0.9),
            ("rd8", "/data/b/flows.csv", 0.7)]
    for folder, data_path, f1 in runs:
        summary = _summary(f1)
        summary["flags"] = {
            "model": "alad", "dataset": "csv", "threshold": "test_percentile", "nb_epochs": 10,
            "rd": int(folder[2]), "data_path": data_path,
        }
        _write_summary(configuration / folder, summary)

    text = report.write_report(logdir, tmp_path / "report.md").text

    assert "from 3 finished runs in 2 configurations" in text
    folder = "`fm_w0.1_sn0_dzz0_es0_test_percentile_scaled/label0`"
    assert f"| alad | {folder} (data_path=/data/a/flows.csv) | 10 | default | fm | 1 | 0.5000 |" in text
    assert f"| alad | {folder} (data_path=/data/b/flows.csv) | 10 | default | fm | 2 | 0.8000 ± 0.1414 |" in text


def test_report_scored_epochs_early_stop(tmp_path):
    logdir = tmp_path / "logs"
    flags = {"model": "alad", "dataset": "kdd", "threshold": "test_percentile", "nb_epochs": 30}
    # (epochs trained before, epochs run, epoch_used) of two seeds: the second
    # seed was resumed after 10 epochs.
    for early_stop, epochs in ((True, ((0, 23, 11), (10, 20, 24))), (False, ((0, 30, 29), (0, 30, 29)))):
        configuration = logdir / "alad" / "kdd" / f"fm_w0.1_sn0_dzz0_es{int(early_stop)}_test_percentile" / "label0"
        for seed, (initial_epoch, epochs_run, epoch_used) in enumerate(epochs, start=1):
            summary = _summary(0.5)
            summary["flags"] = {**flags, "rd": seed, "enable_early_stop": early_stop}
            summary.update(initial_epoch=initial_epoch, epochs_run=epochs_run, epoch_used=epoch_used)
            _write_summary(configuration / f"rd{seed}", summary)

    text = report.write_report(logdir, tmp_path / "report.md").text

    # epoch_used counts from 0: the weights after 12 and 25 epochs scored.
    assert "| alad | `fm_w0.1_sn0_dzz0_es1_test_percentile/label0` | 30 (trained 23–30, scored after 12–25) | default |" in text
    assert "| alad | `fm_w0.1_sn0_dzz0_es0_test_percentile/label0` | 30 | default |" in text


def test_report_plot_headings_name_epochs(tmp_path):
    logdir = tmp_path / "logs"
    configuration = logdir / "alad" / "kdd" / "fm_w0.1_sn0_dzz0_es0_test_percentile" / "label0"
    for folder, epochs in (("rd1", 10), ("rd1_2", 20)):
        summary = _summary(0.5)
        summary["flags"] = {
            "model": "alad", "dataset": "kdd", "threshold": "test_percentile", "rd": 1,
            "nb_epochs": epochs, "batch_size": 50, "learning_rate": 1e-5,
        }
        _write_summary(configuration / folder, summary)
        # The report links the plot files that exist, whatever their content.
        (configuration / folder / "roc.png").write_bytes(b"png")

    text = report.write_report(logdir, tmp_path / "report.md").text

    headings = [line for line in text.splitlines() if line.startswith("#### alad: ")]
    assert headings == [
        f"#### alad: `fm_w0.1_sn0_dzz0_es0_test_percentile/label0`, {epochs} epochs, batch 50, "
        f"learning rate 1e-05, test percentile (reference rule)"
        for epochs in (10, 20)
    ]


@pytest.mark.parametrize(
    "options, message",
    [
        ({"rd": "1,2"}, r"Invalid --rd '1,2': expected a whole number. For several seeds, call "),
        ({"rd": None}, "Invalid --rd None: expected a whole number."),
        ({"rd": True}, "Invalid --rd True: expected a whole number."),
        ({"nb_epochs": 1.5}, "Invalid --nb_epochs 1.5: expected a whole number."),
        ({"batch_size": "32"}, "Invalid --batch_size '32': expected a whole number."),
    ],
)
def test_run_config_rejects_non_integers(options, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(dataset="arrhythmia", **options).validate()


def test_prepare_accepts_numpy_integers(data_dir):
    import numpy as np

    from alad_tf.experiment import prepare_experiment

    config = RunConfig(
        dataset="arrhythmia", data_dir=str(data_dir), rd=np.int64(3), nb_epochs=np.int64(1),
        batch_size=np.int32(32),
    )
    prepared, _, _, _ = prepare_experiment(config)
    assert type(prepared.rd) is int
    assert type(prepared.nb_epochs) is int
    assert type(prepared.batch_size) is int
