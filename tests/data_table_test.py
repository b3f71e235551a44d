import gzip
import logging

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from alad_tf.data import load_dataset
from alad_tf.data.table import TablePreprocessor, detect_header, read_table
from alad_tf.data.table import load as load_table


def _load(path, **options):
    return load_dataset("csv", data_path=str(path), **options)


def _with_header(kdd_table, tmp_path, name="with_header.csv"):
    frame = kdd_table["frame"].copy()
    frame.columns = [f"f{index}" for index in range(41)] + ["label"]
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return frame, path


def test_kdd_file_as_table_protocol(data_dir):
    splits = _load(
        data_dir / "kddcup.data_10_percent.gz", label_column="41", anomaly_values=["normal."]
    )
    assert splits.x_test.shape[0] == 247011
    assert splits.y_test.mean() == pytest.approx(0.1970, abs=1e-3)
    assert splits.test_percentile == pytest.approx(100 * (1 - splits.y_test.mean()))
    # Training keeps only the normal (label 0) rows of the training half.
    assert int(splits.y_train.sum()) == 0
    assert splits.x_train.shape[0] + int(97278 - splits.y_test.sum()) == 247010
    assert splits.preprocessor.categorical_columns == ["1", "2", "3"]
    assert splits.x_train.min() == 0.0
    assert splits.x_train.max() == 1.0


def test_header_detected(kdd_table, tmp_path):
    assert not detect_header(kdd_table["path"])
    _, path = _with_header(kdd_table, tmp_path)
    assert detect_header(path)
    frame = read_table(path)
    assert list(frame.columns[:2]) == ["f0", "f1"]
    assert len(frame) == 4000


@pytest.mark.parametrize("marker", ["NaN", "NA", "null", ""])
def test_missing_marker_in_first_row_is_data(kdd_table, tmp_path, marker):
    frame = kdd_table["frame"].copy()
    frame[4] = frame[4].astype(object)
    frame.loc[0, 4] = marker
    frame.loc[5, 4] = marker
    path = tmp_path / "missing_first.csv"
    frame.to_csv(path, header=False, index=False)
    assert not detect_header(path)


def test_duplicate_numeric_names_suggest_no_header(tmp_path):
    path = tmp_path / "numbers.csv"
    # "?" is text above a numeric column, so the first line is taken as names.
    path.write_text("0,0,?\n3,4,5\n6,7,8\n")
    with pytest.raises(ValueError, match=r"'0' \(2 times\)\. .* pass --no_header\."):
        read_table(path, no_header=False)


def test_no_header_flag_reads_first_line_as_data(kdd_table, tmp_path):
    _, path = _with_header(kdd_table, tmp_path)
    frame = read_table(path, no_header=True)
    assert len(frame) == 4001
    assert list(frame.columns[:2]) == ["0", "1"]


def test_csv_gzip_and_parquet_agree(kdd_table, tmp_path):
    frame, csv_path = _with_header(kdd_table, tmp_path)
    gz_path = tmp_path / "table.csv.gz"
    with gzip.open(gz_path, "wb") as handle:
        handle.write(csv_path.read_bytes())
    parquet_path = tmp_path / "table.parquet"
    frame.to_parquet(parquet_path)
    options = {"label_column": "label", "anomaly_values": ["normal."]}
    reference = _load(csv_path, **options)
    for path in (gz_path, parquet_path):
        splits = _load(path, **options)
        np.testing.assert_array_equal(splits.x_train, reference.x_train)
        np.testing.assert_array_equal(splits.y_test, reference.y_test)


def test_labels_from_values(kdd_table):
    frame = kdd_table["frame"]
    splits = _load(kdd_table["path"], label_column="41", anomaly_values=["normal.", "back."])
    anomalous = frame[41].isin(["normal.", "back."]).to_numpy()
    assert splits.y_test.sum() + splits.x_train.shape[0] < len(frame)
    assert int(splits.y_test.sum()) == pytest.approx(anomalous.sum() / 2, rel=0.1)


