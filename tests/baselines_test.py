"""Baselines on the real KDD99, Arrhythmia and MNIST splits."""

import json

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from alad_tf import baselines, evaluation, results
from alad_tf.experiment import RunConfig
from conftest import run_cli

# Rows of the KDD99 test set used by the quicker checks.
TEST_SUBSET = 5000

SUMMARY_KEYS = {
    "run_dir", "kind", "flags", "primary_score", "metrics", "mean_inference_time_s",
    "training_seconds", "total_seconds",
}


def _metrics(splits, scores):
    return evaluation.evaluate_scores(
        splits.y_test, {"score": scores}, "test_percentile", splits.test_percentile
    )["score"]


@pytest.fixture(scope="module")
def fitted_kdd(kdd_splits):
    """Every scikit-learn baseline fitted on the KDD99 training rows, OCSVM and kNN on 2,000 rows."""
    # One BLAS thread, as run_baselines uses by default: it fits PCA faster
    # on CPUs shared with other jobs.
    with threadpool_limits(limits=1):
        return {
            "iforest": baselines.IsolationForestBaseline(rd=42).fit(kdd_splits.x_train),
            "pca": baselines.PCABaseline(rd=42).fit(kdd_splits.x_train),
            "ocsvm": baselines.OneClassSVMBaseline(rd=42, max_train_rows=2000).fit(
                kdd_splits.x_train
            ),
            "knn": baselines.KNNBaseline(rd=42, max_reference_rows=2000).fit(kdd_splits.x_train),
        }


def test_iforest_f1_on_kdd(kdd_splits, fitted_kdd):
    metrics = _metrics(kdd_splits, fitted_kdd["iforest"].score(kdd_splits.x_test))
    # Measured with scikit-learn 1.9.1; seeds 0 to 3 gave F1 0.921 to 0.925.
    assert metrics["f1"] == pytest.approx(0.9232, abs=0.005)
    assert metrics["auroc"] == pytest.approx(0.9854, abs=0.005)


def test_pca_f1_on_kdd(kdd_splits, fitted_kdd):
    metrics = _metrics(kdd_splits, fitted_kdd["pca"].score(kdd_splits.x_test))
    assert metrics["f1"] == pytest.approx(0.9623, abs=0.003)
    assert metrics["auroc"] == pytest.approx(0.9928, abs=0.003)
    assert fitted_kdd["pca"].params()["fitted_components"] == 74


@pytest.mark.parametrize("name", ["iforest", "pca", "ocsvm", "knn"])
def test_anomalies_score_higher(kdd_splits, fitted_kdd, name):
    x, y = kdd_splits.x_test[:TEST_SUBSET], kdd_splits.y_test[:TEST_SUBSET]
    scores = fitted_kdd[name].score(x)
    assert scores.shape == (TEST_SUBSET,)
    assert np.all(np.isfinite(scores))
    assert scores[y == 1].mean() > scores[y == 0].mean()
    assert evaluation.binary_metrics(y, scores, np.percentile(scores, 80))["auroc"] > 0.9


def test_subsamples_are_capped(fitted_kdd):
    assert fitted_kdd["ocsvm"].params()["train_rows"] == 2000
    assert fitted_kdd["knn"].params()["reference_rows"] == 2000


@pytest.mark.parametrize(
    "make",
    [
        lambda rd: baselines.IsolationForestBaseline(rd=rd, n_estimators=20),
        lambda rd: baselines.OneClassSVMBaseline(rd=rd, max_train_rows=1000),
        lambda rd: baselines.KNNBaseline(rd=rd, max_reference_rows=1000),
    ],
    ids=["iforest", "ocsvm", "knn"],
)
def test_same_seed_same_scores(kdd_splits, make):
    x_train, x_test = kdd_splits.x_train[:20000], kdd_splits.x_test[:2000]
    first = make(7).fit(x_train).score(x_test)
    second = make(7).fit(x_train).score(x_test)
    other_seed = make(8).fit(x_train).score(x_test)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other_seed)


def test_untrained_alad_scores(kdd_splits):
    x = kdd_splits.x_test[:500]
    first = baselines.UntrainedALADBaseline("kdd", rd=3).fit(kdd_splits.x_train[:100])
    second = baselines.UntrainedALADBaseline("kdd", rd=3).fit(kdd_splits.x_train[:100])
    scores = first.scores(x)
    assert list(scores) == [
        "untrained_alad_ch", "untrained_alad_l1", "untrained_alad_l2", "untrained_alad_fm",
    ]
    for values in scores.values():
        assert values.shape == (500,)
        assert np.all(np.isfinite(values))
    np.testing.assert_array_equal(first.score(x), scores["untrained_alad_fm"])
    np.testing.assert_array_equal(second.score(x), scores["untrained_alad_fm"])


