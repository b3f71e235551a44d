import gzip
import logging
import shutil

import numpy as np
import pandas as pd
import pytest

from alad_tf.data import DatasetNotFoundError, kdd, load_dataset


def test_protocol_constants(kdd_splits):
    assert kdd_splits.x_train.shape == (198_361, 121)
    assert kdd_splits.x_test.shape == (247_011, 121)
    assert kdd_splits.num_features == 121
    assert round(float(kdd_splits.y_test.mean()), 4) == 0.1969
    assert kdd_splits.test_percentile == 80.0


def test_training_rows_are_attacks_only(kdd_splits):
    assert np.all(kdd_splits.y_train == 0)
    assert kdd_splits.x_valid is None


def test_dtypes_and_unscaled_features(kdd_splits):
    assert kdd_splits.x_train.dtype == np.float32
    assert kdd_splits.x_test.dtype == np.float32
    # The reference never scales: src_bytes keeps its raw range.
    assert kdd_splits.x_test.max() > 1e6


def test_feature_order(kdd_splits):
    names = kdd_splits.feature_names
    assert names[:3] == ["duration", "src_bytes", "dst_bytes"]
    assert names[33] == "dst_host_srv_rerror_rate"
    assert names[34:37] == ["protocol_type-icmp", "protocol_type-tcp", "protocol_type-udp"]
    assert names[-2:] == ["is_guest_login-0", "is_guest_login-1"]
    assert len(names) == 121


def test_encode_records_fills_model_columns(data_dir, kdd_splits, caplog):
    records = pd.read_csv(data_dir / "kddcup.data_10_percent.gz", header=None, names=kdd.COLUMNS, nrows=5)
    rows = kdd.encode_records(records, kdd_splits.feature_names)
    assert rows.shape == (5, 121)
    assert rows.dtype == np.float32
    names = list(kdd_splits.feature_names)
    np.testing.assert_array_equal(rows[:, names.index("src_bytes")], records["src_bytes"])
    assert rows[0, names.index("protocol_type-tcp")] == 1
    assert rows[0, names.index("protocol_type-udp")] == 0
    # Each of the 7 categorical columns sets exactly one dummy column per row.
    np.testing.assert_array_equal(rows[:, 34:].sum(axis=1), 7)

    records.loc[0, "service"] = "quic"
    unseen = kdd.encode_records(records, kdd_splits.feature_names)
    assert unseen[0, 34:].sum() == 6
    assert (
        "Categorical values of the records without a feature column encode as zeros: "
        "1 distinct, for example service-quic." in caplog.text
    )

    with pytest.raises(ValueError, match="lack the columns duration"):
        kdd.encode_records(records.drop(columns="duration"), kdd_splits.feature_names)


def test_split_and_test_adaptation_against_pandas(data_dir, kdd_splits):
    frame = pd.read_csv(data_dir / "kddcup.data_10_percent.gz", header=None)
    assert len(frame) == 494_021
    train_half = frame.sample(frac=0.5, random_state=42)
    assert len(train_half) == 247_010
    assert int((train_half[41] != "normal.").sum()) == 198_361
    test_half = frame.loc[~frame.index.isin(train_half.index)]
    # Every test anomaly is kept, so the test set is the whole test half.
    assert len(test_half) == len(kdd_splits.x_test)
    assert int((test_half[41] == "normal.").sum()) == int(kdd_splits.y_test.sum())


def test_validation_split_comes_from_training_rows(kdd_splits, kdd_splits_with_validation):
    splits = kdd_splits_with_validation
    assert splits.x_valid.shape == (19_836, 121)
    assert len(splits.x_train) + len(splits.x_valid) == 198_361
    assert np.array_equal(splits.x_test, kdd_splits.x_test)
    train_rows = {row.tobytes() for row in kdd_splits.x_train[:: 1]}
    test_rows = {row.tobytes() for row in kdd_splits.x_test}
    valid_rows = {row.tobytes() for row in splits.x_valid}
    assert valid_rows <= train_rows
    # Duplicated rows exist in KDD99, so compare against rows unique to test.
    assert not valid_rows & (test_rows - train_rows)


def test_scale_fits_on_training_rows(data_dir):
    splits = load_dataset("kdd", data_dir=str(data_dir), scale=True)
    assert splits.x_train.min() == pytest.approx(0.0)
    assert splits.x_train.max() == pytest.approx(1.0)
    assert splits.x_test.max() > 1.0  # test rows outside the training range


def test_reads_uncompressed_file(tmp_path, data_dir, kdd_splits):
    target = tmp_path / "kddcup.data_10_percent_corrected"
    with gzip.open(data_dir / "kddcup.data_10_percent.gz", "rb") as source:
        with open(target, "wb") as output:
            shutil.copyfileobj(source, output)
    splits = load_dataset("kdd", data_dir=str(tmp_path))
    assert np.array_equal(splits.x_test, kdd_splits.x_test)


