"""The user's own table (CSV or Parquet) as a dataset.

Protocol:
- With a label column, `train_test_split(test_size=0.5, random_state=42)`
  splits the rows as the KDD99 protocol does. The detector trains on the
  normal rows of the training half and is tested on the whole test half,
  whose anomaly share sets the test-percentile threshold.
- Without a label column, the detector trains on every row and scores every
  row. `contamination` (default 0.1) sets the share of rows flagged.

Columns that are not numbers are one-hot encoded with the categories seen in
the training rows. An unseen category encodes as all zeros and is counted in
a warning. Numeric columns are MinMax-scaled, fitted on the training rows,
unless `scale=False`.
"""

import csv
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
from absl import logging
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from alad_tf.data.base import Splits

PARQUET_SUFFIXES = (".parquet", ".pq")
SPLIT_SEED = 42
VALIDATION_FRACTION = 0.1
# Share of rows flagged when the table has no labels, as PyOD's default.
DEFAULT_CONTAMINATION = 0.1
# A column whose values are mostly numbers is taken as numeric, and its other
# values as errors, unless the user names it categorical.
NUMERIC_MAJORITY = 0.5
# A categorical column with more distinct training values than this, and than
# half the training rows, is probably an ID or a date, so loading warns.
MOSTLY_UNIQUE_MIN = 20
# Rows read to detect a header line, and characters read to detect the delimiter.
HEADER_SAMPLE_ROWS = 200
DELIMITER_SAMPLE_CHARS = 65_536
# Category of a missing value in a categorical column. pandas before 3.0
# wrote missing values as "nan" with astype(str), so older runs match.
MISSING_CATEGORY = "nan"


def _open_text(path):
    return gzip.open(path, "rt", newline="") if path.suffix == ".gz" else open(path, newline="")


def detect_delimiter(path):
    """Return the field delimiter of a CSV file: one of `,`, `;`, tab or `|`, else `,`."""
    with _open_text(path) as handle:
        sample = handle.read(DELIMITER_SAMPLE_CHARS)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


# Cells that pandas.read_csv reads as missing by default (its `na_values`
# documentation), plus the empty cell.
MISSING_MARKERS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})


def detect_header(path, delimiter=","):
    """Return whether the first line of a CSV file is a header.

    The first line is a header when one of its cells is not a number while
    the rest of that column is numeric. A file without any numeric column is
    taken to have a header, as `pandas.read_csv` assumes.
    """
    with _open_text(path) as handle:
        rows = []
        for row in csv.reader(handle, delimiter=delimiter):
            rows.append(row)
            if len(rows) >= HEADER_SAMPLE_ROWS:
                break
    if not rows:
        return False
    first, rest = rows[0], rows[1:]
    if not rest:
        # A single line is a header when none of its cells is a number.
        return bool(first) and pd.to_numeric(pd.Series(first), errors="coerce").isna().all()
    numeric_columns = 0
    for column in range(len(first)):
        values = [
            row[column] for row in rest
            if column < len(row) and row[column].strip() not in MISSING_MARKERS
        ]
        if not values or pd.to_numeric(pd.Series(values), errors="coerce").isna().any():
            continue
        numeric_columns += 1
        # A missing value, such as an empty cell or "NaN", is not a column name.
        cell = first[column].strip()
        if cell not in MISSING_MARKERS and pd.isna(pd.to_numeric(cell, errors="coerce")):
            return True
    return numeric_columns == 0


