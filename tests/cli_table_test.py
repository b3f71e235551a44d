"""The user's own tables through the command line, and the exported table endpoint."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from conftest import run_cli


def _run_folder(logdir, model, table, flags):
    return logdir / model / "csv" / table / flags / "label0" / "rd3"


def test_labelled_table_run_and_raw_row_scoring(kdd_table, tmp_path):
    from alad_tf.export import PREPROCESSING_FILE, score_table

    logdir = tmp_path / "logs"
    result = run_cli(
        "alad", "run", "--dataset", "csv", "--data_path", str(kdd_table["path"]),
        "--label_column", "41", "--anomaly_values", "normal.", "--nb_epochs", "1",
        "--rd", "3", "--logdir", str(logdir),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert " fm: precision" in result.stdout
    assert "Read " in result.stderr
    assert "without a header line" in result.stderr
    run_dir = _run_folder(logdir, "alad", "kdd_sample_csv", "fm_w0.1_sn0_dzz0_es0_test_percentile_scaled")
    assert (run_dir / PREPROCESSING_FILE).is_file()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["flags"]["scale"] is True
    assert summary["flags"]["anomaly_values"] == ["normal."]

    # The raw rows, label column included, go through the exported preprocessing.
    frame = kdd_table["frame"]
    scored = score_table(run_dir / "saved_model", frame)
    assert list(scored.columns) == ["ch", "l1", "l2", "fm", "score", "is_anomaly", "unseen_categories"]
    _, test_rows = train_test_split(np.arange(len(frame)), test_size=0.5, random_state=42)
    saved = np.load(run_dir / "test_scores.npz")
    for name in ("ch", "l1", "l2", "fm"):
        np.testing.assert_allclose(
            scored[name].to_numpy()[test_rows], saved[name], rtol=1e-5, atol=1e-5, err_msg=name
        )
    threshold = summary["metrics"]["fm"]["threshold"]
    np.testing.assert_array_equal(scored["is_anomaly"], scored["fm"] >= threshold)

    assert list(score_table(run_dir / "saved_model", frame.iloc[10:13]).index) == [10, 11, 12]

    # An unseen category is counted, and a missing column is named.
    changed = frame.head(4).copy()
    changed[1] = ["tcp", "sctp", "udp", "sctp"]
    assert list(score_table(run_dir / "saved_model", changed)["unseen_categories"]) == [0, 1, 0, 1]
    # Training saw no missing protocol, so a missing one is an unseen category.
    changed[1] = ["tcp", np.nan, "udp", None]
    assert list(score_table(run_dir / "saved_model", changed)["unseen_categories"]) == [0, 1, 0, 1]
    with pytest.raises(ValueError, match="lack the columns 3"):
        score_table(run_dir / "saved_model", frame.drop(columns=[3]))
    gaps = frame.head(4).copy()
    gaps[0] = [1.0, np.nan, 2.0, 3.0]
    with pytest.raises(ValueError, match="1 numeric values are missing, not numbers or infinite, in columns 0"):
        score_table(run_dir / "saved_model", gaps)
    with pytest.raises(ValueError, match=f"SavedModel folder {run_dir / 'nowhere'} not found"):
        score_table(run_dir / "nowhere", gaps)


def test_unlabelled_table_run_flags_contamination(kdd_table, tmp_path):
    logdir = tmp_path / "logs"
    result = run_cli(
        "bigan", "run", "--dataset", "csv", "--data_path", str(kdd_table["path"]),
        "--contamination", "0.2", "--nb_epochs", "1", "--rd", "3", "--logdir", str(logdir),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "flagged" in result.stdout
    run_dir = _run_folder(logdir, "bigan", "kdd_sample_csv", "fm_w0.1_sn0_dzz0_es0_test_percentile_scaled")
    scores = pd.read_csv(run_dir / "scores.csv")
    assert len(scores) == 4000
    assert list(scores["row"][:3]) == [0, 1, 2]
    assert "No labels: training on all 4000 rows" in result.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert "f1" not in summary["metrics"]["fm"]
    # The threshold is the 80th percentile, and rows tied with it are flagged
    # too: the sample repeats many identical rows.
    threshold = summary["metrics"]["fm"]["threshold"]
    assert threshold == pytest.approx(np.percentile(scores["fm"], 80), rel=1e-6)
    np.testing.assert_array_equal(scores["is_anomaly"], scores["fm"] >= threshold)
    assert scores["is_anomaly"].sum() == summary["metrics"]["fm"]["flagged"]
    strictly_above = scores["fm"].astype(np.float32) > np.float32(threshold)
    assert strictly_above.mean() <= 0.2


def test_drop_columns_run_and_export(kdd_table, tmp_path):
    from alad_tf.export import EXPORT_INFO_FILE, PREPROCESSING_FILE, score_table

    frame = kdd_table["frame"].copy()
    frame.columns = [f"f{index}" for index in range(41)] + ["label"]
    frame.insert(0, "row_id", np.arange(len(frame)) * 7 + 1000)
    path = tmp_path / "with_ids.csv"
    frame.to_csv(path, index=False)
    logdir = tmp_path / "logs"
    result = run_cli(
        "alad", "run", "--dataset", "csv", "--data_path", str(path), "--label_column", "label",
        "--anomaly_values", "normal.", "--drop_columns", "row_id,f2", "--nb_epochs", "1",
        "--rd", "3", "--logdir", str(logdir),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Leaving out the columns row_id, f2 (--drop_columns)." in result.stderr

    run_dir = _run_folder(logdir, "alad", "with_ids_csv", "fm_w0.1_sn0_dzz0_es0_test_percentile_scaled")
    preprocessing = json.loads((run_dir / PREPROCESSING_FILE).read_text())
    assert preprocessing["dropped_columns"] == ["row_id", "f2"]
    names = [column["name"] for column in preprocessing["columns"]]
    assert "row_id" not in names
    assert "f2" not in names
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["flags"]["drop_columns"] == ["row_id", "f2"]

    saved_model = run_dir / "saved_model"
    export_info = json.loads((saved_model / EXPORT_INFO_FILE).read_text())
    inputs = export_info["table_inputs"]["numeric"] + export_info["table_inputs"]["categorical"]
    assert "row_id" not in inputs
    assert "f2" not in inputs
    assert export_info["table_inputs"]["dropped"] == ["row_id", "f2"]
    assert export_info["serve_input"] == "encoded"
    assert json.loads((saved_model / PREPROCESSING_FILE).read_text())["dropped_columns"] == ["row_id", "f2"]

    # Rows without the dropped columns score as the full rows do.
    full = score_table(saved_model, frame.head(200))
    trimmed = score_table(saved_model, frame.head(200).drop(columns=["row_id", "f2", "label"]))
    pd.testing.assert_frame_equal(full, trimmed)

    kdd = run_cli(
        "alad", "run", "--dataset", "kdd", "--drop_columns", "0", "--logdir", str(logdir),
    )
    assert kdd.returncode == 1
    assert "Error: --drop_columns is not available for kdd: it applies to --dataset csv." in kdd.stderr


def test_small_table_and_bad_label_exit_nonzero(kdd_table, tmp_path):
    small = tmp_path / "small.csv"
    kdd_table["frame"].head(40).to_csv(small, header=False, index=False)
    result = run_cli(
        "alad", "run", "--dataset", "csv", "--data_path", str(small), "--label_column", "41",
        "--anomaly_values", "normal.", "--logdir", str(tmp_path / "logs"),
    )
    assert result.returncode == 1
    assert "fewer than one batch of 50" in result.stderr

    result = run_cli(
        "alad", "run", "--dataset", "csv", "--data_path", str(kdd_table["path"]),
        "--label_column", "class", "--logdir", str(tmp_path / "logs"),
    )
    assert result.returncode == 1
    assert "Error: Label column 'class' not found" in result.stderr

    result = run_cli("alad", "run", "--dataset", "csv", "--logdir", str(tmp_path / "logs"))
    assert result.returncode == 1
    assert "--dataset csv needs --data_path FILE" in result.stderr


def test_bigan_arrhythmia_run(tmp_path, data_dir):
    logdir = tmp_path / "logs"
    result = run_cli(
        "bigan", "run", "--dataset", "arrhythmia", "--nb_epochs", "2", "--rd", "3",
        "--logdir", str(logdir), "--data_dir", str(data_dir),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Testing at step 14, method fm" in result.stderr
    run_dir = logdir / "bigan" / "arrhythmia" / "fm_w0.1_sn0_dzz0_es0_test_percentile" / "label0" / "rd3"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["flags"]["batch_size"] == 32
    assert set(summary["metrics"]) == {"cross_e", "fm"}