def test_chunked_scores_match_whole(kdd_splits, fitted_kdd):
    x = kdd_splits.x_test[:1030]
    scores, mean_seconds = baselines.score_in_chunks(fitted_kdd["pca"], x, 50)
    assert list(scores) == ["pca"]
    # PCA keeps float32 rows, so BLAS blocking changes the last bits of each error.
    np.testing.assert_allclose(scores["pca"], fitted_kdd["pca"].score(x), rtol=1e-5, atol=1e-5)
    assert mean_seconds > 0


def test_unknown_name_rejected():
    with pytest.raises(ValueError, match="Unknown baseline 'lof'. Expected .*iforest"):
        baselines.run_baselines("kdd", names=["iforest", "lof"])


@pytest.mark.parametrize(
    "options, message",
    [
        ({"names": []}, "No baseline to run"),
        ({"threshold": "top_k"}, "Invalid --threshold 'top_k'"),
        ({"threshold_percentile": 101}, "Invalid --threshold_percentile 101"),
        ({"batch_size": 0}, "Invalid --batch_size 0"),
        ({"threads": -1}, "Invalid --intra_op_threads -1"),
    ],
)
def test_invalid_settings_rejected(options, message):
    with pytest.raises(ValueError, match=message):
        baselines.run_baselines("kdd", **{"names": ["iforest"], **options})


def test_logdir_file_rejected(tmp_path):
    logdir = tmp_path / "results.txt"
    logdir.write_text("kept\n")
    with pytest.raises(ValueError, match=f"Invalid --logdir {logdir}: .* is a file, not a folder"):
        baselines.run_baselines("kdd", names=["iforest"], logdir=str(logdir))
    assert logdir.read_text() == "kept\n"


def test_untrained_alad_rejected_on_mnist():
    assert "untrained_alad" not in baselines.available_baselines("mnist")
    assert baselines.available_baselines("kdd") == list(baselines.BASELINES)
    with pytest.raises(ValueError, match="untrained_alad is not available for mnist"):
        baselines.run_baselines("mnist", names=["untrained_alad"])


def test_run_writes_folders_arrhythmia(data_dir, tmp_path):
    logdir = tmp_path / "logs"
    summaries = baselines.run_baselines(
        "arrhythmia", data_dir=str(data_dir), rd=5, threshold="train_percentile",
        logdir=str(logdir),
    )
    assert [summary["flags"]["baseline"] for summary in summaries] == list(baselines.BASELINES)

    for summary in summaries:
        name = summary["flags"]["baseline"]
        run_dir = logdir / "baselines" / "arrhythmia" / f"{name}_train_percentile" / "label0" / "rd5"
        assert summary["run_dir"] == str(run_dir)
        written = json.loads((run_dir / "summary.json").read_text())
        assert set(written) == SUMMARY_KEYS
        assert written["kind"] == "baseline"
        assert written["flags"]["model"] == "baselines"
        assert written["flags"]["dataset"] == "arrhythmia"
        assert written["flags"]["threshold"] == "train_percentile"
        assert written["flags"]["rd"] == 5
        assert written["flags"]["batch_size"] == 32
        assert written["primary_score"] in written["metrics"]
        assert written["mean_inference_time_s"] > 0

        table = pd.read_csv(run_dir / "results.csv")
        assert list(table.columns) == results.RUN_COLUMNS
        assert list(table["Method"]) == list(written["metrics"])
        assert set(table["Threshold mode"]) == {"train_percentile"}
        assert set(table["Step"]) == {0}

        arrays = np.load(run_dir / "test_scores.npz")
        assert sorted(arrays.files) == sorted(["y_test", *written["metrics"]])
        assert arrays["y_test"].shape == (226,)

    assert summaries[-1]["primary_score"] == "untrained_alad_fm"
    assert len(summaries[-1]["metrics"]) == 4
    assert summaries[2]["flags"]["train_rows"] == 204

    global_table = pd.read_csv(logdir / "results.csv")
    assert list(global_table.columns) == results.GLOBAL_COLUMNS
    assert list(global_table["Model"]) == [
        "iforest", "pca", "ocsvm", "knn", *["untrained_alad"] * 4,
    ]