def read_table(path, no_header=False):
    """Read a CSV (optionally gzip-compressed) or Parquet file into a DataFrame.

    Column names become strings. A CSV file without a header gets the
    column positions as names: "0", "1", …

    Args:
        path: File path.
        no_header: Whether the CSV file has no header line. Defaults to
            `False`, which detects it with `detect_header`.

    Raises:
        ValueError: If the file is missing, empty or unreadable.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise ValueError(
            f"Table file {path} is a folder, not a file. Pass the CSV or Parquet file in it "
            f"to --data_path."
        )
    if not path.is_file():
        raise ValueError(f"Table file {path} not found. Pass an existing file to --data_path.")
    if path.suffix.lower() in PARQUET_SUFFIXES:
        try:
            frame = pd.read_parquet(path)
        except ImportError as error:
            raise ValueError(
                f"Reading {path} needs pyarrow: pip install 'alad_tf[parquet]'."
            ) from error
        except Exception as error:  # pyarrow raises its own error types.
            raise ValueError(f"Cannot read {path} as Parquet: {error}.") from error
    else:
        try:
            delimiter = detect_delimiter(path)
            header = None if no_header or not detect_header(path, delimiter) else 0
            frame = pd.read_csv(path, sep=delimiter, header=header, skipinitialspace=True)
        except pd.errors.EmptyDataError as error:
            raise ValueError(f"Table file {path} is empty.") from error
        except (UnicodeDecodeError, pd.errors.ParserError, OSError, csv.Error) as error:
            # The parser's message can span lines and end with a period.
            reason = " ".join(str(error).split()).rstrip(".")
            hint = (
                " Save the file as UTF-8, for example with iconv or a spreadsheet's CSV UTF-8 "
                "export." if isinstance(error, UnicodeDecodeError) else ""
            )
            raise ValueError(f"Cannot read {path} as CSV: {reason}.{hint}") from error
        logging.info(
            "Read %s %s a header line, with fields separated by %r.",
            path, "without" if header is None else "with", delimiter,
        )
        if header is not None:
            # read_csv (pandas 3.1) renames a repeated name `a` to `a.1`, so check the raw header.
            names = pd.read_csv(
                path, sep=delimiter, header=None, nrows=1, dtype=str, skipinitialspace=True
            ).iloc[0]
            _check_unique_names(names.dropna(), path)
    if frame.empty:
        raise ValueError(f"Table file {path} has no data rows.")
    frame.columns = [str(name) for name in frame.columns]
    _check_unique_names(frame.columns, path)
    return frame


def _check_unique_names(names, path):
    """Raise `ValueError` naming the column names that occur more than once in `names`."""
    counts = pd.Series([str(name) for name in names]).value_counts(sort=False)
    repeated = counts[counts > 1]
    if len(repeated):
        listed = ", ".join(f"{name!r} ({count} times)" for name, count in repeated.items())
        # Repeated numbers are usually a first data row read as the header.
        numeric = pd.to_numeric(pd.Series(repeated.index), errors="coerce").notna().any()
        hint = (
            " If the first line holds data, not names, pass --no_header."
            if numeric else ""
        )
        raise ValueError(
            f"Table file {path} has duplicate column names: {listed}. Give each column a "
            f"unique name in the header line.{hint}"
        )


def category_strings(values):
    """Convert a categorical column to the strings that the encoding looks up.

    A missing value becomes `MISSING_CATEGORY`, because `astype(str)` keeps
    it missing in pandas 3.1.
    """
    return values.astype(str).where(values.notna(), MISSING_CATEGORY)


class TablePreprocessor:
    """Encoding of raw table columns into the detector's float32 feature rows.

    Columns keep their order. A numeric column becomes one feature: missing
    or infinite values are replaced by the training median when `fillna` is
    set, then `x * scale + min` as `sklearn.preprocessing.MinMaxScaler`
    computes it. A categorical column becomes one feature per training
    category, in sorted order, with all zeros for an unseen category.

    The encoding is plain data (`to_dict`), so the exported SavedModel can
    repeat it in its graph and a saved run can be reloaded without pickles.

    Args:
        columns: List of dicts, one per feature column: `name`, `kind`
            (`"numeric"` or `"categorical"`), then `median`, `scale` and
            `min` for numeric columns or `categories` for categorical ones.
        fillna: Whether non-finite numeric values are replaced by the median.
        dropped_columns: Names of the table's columns left out with
            `--drop_columns`, recorded for the reader. `transform` ignores
            them as it ignores every column that is not in `columns`.
    """

    def __init__(self, columns, fillna=False, dropped_columns=()):
        self.columns = columns
        self.fillna = fillna
        self.dropped_columns = list(dropped_columns)

    @classmethod
    def fit(cls, frame, categorical, scale=True, fillna=False, dropped_columns=()):
        """Learn medians, scaling and categories from the training rows `frame`."""
        columns = []
        numeric_names = [name for name in frame.columns if name not in categorical]
        numeric = frame[numeric_names].apply(pd.to_numeric, errors="coerce").astype(float)
        finite = numeric.where(np.isfinite(numeric))
        medians = finite.median().fillna(0.0)
        filled = finite.fillna(medians)
        scaler = MinMaxScaler().fit(filled.to_numpy()) if numeric_names and scale else None
        for name in frame.columns:
            if name in categorical:
                categories = sorted(category_strings(frame[name]).unique())
                columns.append({"name": name, "kind": "categorical", "categories": categories})
                continue
            index = numeric_names.index(name)
            columns.append({
                "name": name,
                "kind": "numeric",
                "median": float(medians[name]),
                "scale": 1.0 if scaler is None else float(scaler.scale_[index]),
                "min": 0.0 if scaler is None else float(scaler.min_[index]),
            })
        return cls(columns, fillna=fillna, dropped_columns=dropped_columns)

    @property
    def numeric_columns(self):
        return [column["name"] for column in self.columns if column["kind"] == "numeric"]

    @property
    def categorical_columns(self):
        return [column["name"] for column in self.columns if column["kind"] == "categorical"]

    @property
    def feature_names(self):
        """Names of the encoded features, `column=category` for one-hot features."""
        names = []
        for column in self.columns:
            if column["kind"] == "numeric":
                names.append(column["name"])
            else:
                names += [f"{column['name']}={value}" for value in column["categories"]]
        return names

    def transform(self, frame):
        """Encode `frame` into float32 rows.

        Returns:
            A tuple `(x, unseen)`: the encoded rows, and a dict of column
            name to the number of rows whose category was not seen in
            training (columns without unseen values are left out).
        """
        missing = [column["name"] for column in self.columns if column["name"] not in frame]
        if missing:
            raise ValueError(
                f"The table lacks the columns {', '.join(missing)} that the detector "
                f"was trained on."
            )
        parts, unseen = [], {}
        for column in self.columns:
            values = frame[column["name"]]
            if column["kind"] == "numeric":
                x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
                if self.fillna:
                    x = np.where(np.isfinite(x), x, column["median"])
                parts.append((x * column["scale"] + column["min"])[:, None])
            else:
                codes = pd.Index(column["categories"]).get_indexer(category_strings(values))
                parts.append(codes[:, None] == np.arange(len(column["categories"]))[None, :])
                if (codes < 0).any():
                    unseen[column["name"]] = int((codes < 0).sum())
        return np.concatenate(parts, axis=1).astype(np.float32), unseen

    def to_dict(self):
        return {
            "columns": self.columns,
            "fillna": self.fillna,
            "dropped_columns": self.dropped_columns,
        }

    @classmethod
    def from_dict(cls, config):
        # Runs from before --drop_columns have no dropped_columns entry.
        return cls(
            config["columns"], fillna=config["fillna"],
            dropped_columns=config.get("dropped_columns", ()),
        )


def _listed_columns(frame):
    """Return the first 30 column names of `frame`, comma-separated, for error messages."""
    listed = ", ".join(list(frame.columns)[:30])
    hidden = len(frame.columns) - 30
    more = f" and {hidden} more" if hidden > 0 else ""
    return listed + more


def _resolve_label_column(frame, label_column, path):
    if label_column in frame.columns:
        return label_column
    raise ValueError(
        f"Label column {label_column!r} not found in {path}. Its columns are: "
        f"{_listed_columns(frame)}. A file without a header names its columns 0, 1, …"
    )


def _drop_columns(frame, drop_columns, label_column, categorical_columns, path):
    """Return `frame` without the `--drop_columns` columns, after checking that they exist.

    Raises:
        ValueError: If a column is not in the table, is the label column, or
            is also in `--categorical_columns`.
    """
    unknown = [name for name in drop_columns if name not in frame.columns]
    if unknown:
        raise ValueError(
            f"--drop_columns {', '.join(unknown)} not found in {path}. Its columns are: "
            f"{_listed_columns(frame)}. A file without a header names its columns 0, 1, …"
        )
    if label_column in drop_columns:
        raise ValueError(
            f"--drop_columns includes the label column {label_column!r}. Remove it from "
            f"--drop_columns, or drop --label_column for an unlabelled table."
        )
    both = [name for name in categorical_columns if name in drop_columns]
    if both:
        raise ValueError(
            f"--categorical_columns and --drop_columns both name {', '.join(both)}. Pass "
            f"each column to one of them."
        )
    logging.info("Leaving out the columns %s (--drop_columns).", ", ".join(drop_columns))
    return frame.drop(columns=drop_columns)


def labels_from_column(values, anomaly_values, label_column):
    """Return 1 for anomalous rows and 0 for normal rows of the label column.

    Args:
        values: The label column as a pandas Series.
        anomaly_values: List of the column's values that mean "anomalous",
            compared as stripped strings, or as numbers when the column is
            numeric. `None` accepts a 0/1 column, where 1 is anomalous.
        label_column: Column name, for messages.
    """
    if values.isna().any():
        raise ValueError(
            f"Label column {label_column!r} has {int(values.isna().sum())} empty values. "
            f"Fill or drop those rows."
        )
    distinct = values.astype(str).str.strip().unique()
    listed = ", ".join(sorted(distinct)[:20]) + (" …" if len(distinct) > 20 else "")
    numeric = pd.api.types.is_numeric_dtype(values)
    if anomaly_values is None:
        if numeric and set(values.unique()) <= {0, 1}:
            return values.to_numpy(dtype=np.float32)
        raise ValueError(
            f"Label column {label_column!r} has the values {listed}. Pass "
            f"--anomaly_values with the ones that mark anomalies (comma-separated)."
        )

    if numeric:
        try:
            targets = [float(value) for value in anomaly_values]
        except ValueError as error:
            raise ValueError(
                f"Label column {label_column!r} is numeric, but --anomaly_values "
                f"{','.join(anomaly_values)} are not all numbers."
            ) from error
        matches = {value: values.astype(float) == target for value, target in zip(anomaly_values, targets)}
    else:
        stripped = values.astype(str).str.strip()
        matches = {value: stripped == value.strip() for value in anomaly_values}

    absent = [value for value, match in matches.items() if not match.any()]
    if len(absent) == len(anomaly_values):
        raise ValueError(
            f"None of --anomaly_values {','.join(anomaly_values)} occur in label column "
            f"{label_column!r}, whose values are: {listed}."
        )
    if absent:
        logging.warning(
            "--anomaly_values %s do not occur in label column %r.", ",".join(absent), label_column
        )
    anomalous = np.logical_or.reduce([match.to_numpy() for match in matches.values()])
    return anomalous.astype(np.float32)


def _column_kinds(frame, categorical_columns):
    """Return the categorical column names, checking the numeric ones."""
    unknown = [name for name in categorical_columns if name not in frame.columns]
    if unknown:
        raise ValueError(
            f"--categorical_columns {', '.join(unknown)} not found. The columns are: "
            f"{', '.join(frame.columns)}."
        )
    categorical = list(categorical_columns)
    for name in frame.columns:
        if name in categorical or pd.api.types.is_numeric_dtype(frame[name]):
            continue
        present = frame[name].dropna()
        numbers = pd.to_numeric(present, errors="coerce")
        if numbers.notna().all():
            continue
        bad = present[numbers.isna()]
        # A lone symbol among numbers, such as "?" or "-", is usually a missing marker.
        symbol = str(bad.iloc[0]).strip()
        marker = (
            bad.iloc[0]
            if bad.nunique() == 1 and numbers.notna().any() and not any(c.isalnum() for c in symbol)
            else None
        )
        marker_hint = (
            f"If {marker!r} marks missing values, write them as empty cells and pass --fillna. "
            if marker is not None else ""
        )
        if numbers.notna().mean() >= NUMERIC_MAJORITY:
            values = "values" if len(bad) > 1 else "value"
            raise ValueError(
                f"Column {name!r} is mostly numeric but has {len(bad)} non-numeric {values}, "
                f"for example {bad.iloc[0]!r} in data row {bad.index[0]} (counted from 0). "
                f"{marker_hint}Otherwise correct the text, or pass --categorical_columns "
                f"{name} to one-hot encode the column."
            )
        if marker is not None:
            logging.warning(
                "Column %r has %d numbers and %d cells of %r, so it is one-hot encoded as "
                "categorical. %sOtherwise pass --categorical_columns %s to keep this "
                "encoding without the warning.",
                name, int(numbers.notna().sum()), len(bad), marker, marker_hint, name,
            )
        categorical.append(name)
    return categorical


def _check_finite(frame, categorical):
    """Raise `ValueError` listing the numeric columns with missing or infinite values."""
    problems = []
    for name in frame.columns:
        if name in categorical:
            continue
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)
        missing, infinite = int(np.isnan(values).sum()), int(np.isinf(values).sum())
        if missing or infinite:
            problems.append(f"{name!r}: {missing} missing, {infinite} infinite")
    if problems:
        raise ValueError(
            f"Numeric columns with missing or infinite values: {'; '.join(problems)}. "
            f"Pass --fillna to replace them with the training medians, or fix the file."
        )


def _log_filled_values(frame, preprocessor):
    """Log, per numeric column, how many values of `frame` --fillna replaces and by which median."""
    filled = 0
    for column in preprocessor.columns:
        if column["kind"] != "numeric":
            continue
        values = pd.to_numeric(frame[column["name"]], errors="coerce").to_numpy(dtype=np.float64)
        count = int((~np.isfinite(values)).sum())
        if count:
            filled += count
            logging.info(
                "--fillna: replaced %d missing or infinite values in column %r by the "
                "training median %s.", count, column["name"], column["median"],
            )
    if not filled:
        logging.info("--fillna: the table has no missing or infinite numeric values to replace.")


def _warn_mostly_unique(preprocessor, train_size):
    """Warn about categorical columns whose values are mostly unique, such as IDs or dates.

    Each distinct training value becomes one feature, and values that occur
    once teach the detector nothing: at scoring, new IDs or dates encode as
    all zeros.
    """
    for column in preprocessor.columns:
        count = len(column.get("categories", ()))
        if count > MOSTLY_UNIQUE_MIN and count > train_size / 2:
            logging.warning(
                "Column %r has %d distinct values in %d training rows, and each becomes "
                "one feature. If it is an ID, a date or free text, pass --drop_columns %s.",
                column["name"], count, train_size, column["name"],
            )


def load(
    data_path=None,
    label_column=None,
    anomaly_values=None,
    categorical_columns=(),
    contamination=None,
    fillna=False,
    no_header=False,
    drop_columns=(),
    scale=True,
    validation=False,
    data_dir=None,
    label=0,
):
    """Load the user's table with the protocol of this module's docstring.

    Args:
        data_path: CSV file (`.gz` accepted) or Parquet file.
        label_column: Name of the label column (a position such as "41" for
            a file without a header), or `None` for an unlabelled table.
        anomaly_values: Values of the label column that mark anomalies: a
            list, or a comma-separated string. Defaults to `None`, which
            accepts a 0/1 column.
        categorical_columns: Columns to one-hot encode even if numeric: a
            list, or a comma-separated string. Columns that are not numbers
            are always one-hot encoded.
        contamination: Expected share of anomalies in the scored rows. It
            sets the test-percentile threshold to `100 * (1 - contamination)`.
            Defaults to the test half's anomaly share with labels, else 0.1.
        fillna: Whether to replace missing and infinite numeric values by
            the training medians instead of raising. Defaults to `False`.
        no_header: Whether the CSV file has no header line. Defaults to
            `False`, which detects it.
        drop_columns: Columns left out of training and scoring, such as
            row IDs, named as `label_column` is: a list, or a comma-separated
            string. Defaults to none.
        scale: Whether to MinMax-scale numeric columns. Defaults to `True`.
        validation: Whether to hold out 10 % of the training rows.
        data_dir: Ignored: the table is read from `data_path`.
        label: Ignored.

    Returns:
        A `Splits` instance whose `preprocessor` encodes raw rows, with
        `y_test` of `None` when the table has no labels.
    """
    del data_dir, label
    if not data_path:
        raise ValueError("--dataset csv needs --data_path FILE (CSV or Parquet).")
    if contamination is not None and not 0 < contamination < 1:
        raise ValueError(
            f"Invalid --contamination {contamination}: expected a share in (0, 1), "
            f"for example 0.1."
        )
    frame = read_table(data_path, no_header=no_header)
    # A comma-separated string, as the flags take it, is a list.
    if isinstance(anomaly_values, str):
        anomaly_values = anomaly_values.split(",")
    if isinstance(categorical_columns, str):
        categorical_columns = categorical_columns.split(",")
    if isinstance(drop_columns, str):
        drop_columns = drop_columns.split(",")
    # None, as RunConfig leaves an unset flag, means no columns.
    categorical_columns = list(categorical_columns or ())
    # Names are compared as strings, because a file without a header names its columns "0", "1", …
    drop_columns = list(dict.fromkeys(str(name) for name in drop_columns or ()))
    if drop_columns:
        frame = _drop_columns(frame, drop_columns, label_column, categorical_columns, data_path)

    labels = None
    if label_column is not None:
        label_column = _resolve_label_column(frame, label_column, data_path)
        labels = labels_from_column(frame.pop(label_column), anomaly_values, label_column)
        if labels.min() == labels.max():
            kind = "anomalous" if labels[0] else "normal"
            raise ValueError(
                f"Every row of {data_path} is {kind} by label column {label_column!r}: "
                f"the detector needs normal rows to train on and both classes to test. "
                f"Check --anomaly_values, or drop --label_column to train on every row."
            )
    elif anomaly_values is not None:
        raise ValueError("--anomaly_values needs --label_column.")
    if frame.shape[1] == 0:
        raise ValueError(
            f"{data_path} has no feature columns besides the label column and "
            f"--drop_columns. Keep at least one column to train on."
        )

    categorical = _column_kinds(frame, categorical_columns)
    if not fillna:
        _check_finite(frame, categorical)

    if labels is None:
        train_rows = test_rows = np.arange(len(frame))
    else:
        train_half, test_rows = train_test_split(
            np.arange(len(frame)), test_size=0.5, random_state=SPLIT_SEED
        )
        train_rows = train_half[labels[train_half] == 0]
        test_anomalies = int(labels[test_rows].sum())
        if test_anomalies in (0, len(test_rows)):
            raise ValueError(
                f"The test half of {data_path} has {test_anomalies} of {len(test_rows)} rows "
                f"anomalous, so precision, recall and AUROC are undefined. The table has "
                f"{int(labels.sum())} of {len(labels)} rows anomalous, and the 50/50 split "
                f"(random_state={SPLIT_SEED}) put them all in one half. Add labelled rows of "
                f"the missing class, or drop --label_column to train on every row."
            )
    valid_rows = None
    if validation:
        order = np.random.RandomState(SPLIT_SEED).permutation(train_rows)
        valid_size = int(VALIDATION_FRACTION * len(order))
        valid_rows, train_rows = np.sort(order[:valid_size]), np.sort(order[valid_size:])

    preprocessor = TablePreprocessor.fit(
        frame.iloc[train_rows], categorical, scale=scale, fillna=fillna,
        dropped_columns=drop_columns,
    )
    _warn_mostly_unique(preprocessor, len(train_rows))
    if fillna:
        # Count only the encoded rows, because the anomalies of a labelled
        # table's training half are neither trained on nor scored.
        split_rows = [train_rows, test_rows] + ([] if valid_rows is None else [valid_rows])
        _log_filled_values(frame.iloc[np.unique(np.concatenate(split_rows))], preprocessor)
    x_train, _ = preprocessor.transform(frame.iloc[train_rows])
    x_test, unseen = preprocessor.transform(frame.iloc[test_rows])
    for name, count in unseen.items():
        rows = "1 test row has" if count == 1 else f"{count} test rows have"
        logging.warning(
            "Column %r: %s a category not seen in training, encoded as all zeros.", name, rows,
        )
    x_valid = None if valid_rows is None else preprocessor.transform(frame.iloc[valid_rows])[0]

    if labels is None:
        share = DEFAULT_CONTAMINATION if contamination is None else contamination
        note = (
            f"No labels: training on all {len(frame)} rows and flagging the top "
            f"{100 * share:g} % of their scores."
        )
        y_train = y_test = y_valid = None
    else:
        y_test = labels[test_rows]
        share = float(y_test.mean()) if contamination is None else contamination
        note = (
            f"Labels from column {label_column!r}: 1 (anomalous) for "
            f"{', '.join(anomaly_values or ['1'])}, 0 otherwise. Training on the "
            f"{len(train_rows)} normal rows of the training half."
        )
        y_train = labels[train_rows]
        y_valid = None if valid_rows is None else labels[valid_rows]

    logging.info(
        "Table %s: %d rows, %d numeric and %d categorical columns, %d encoded features.",
        data_path, len(frame), len(preprocessor.numeric_columns),
        len(preprocessor.categorical_columns), x_train.shape[1],
    )
    return Splits(
        name="csv",
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        x_valid=x_valid,
        y_valid=y_valid,
        feature_names=preprocessor.feature_names,
        test_percentile=100.0 * (1.0 - share),
        label_note=note,
        preprocessor=preprocessor,
    )