@pytest.fixture
def empty_search_path(tmp_path, monkeypatch):
    monkeypatch.delenv("ALAD_TF_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_download_verifies_checksum(empty_search_path, data_dir, monkeypatch):
    origin = (data_dir / "kddcup.data_10_percent.gz").resolve().as_uri()
    monkeypatch.setitem(kdd.DOWNLOAD, "origin", origin)
    path = kdd.find_or_download(kdd.FILE_NAMES, None, kdd.DOWNLOAD)
    assert path.parent == empty_search_path / "keras_home" / "datasets"
    assert path.stat().st_size == 2_144_903


def test_download_rejects_wrong_checksum(empty_search_path, data_dir, monkeypatch):
    origin = (data_dir / "kddcup.data_10_percent.gz").resolve().as_uri()
    monkeypatch.setitem(kdd.DOWNLOAD, "origin", origin)
    monkeypatch.setitem(kdd.DOWNLOAD, "sha256", "0" * 64)
    with pytest.raises(DatasetNotFoundError, match="kddcup.data_10_percent.gz"):
        kdd.find_or_download(kdd.FILE_NAMES, None, kdd.DOWNLOAD)


def test_missing_file_names_folders_searched(empty_search_path, monkeypatch):
    monkeypatch.setitem(kdd.DOWNLOAD, "origin", (empty_search_path / "absent.gz").as_uri())
    (empty_search_path / "mine").mkdir()
    with pytest.raises(DatasetNotFoundError) as error:
        load_dataset("kdd", data_dir=str(empty_search_path / "mine"))
    message = str(error.value)
    assert "kddcup.data_10_percent_corrected or kddcup.data_10_percent.gz" in message
    assert str(empty_search_path / "mine") in message
    assert "keras_home" in message


def test_search_dirs_bad_folders(empty_search_path, monkeypatch, caplog):
    from alad_tf.data.base import search_dirs

    data_file = empty_search_path / "kdd.gz"
    data_file.write_bytes(b"")
    with pytest.raises(DatasetNotFoundError, match=r"Data folder .*kdd\.gz is a file, not a folder\."):
        search_dirs(str(data_file))

    monkeypatch.setenv("ALAD_TF_DATA_DIR", str(empty_search_path / "typo"))
    with caplog.at_level(logging.WARNING, logger="absl"):
        dirs = search_dirs()
    assert empty_search_path / "typo" not in dirs
    assert f"$ALAD_TF_DATA_DIR is {empty_search_path / 'typo'}, which is not a folder" in caplog.text


def test_unknown_dataset():
    with pytest.raises(ValueError, match="Unknown dataset 'nope'. Expected one of: arrhythmia, csv, kdd, mnist."):
        load_dataset("nope")


@pytest.fixture(scope="module")
def real_lines(data_dir):
    with gzip.open(data_dir / "kddcup.data_10_percent.gz", "rt") as source:
        return [line for index, line in enumerate(source) if index % 50 == 0]


def write_kdd(folder, lines, name="kddcup.data_10_percent_corrected"):
    folder.mkdir()
    (folder / name).write_text("".join(lines))
    return folder


@pytest.mark.parametrize(
    "case, message",
    [
        ("not_gzip", "Cannot read the KDD99 file"),
        ("truncated_gzip", "Compressed file ended"),
        ("empty", "is empty"),
        ("missing_value", "missing or non-numeric values in column 'src_bytes', the first on line 3 (empty)"),
        ("text_in_number", "column 'duration', the first on line 2 ('abc')"),
        ("too_few_columns", "fewer than 42 columns on line 4"),
        ("only_normal_rows", "no attack rows in its training half"),
    ],
)
def test_bad_files_raise_clear_errors(case, message, tmp_path, data_dir, real_lines):
    folder = tmp_path / case
    if case == "not_gzip":
        write_kdd(folder, ["hello\n"], name="kddcup.data_10_percent.gz")
    elif case == "truncated_gzip":
        folder.mkdir()
        content = (data_dir / "kddcup.data_10_percent.gz").read_bytes()[:100_000]
        (folder / "kddcup.data_10_percent.gz").write_bytes(content)
    elif case == "empty":
        write_kdd(folder, [])
    elif case == "missing_value":
        lines = list(real_lines)
        fields = lines[2].split(",")
        fields[4] = ""
        lines[2] = ",".join(fields)
        write_kdd(folder, lines)
    elif case == "text_in_number":
        lines = list(real_lines)
        lines[1] = "abc" + lines[1][lines[1].index(","):]
        write_kdd(folder, lines)
    elif case == "too_few_columns":
        lines = list(real_lines)
        lines[3] = ",".join(lines[3].split(",")[:30]) + "\n"
        write_kdd(folder, lines)
    else:
        write_kdd(folder, [line for line in real_lines if line.endswith("normal.\n")])

    with pytest.raises(ValueError) as error:
        load_dataset("kdd", data_dir=str(folder))
    assert message in str(error.value)
    assert str(folder) in str(error.value)