def test_numeric_label_column_defaults_to_one(kdd_table, tmp_path):
    frame = kdd_table["frame"].copy()
    frame[41] = (frame[41] == "normal.").astype(int)
    path = tmp_path / "binary.csv"
    frame.to_csv(path, header=False, index=False)
    splits = _load(path, label_column="41")
    by_value = _load(kdd_table["path"], label_column="41", anomaly_values=["normal."])
    np.testing.assert_array_equal(splits.y_test, by_value.y_test)


def test_unlabelled_table_trains_on_every_row(kdd_table):
    splits = _load(kdd_table["path"], contamination=0.2)
    assert splits.y_test is None
    assert splits.x_train.shape == splits.x_test.shape
    assert splits.x_train.shape[0] == 4000
    assert splits.test_percentile == pytest.approx(80.0)


def test_unseen_category_encodes_as_zeros(kdd_table):
    preprocessor = TablePreprocessor.fit(
        kdd_table["frame"].drop(columns=[41]).astype({1: str}).rename(columns=str),
        categorical=["1", "2", "3"],
    )
    rows = kdd_table["frame"].drop(columns=[41]).rename(columns=str).head(3).copy()
    rows.loc[0, "1"] = "sctp"
    x, unseen = preprocessor.transform(rows)
    names = preprocessor.feature_names
    protocol = [index for index, name in enumerate(names) if name.startswith("1=")]
    assert x[0, protocol].sum() == 0
    assert x[1, protocol].sum() == 1
    assert unseen == {"1": 1}


def test_missing_category_is_own_category(kdd_table, tmp_path):
    frame = kdd_table["frame"].copy()
    frame.loc[:9, 1] = np.nan
    path = tmp_path / "missing_protocol.csv"
    frame.to_csv(path, header=False, index=False)
    splits = _load(path)
    assert "1=nan" in splits.preprocessor.feature_names

    rows = frame.rename(columns=str).head(11)
    x, unseen = splits.preprocessor.transform(rows)
    missing = splits.preprocessor.feature_names.index("1=nan")
    assert x[:10, missing].tolist() == [1.0] * 10
    assert x[10, missing] == 0.0
    assert unseen == {}


def test_fillna_uses_training_median(kdd_table, tmp_path, caplog):
    frame = kdd_table["frame"].copy()
    frame[0] = frame[0].astype(float)
    frame[4] = frame[4].astype(float)
    frame.loc[:9, 0] = np.nan
    frame.loc[10, 4] = np.inf
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, header=False, index=False)
    with pytest.raises(ValueError, match=r"'0': 10 missing, 0 infinite; '4': 0 missing, 1 infinite"):
        _load(path, label_column="41", anomaly_values=["normal."])
    caplog.set_level(logging.INFO, logger="absl")
    splits = _load(path, label_column="41", anomaly_values=["normal."], fillna=True)
    assert np.isfinite(splits.x_test).all()
    columns = {column["name"]: column for column in splits.preprocessor.columns}
    assert columns["0"]["median"] == 0.0

    # Every row is encoded except the anomalies of the training half.
    _, test_rows = train_test_split(np.arange(len(frame)), test_size=0.5, random_state=42)
    encoded = (frame[41] != "normal.").to_numpy(copy=True)
    encoded[test_rows] = True
    filled_zero = int(encoded[:10].sum())
    messages = [record.getMessage() for record in caplog.records]
    assert (
        f"--fillna: replaced {filled_zero} missing or infinite values in column '0' by the "
        f"training median 0.0." in messages
    )
    # Row 10, the only infinite value of column 4, is an anomaly of the training half.
    assert not encoded[10]
    assert not any("column '4'" in message for message in messages)


def test_fillna_logs_nothing_to_fill(kdd_table, caplog):
    caplog.set_level(logging.INFO, logger="absl")
    _load(kdd_table["path"], fillna=True)
    messages = [record.getMessage() for record in caplog.records]
    assert "--fillna: the table has no missing or infinite numeric values to replace." in messages