def test_rerun_never_overwrites(data_dir, tmp_path):
    logdir = tmp_path / "logs"
    options = {"names": ["iforest"], "data_dir": str(data_dir), "rd": 1, "logdir": str(logdir)}
    first = baselines.run_baselines("arrhythmia", **options)[0]
    first_csv = logdir / "baselines" / "arrhythmia" / "iforest_test_percentile" / "label0" / "rd1" / "results.csv"
    before = first_csv.read_bytes()
    second = baselines.run_baselines("arrhythmia", **options)[0]
    assert second["run_dir"] == first["run_dir"] + "_2"
    assert first_csv.read_bytes() == before
    assert second["metrics"] == first["metrics"]
    assert len(pd.read_csv(logdir / "results.csv")) == 2


def test_mnist_images_flattened(mnist_dir, tmp_path):
    summaries = baselines.run_baselines(
        "mnist", names=["iforest", "pca"], data_dir=str(mnist_dir), label=3,
        logdir=str(tmp_path), batch_size=500,
    )
    for summary in summaries:
        assert summary["flags"]["label"] == 3
        assert 0.5 < summary["metrics"][summary["primary_score"]]["auroc"] <= 1


def test_gan_result_columns_unchanged(tmp_path):
    config = RunConfig(model="bigan", sn=True, label=2, rd=9)
    metrics = {
        "fm": {"auroc": 0.9, "precision": 0.8, "recall": 0.7, "f1": 0.75, "auprc": 0.6,
               "threshold": 1.5},
    }
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    results.write_run_results(run_dir, tmp_path, config, metrics, 123)
    row = pd.read_csv(tmp_path / "results.csv").iloc[0]
    assert row["Model"] == "bigan_snTrue_dzzFalse"
    assert row["Weight"] == "dzzenabledFalse"
    assert row["Label"] == 2
    assert row["Step"] == 123
    assert row["Run"] == str(run_dir)


