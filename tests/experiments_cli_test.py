"""Seed lists, sweeps and the report through the command line, on the real Arrhythmia data."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from conftest import run_cli
from plots_test import assert_png, read_images

CONFIGURATION = "fm_w0.1_sn0_dzz0_es0_test_percentile"

BASELINE_SUMMARY = {
    "kind": "baseline",
    "flags": {
        "model": "baselines", "baseline": "iforest", "dataset": "arrhythmia",
        "threshold": "test_percentile", "rd": 1, "label": 0,
    },
    "metrics": {
        "iforest": {"precision": 0.55, "recall": 0.5, "f1": 0.5238, "auroc": 0.8, "auprc": 0.5, "threshold": 0.1},
    },
    "mean_inference_time_s": 0.002,
}


@pytest.fixture(scope="module")
def experiment_logs(tmp_path_factory, data_dir):
    """A two-seed run, a two-rate sweep with a diverging rate, a baseline summary and a report."""
    root = tmp_path_factory.mktemp("experiments")
    logdir = root / "logs"
    common = ["--dataset", "arrhythmia", "--nb_epochs", "1", "--logdir", str(logdir), "--data_dir", str(data_dir)]

    seeds = run_cli("alad", "run", "--rd", "1,2", *common)
    assert seeds.returncode == 0, seeds.stderr[-3000:]
    # A learning rate of 1e6 makes the losses infinite within one epoch.
    sweep = run_cli(
        "alad", "sweep", "--rd", "1", "--learning_rates", "1e-4,1e6", "--verbose", "0", *common
    )
    # The tables are written, then the failed run gives exit status 1, as in a seed list.
    assert sweep.returncode == 1, sweep.stderr[-3000:]
    assert "Error: 1 of 2 runs failed. The table covers the others." in sweep.stderr

    baseline_dir = logdir / "baselines" / "arrhythmia" / "iforest_test_percentile" / "label0" / "rd1"
    baseline_dir.mkdir(parents=True)
    (baseline_dir / "summary.json").write_text(json.dumps(BASELINE_SUMMARY))
    output = root / "out" / "report.md"
    report = run_cli("report", "--logdir", str(logdir), "--output", str(output))
    assert report.returncode == 0, report.stderr[-3000:]
    return {
        "logdir": logdir, "label_dir": logdir / "alad" / "arrhythmia" / CONFIGURATION / "label0",
        "seeds": seeds, "sweep": sweep, "report": report, "output": output,
    }


def test_seed_list_keeps_run_folders(experiment_logs):
    label_dir = experiment_logs["label_dir"]
    for seed in (1, 2):
        summary = json.loads((label_dir / f"rd{seed}" / "summary.json").read_text())
        assert summary["flags"]["rd"] == seed
        assert summary["epochs_run"] == 1
    log = experiment_logs["seeds"].stderr
    assert "Epoch 0 | time = " in log
    assert "[alad.arrhythmia.label0.rd2] Testing at step 7, method fm" in log


def test_seed_list_summary_table(experiment_logs):
    label_dir = experiment_logs["label_dir"]
    f1 = [
        json.loads((label_dir / f"rd{seed}" / "summary.json").read_text())["metrics"]["fm"]["f1"]
        for seed in (1, 2)
    ]
    table = pd.read_csv(label_dir / "seeds_summary.csv").set_index("score")
    assert list(table.index) == ["ch", "l1", "l2", "fm"]
    assert table.loc["fm", "seeds"] == 2
    assert table.loc["fm", "f1_mean"] == pytest.approx(np.mean(f1))
    assert table.loc["fm", "f1_std"] == pytest.approx(np.std(f1, ddof=1), abs=1e-12)

    markdown = (label_dir / "seeds_summary.md").read_text()
    assert "| score | seeds | precision | recall | F1 | AUROC | AUPRC |" in markdown
    output = experiment_logs["seeds"].stdout
    assert "| fm | 2 | " in output
    assert "Summary over seeds: " in output


def test_report_of_empty_logdir_exits_1(tmp_path):
    result = run_cli("report", "--logdir", str(tmp_path), timeout=120)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"Error: Log folder {tmp_path} contains no run folders with results (a summary.json "
        f"with metrics). Pass the --logdir of finished runs."
    ]
    assert result.stdout == ""
    assert not (tmp_path / "report.md").exists()


def test_piped_output_has_run_lines_only(experiment_logs):
    output = experiment_logs["seeds"].stdout
    assert "Seeds 1/2 " in output
    assert "Seeds 2/2 " in output
    # run_cli pipes standard output, so the training bar is not drawn.
    assert "7/7" not in output
    assert "\r" not in output
    assert "\x1b[" not in output


def test_run_plots_and_tensorboard_images(experiment_logs):
    run_dir = experiment_logs["label_dir"] / "rd1"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert set(summary["plots"]) == {"losses", "roc", "precision_recall", "score_histograms"}
    for file_name in summary["plots"].values():
        assert_png(run_dir / file_name)
    images = read_images(run_dir / "plots")
    assert set(images) == {f"plots/{name}" for name in summary["plots"]}
    assert images["plots/roc"].shape[-1] == 3


def test_sweep_records_diverged_rate(experiment_logs):
    label_dir = experiment_logs["label_dir"]
    table = pd.read_csv(label_dir / "lr_sweep.csv")
    primary = table[table["primary"]].set_index("learning_rate")
    assert list(primary.index) == [1e-4, 1e6]
    assert primary.loc[1e-4, "status"] == "ok"
    assert primary.loc[1e-4, "best"]
    assert primary.loc[1e6, "status"] == "failed"
    assert "seed 1: Training diverged" in primary.loc[1e6, "failures"]
    assert set(table[table["learning_rate"] == 1e-4]["score"]) == {"ch", "l1", "l2", "fm"}

    assert_png(label_dir / "lr_sweep_f1.png")
    assert set(read_images(label_dir / "lr_sweep_plots")) == {"sweep/f1_vs_learning_rate"}
    markdown = (label_dir / "lr_sweep.md").read_text()
    assert "| **0.0001 (best)** | 1 |" in markdown
    assert "| 1e+06 | 0 | – | – | – | – | failed: 1 of 1 runs (see Runs) |" in markdown
    run_dir = label_dir.parent.parent / f"{CONFIGURATION}_lr0.0001" / "label0" / "rd1"
    assert (run_dir / "summary.json").is_file()


def test_sweep_quiet_with_verbose_0(experiment_logs):
    output = experiment_logs["sweep"].stdout
    assert "━" not in output
    assert "Sweep 1/2" not in output
    assert "Best learning rate: 0.0001" in output


def test_report_tables_and_images(experiment_logs):
    output = experiment_logs["output"]
    text = output.read_text()
    section = text.split("### Test percentile (reference rule)")[1].split("## arrhythmia: plots")[0]
    gan_row = f"| alad | `{CONFIGURATION}/label0` | 1 | 1e-05 | fm | 2 | "
    assert gan_row in section
    assert f"| alad | `{CONFIGURATION}_lr0.0001/label0` | 1 | 0.0001 | fm | 1 | " in section
    baseline_row = "| baseline iforest | `iforest_test_percentile/label0` | – | – | iforest | 1 | 0.5500 |"
    assert baseline_row in section
    assert "without summary.json (in progress or failed) left out" in text
    assert "_lr1e+06/label0/rd1`" in text
    assert "## Learning-rate sweeps" in text

    targets = re.findall(r"\]\(<?([^)>]+)>?\)", text)
    images = re.findall(r"!\[[^\]]*\]\(<?([^)>]+)>?\)", text)
    assert len(images) >= 5
    for target in targets:
        assert (output.parent / target).is_file(), target

    printed = experiment_logs["report"].stdout
    assert gan_row in printed
    assert f"written to {output}" in printed


@pytest.mark.parametrize(
    "args, message",
    [
        (["alad", "run", "--rd", "1,x"], "Error: Invalid --rd '1,x': 'x' is not a seed."),
        (["alad", "sweep", "--rd", "1", "--learning_rates", "1e-4,abc"], "Error: Invalid --learning_rates '1e-4,abc'"),
        (["alad", "sweep", "--rd", "1"], "Error: The sweep mode needs --learning_rates"),
        (["alad", "run", "--learning_rates", "1e-4"], "Error: --learning_rates is read by the sweep mode only"),
    ],
)
def test_bad_lists_exit_1(args, message, tmp_path):
    result = run_cli(*args, "--dataset", "arrhythmia", "--logdir", str(tmp_path / "logs"), timeout=300)
    assert result.returncode == 1
    assert message in result.stderr
    assert not (tmp_path / "logs").exists()