@pytest.mark.parametrize(
    "options, message",
    [
        ({"label_column": "label"}, r"Label column 'label' not found .* Its columns are: 0, 1, 2"),
        ({"label_column": "41"}, r"has the values back., .* Pass --anomaly_values"),
        ({"label_column": "41", "anomaly_values": ["attack"]}, "None of --anomaly_values attack occur"),
        ({"label_column": "41", "anomaly_values": ["normal.", "smurf.", "neptune.", "back.",
          "teardrop.", "pod.", "satan.", "ipsweep.", "portsweep.", "nmap.", "warezclient.",
          "guess_passwd.", "land.", "buffer_overflow.", "warezmaster.", "imap.", "rootkit.",
          "loadmodule.", "ftp_write.", "multihop.", "phf.", "perl.", "spy."]},
         "Every row of .* is anomalous"),
        ({"anomaly_values": ["normal."]}, "--anomaly_values needs --label_column"),
        ({"categorical_columns": ["99"]}, r"--categorical_columns 99 not found"),
        ({"contamination": 1.5}, r"Invalid --contamination 1.5"),
        ({"contamination": 0.0}, r"Invalid --contamination 0.0"),
    ],
)
def test_bad_options_raise(kdd_table, options, message):
    with pytest.raises(ValueError, match=message):
        _load(kdd_table["path"], **options)


def test_test_half_without_anomalies_raises(kdd_table, tmp_path):
    frame = kdd_table["frame"]
    attacks = frame[frame[41] != "normal."].head(199)
    table = pd.concat([attacks, frame[frame[41] == "normal."].head(1)], ignore_index=True)
    # Move the one anomaly to a row that the fixed split puts in the training half.
    train_half, _ = train_test_split(np.arange(len(table)), test_size=0.5, random_state=42)
    order = list(range(len(table) - 1))
    order.insert(train_half[0], len(table) - 1)
    path = tmp_path / "one_anomaly.csv"
    table.iloc[order].to_csv(path, header=False, index=False)

    with pytest.raises(ValueError, match=(
        r"The test half of .*one_anomaly.csv has 0 of 100 rows anomalous, so precision, "
        r"recall and AUROC are undefined. The table has 1 of 200 rows anomalous"
    )):
        _load(path, label_column="41", anomaly_values=["normal."])


def test_bad_files_raise(kdd_table, tmp_path):
    with pytest.raises(ValueError, match="not found. Pass an existing file"):
        _load(tmp_path / "absent.csv")

    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValueError, match="is empty"):
        _load(empty)

    header_only = tmp_path / "header_only.csv"
    header_only.write_text("a,b,label\n")
    with pytest.raises(ValueError, match="has no data rows"):
        _load(header_only)

    frame = kdd_table["frame"].copy()
    frame[4] = frame[4].astype(object)
    frame.loc[7, 4] = "12kB"
    text = tmp_path / "text_in_numbers.csv"
    frame.to_csv(text, header=False, index=False)
    with pytest.raises(ValueError, match=r"Column '4' is mostly numeric but has 1 non-numeric value, for example '12kB' in data row 7 \(counted from 0\)\. Otherwise correct"):
        _load(text, label_column="41", anomaly_values=["normal."])
    splits = _load(text, label_column="41", anomaly_values=["normal."], categorical_columns=["4"])
    assert "4" in splits.preprocessor.categorical_columns