def test_cli_runs_iforest_and_pca(data_dir, tmp_path):
    logdir = tmp_path / "logs"
    result = run_cli(
        "baselines", "run", "--baselines", "iforest,pca,untrained_alad", "--batch_size", "5000",
        "--logdir", str(logdir), "--data_dir", str(data_dir),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["score", "seed", "precision", "recall", "F1", "AUROC", "s/chunk"]
    assert lines[1].split()[:2] == ["iforest", "42"]
    assert float(lines[1].split()[4]) == pytest.approx(0.9232, abs=0.005)
    assert lines[2].split()[:2] == ["pca", "42"]
    assert float(lines[2].split()[4]) == pytest.approx(0.9623, abs=0.003)
    assert f"Results: {logdir}/results.csv" in result.stdout

    # The untrained networks give one fm value to a block of identical test
    # rows, and the threshold falls in that block. PCA scores have no such block.
    untrained_dir = logdir / "baselines" / "kdd" / "untrained_alad_test_percentile" / "label0" / "rd42"
    fm = json.loads((untrained_dir / "summary.json").read_text())["metrics"]["untrained_alad_fm"]
    assert fm["tied"] > 0.01 * 247_011
    tie_lines = [
        line for line in result.stderr.splitlines() if "score exactly the threshold" in line
    ]
    assert any(
        f"untrained_alad_fm: {fm['tied']:,} of 247,011 rows" in line for line in tie_lines
    )
    assert not any("[pca]" in line for line in tie_lines)

    run_dir = logdir / "baselines" / "kdd" / "pca_test_percentile" / "label0" / "rd42"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["flags"]["batch_size"] == 5000
    assert summary["flags"]["n_components"] == 0.95


def test_cli_unknown_baseline(data_dir, tmp_path):
    result = run_cli(
        "baselines", "run", "--baselines", "iforest,lof", "--logdir", str(tmp_path / "logs"),
        "--data_dir", str(data_dir),
    )
    assert result.returncode == 1
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error_lines == [
        "Error: Unknown baseline 'lof'. Expected a comma-separated list of: iforest, pca, "
        "ocsvm, knn, untrained_alad."
    ]
    assert not (tmp_path / "logs").exists()


def test_cli_baselines_needs_run_mode():
    result = run_cli("baselines", "fit")
    assert result.returncode != 0
    assert "Expected `baselines MODE` with MODE one of: run, got: baselines fit." in result.stderr


def test_labelled_table_runs_like_gan_split(kdd_table, tmp_path):
    from alad_tf.data import load_dataset

    logdir = tmp_path / "logs"
    options = {
        "data_path": str(kdd_table["path"]), "label_column": "41",
        "anomaly_values": ["normal."], "drop_columns": ["0"],
    }
    summaries = baselines.run_baselines(
        "csv", names=["iforest", "untrained_alad"], rd=3, logdir=str(logdir), **options
    )
    splits = load_dataset("csv", scale=True, **options)

    run_dir = logdir / "baselines" / "csv" / "kdd_sample_csv" / "iforest_test_percentile_scaled" / "label0" / "rd3"
    iforest = summaries[0]
    assert iforest["run_dir"] == str(run_dir)
    assert iforest["flags"]["dataset"] == "csv"
    assert iforest["flags"]["scale"] is True
    assert iforest["flags"]["drop_columns"] == ["0"]
    assert iforest["flags"]["batch_size"] == 50
    arrays = np.load(run_dir / "test_scores.npz")
    np.testing.assert_array_equal(arrays["y_test"], splits.y_test)
    # The baseline is fitted on and scores the same rows as a GAN run on this table.
    expected = baselines.IsolationForestBaseline(rd=3).fit(splits.x_train).score(splits.x_test)
    np.testing.assert_allclose(arrays["iforest"], expected, rtol=1e-6)
    assert iforest["metrics"]["iforest"]["f1"] == pytest.approx(
        _metrics(splits, expected)["f1"], rel=1e-6
    )
    assert not (run_dir / "scores.csv").exists()

    assert summaries[1]["primary_score"] == "untrained_alad_fm"
    assert len(summaries[1]["metrics"]) == 4


def test_unlabelled_table_writes_row_scores(kdd_table, tmp_path):
    logdir = tmp_path / "logs"
    summary = baselines.run_baselines(
        "csv", names=["pca"], rd=3, logdir=str(logdir), data_path=str(kdd_table["path"]),
        contamination=0.2,
    )[0]
    run_dir = logdir / "baselines" / "csv" / "kdd_sample_csv" / "pca_test_percentile_scaled" / "label0" / "rd3"
    assert summary["run_dir"] == str(run_dir)
    metrics = summary["metrics"]["pca"]
    assert set(metrics) == {"threshold", "flagged", "tied"}

    arrays = np.load(run_dir / "test_scores.npz")
    assert arrays.files == ["pca"]
    assert arrays["pca"].shape == (4000,)
    assert metrics["threshold"] == pytest.approx(np.percentile(arrays["pca"], 80), rel=1e-6)

    scores = pd.read_csv(run_dir / "scores.csv")
    assert list(scores.columns) == ["row", "pca", "is_anomaly"]
    assert len(scores) == 4000
    assert scores["is_anomaly"].sum() == metrics["flagged"]
    np.testing.assert_array_equal(scores["is_anomaly"], scores["pca"] >= metrics["threshold"])

    table = pd.read_csv(run_dir / "results.csv")
    assert table["F1 score"].isna().all()
    assert table["Threshold"].iloc[0] == pytest.approx(metrics["threshold"])


@pytest.mark.parametrize(
    "dataset, options, message",
    [
        ("kdd", {"data_path": "table.csv"}, "--data_path is not available for kdd: it applies to --dataset csv"),
        ("csv", {}, "--dataset csv needs --data_path FILE"),
        (
            "csv", {"data_path": "table.csv", "contamination": 0.1, "threshold": "train_percentile"},
            "--contamination sets the test-percentile threshold",
        ),
    ],
)
def test_table_options_checked(dataset, options, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        baselines.run_baselines(dataset, names=["iforest"], logdir=str(tmp_path / "logs"), **options)


def test_cli_baselines_on_tables(kdd_table, tmp_path):
    logdir = tmp_path / "logs"
    common = ["--dataset", "csv", "--data_path", str(kdd_table["path"]), "--rd", "3", "--logdir", str(logdir)]

    labelled = run_cli(
        "baselines", "run", "--baselines", "iforest", "--label_column", "41",
        "--anomaly_values", "normal.", *common,
    )
    assert labelled.returncode == 0, labelled.stderr[-3000:]
    lines = labelled.stdout.splitlines()
    assert lines[0].split() == ["score", "seed", "precision", "recall", "F1", "AUROC", "s/chunk"]
    assert lines[1].split()[:2] == ["iforest", "3"]

    unlabelled = run_cli("baselines", "run", "--baselines", "knn", "--contamination", "0.2", *common)
    assert unlabelled.returncode == 0, unlabelled.stderr[-3000:]
    lines = unlabelled.stdout.splitlines()
    assert lines[0].split() == ["score", "seed", "threshold", "flagged", "s/chunk"]
    run_dir = logdir / "baselines" / "csv" / "kdd_sample_csv" / "knn_test_percentile_scaled" / "label0" / "rd3"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert lines[1].split()[:2] == ["knn", "3"]
    assert int(lines[1].split()[3]) == summary["metrics"]["knn"]["flagged"]
    assert f"Row scores: {run_dir}/scores.csv" in unlabelled.stdout