def test_question_marks_named_as_missing_markers(data_dir, tmp_path, caplog):
    # The UCI Arrhythmia file writes missing values as "?".
    options = {"label_column": "279", "anomaly_values": ["3", "4", "5", "7", "8", "9", "14", "15"]}
    with pytest.raises(ValueError, match=(
        r"Column '10' is mostly numeric but has 8 non-numeric values, for example '\?' in data "
        r"row 66 \(counted from 0\)\. If '\?' marks missing values, write them as empty cells "
        r"and pass --fillna\."
    )):
        _load(data_dir / "arrhythmia.data", **options)

    # Column 13 is mostly "?": it is encoded as categorical, with a warning.
    frame = pd.read_csv(data_dir / "arrhythmia.data", header=None, dtype=str)
    for column in (10, 11, 12, 14):
        frame[column] = frame[column].replace("?", "")
    path = tmp_path / "arrhythmia_13_with_marks.csv"
    frame.to_csv(path, header=False, index=False)
    caplog.set_level(logging.WARNING, logger="absl")
    _load(path, fillna=True, **options)
    assert "Column '13' has 76 numbers and 376 cells of '?', so it is one-hot encoded" in caplog.text


def test_folder_as_data_path_raises(tmp_path):
    with pytest.raises(ValueError, match="is a folder, not a file"):
        _load(tmp_path)


def test_unparsable_csv_error_is_one_line(tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n")
    with pytest.raises(ValueError, match="Cannot read .* as CSV") as raised:
        _load(ragged)
    message = str(raised.value)
    assert "Expected 3 fields in line 4, saw 4" in message
    assert "\n" not in message
    assert message.endswith("saw 4.")


def test_duplicate_column_names_raise(kdd_table, tmp_path):
    frame, _ = _with_header(kdd_table, tmp_path)
    frame.columns = ["f0", "f1", "f0", "service", "f1", "f0", *frame.columns[6:]]
    path = tmp_path / "duplicates.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"duplicate column names: 'f0' \(3 times\), 'f1' \(2 times\)\."):
        _load(path, label_column="label", anomaly_values=["normal."])


def test_drop_columns_leaves_out_columns(kdd_table):
    options = {"label_column": "41", "anomaly_values": ["normal."]}
    full = _load(kdd_table["path"], **options)
    splits = _load(kdd_table["path"], drop_columns=["0", "1", "0"], **options)
    assert _load(kdd_table["path"], drop_columns="0,1", **options).feature_names == splits.feature_names

    assert splits.preprocessor.dropped_columns == ["0", "1"]
    assert splits.preprocessor.to_dict()["dropped_columns"] == ["0", "1"]
    assert "0" not in splits.preprocessor.numeric_columns
    assert "1" not in splits.preprocessor.categorical_columns
    kept_features = [
        name for name in full.feature_names if name != "0" and not name.startswith("1=")
    ]
    assert splits.feature_names == kept_features
    assert splits.x_train.shape[1] == len(kept_features)
    assert len(splits.x_test) == len(full.x_test)

    # The dropped columns are neither needed nor used to encode new rows.
    frame = kdd_table["frame"].set_axis([str(index) for index in range(42)], axis=1)
    restored = TablePreprocessor.from_dict(splits.preprocessor.to_dict())
    assert restored.dropped_columns == ["0", "1"]
    with_dropped, _ = restored.transform(frame)
    without_dropped, _ = restored.transform(frame.drop(columns=["0", "1"]))
    np.testing.assert_array_equal(with_dropped, without_dropped)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"drop_columns": ["7", "99"]}, r"--drop_columns 99 not found in .* Its columns are: 0, 1, 2"),
        ({"drop_columns": ["99"]}, r"Its columns are: 0, 1, .*, 29 and 12 more\. A file without"),
        (
            {"drop_columns": ["41"], "label_column": "41", "anomaly_values": ["normal."]},
            r"--drop_columns includes the label column '41'",
        ),
        (
            {"drop_columns": ["1", "7"], "categorical_columns": ["7"]},
            r"--categorical_columns and --drop_columns both name 7\.",
        ),
        (
            {"drop_columns": [str(n) for n in range(41)], "label_column": "41",
             "anomaly_values": ["normal."]},
            r"no feature columns besides the label column and --drop_columns",
        ),
    ],
)
def test_drop_columns_bad_values_raise(kdd_table, options, message):
    with pytest.raises(ValueError, match=message):
        _load(kdd_table["path"], **options)


def test_options_rejected_for_other_datasets(data_dir):
    with pytest.raises(ValueError, match="--data_path is not available for kdd: it applies to --dataset csv"):
        load_dataset("kdd", data_dir=str(data_dir), data_path="x.csv")
    with pytest.raises(ValueError, match="--drop_columns is not available for kdd: it applies to --dataset csv"):
        load_dataset("kdd", data_dir=str(data_dir), drop_columns=["0"])


def test_semicolon_delimiter_detected(kdd_table, tmp_path):
    frame, _ = _with_header(kdd_table, tmp_path)
    path = tmp_path / "semicolon.csv"
    frame.to_csv(path, sep=";", index=False)
    table = read_table(path)
    assert list(table.columns[:3]) == ["f0", "f1", "f2"]
    assert table.shape == (4000, 42)


def test_contamination_rejected_with_train_percentile():
    from alad_tf.experiment import RunConfig

    config = RunConfig(dataset="csv", contamination=0.1, threshold="train_percentile")
    with pytest.raises(ValueError, match="--contamination sets the test-percentile threshold"):
        config.validate()


def test_contamination_rejected_with_threshold_percentile():
    from alad_tf.experiment import RunConfig

    config = RunConfig(dataset="csv", contamination=0.05, threshold_percentile=80)
    with pytest.raises(ValueError, match=(
        "--contamination 0.05 and --threshold_percentile 80 both set the share of rows "
        "flagged. Pass one of them."
    )):
        config.validate()


def test_latin1_file_names_utf8_fix(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("name,value\ncaf\u00e9,1\nth\u00e9,2\n".encode("latin-1"))
    with pytest.raises(ValueError, match="Save the file as UTF-8"):
        read_table(path)


def test_table_load_accepts_none_options(kdd_table):
    splits = load_table(
        str(kdd_table["path"]), label_column="41", anomaly_values=["normal."],
        categorical_columns=None, drop_columns="0",
    )
    assert splits.preprocessor.dropped_columns == ["0"]
    assert "1" in splits.preprocessor.categorical_columns


def test_string_options_split_at_commas(kdd_table):
    from_strings = _load(
        kdd_table["path"], label_column="41", anomaly_values="normal.,smurf.",
        categorical_columns="6,11",
    )
    from_lists = _load(
        kdd_table["path"], label_column="41", anomaly_values=["normal.", "smurf."],
        categorical_columns=["6", "11"],
    )
    np.testing.assert_array_equal(from_strings.y_test, from_lists.y_test)
    assert from_strings.preprocessor.categorical_columns == ["1", "2", "3", "6", "11"]
    assert from_strings.preprocessor.feature_names == from_lists.preprocessor.feature_names


def test_mostly_unique_column_warns(kdd_table, tmp_path, caplog):
    frame = kdd_table["frame"].copy()
    frame.insert(0, "date", pd.date_range("2026-01-01", periods=len(frame), freq="min").astype(str))
    frame.columns = ["date"] + [f"f{index}" for index in range(41)] + ["label"]
    path = tmp_path / "dated.csv"
    frame.to_csv(path, index=False)
    options = {"label_column": "label", "anomaly_values": ["normal."]}

    caplog.set_level(logging.INFO, logger="absl")
    splits = _load(path, **options)
    train_size = len(splits.x_train)
    unique_warnings = [
        record.getMessage()
        for record in caplog.records
        if record.levelname == "WARNING" and "distinct values" in record.getMessage()
    ]
    # Columns with few categories, such as KDD99's protocol and service, do not warn.
    assert unique_warnings == [
        f"Column 'date' has {train_size} distinct values in {train_size} training rows, and "
        f"each becomes one feature. If it is an ID, a date or free text, pass "
        f"--drop_columns date."
    ]

    caplog.clear()
    dropped = _load(path, drop_columns="date", **options)
    assert not any("distinct values" in record.getMessage() for record in caplog.records)
    assert dropped.x_train.shape[1] == splits.x_train.shape[1] - train_size
