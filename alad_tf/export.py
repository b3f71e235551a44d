"""Export a trained detector as a TensorFlow SavedModel."""

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from absl import logging

from alad_tf.data.table import TablePreprocessor, category_strings

EXPORT_INFO_FILE = "alad_tf_export.json"
PREPROCESSING_FILE = "preprocessing.json"
TABLE_COLUMN_ORDER = f"in the column order of {EXPORT_INFO_FILE}'s table_inputs"


def write_preprocessing(folder, preprocessor):
    """Write the `TablePreprocessor` of a table as `preprocessing.json` in `folder`."""
    path = Path(folder) / PREPROCESSING_FILE
    path.write_text(json.dumps(preprocessor.to_dict(), indent=2) + "\n")
    return path


def _check_row_shape(tensor, row_shape, name, order):
    """Return `tensor` after checking at run time that its rows have shape `row_shape`.

    A call through a serving signature skips the Python-side shape check of
    the endpoint's input signature. Without this check, extra categorical
    columns would be ignored, and a wrong numeric width would fail inside
    an unrelated op.

    Args:
        tensor: Input of shape `(n, *row_shape)`.
        row_shape: Expected shape of one row.
        name: Input name, used in the message.
        order: Where the expected column order is described, used in the
            message, or `None` when the rows have no named columns.
    """
    row_shape = [int(size) for size in row_shape]
    shape = tf.shape(tensor, out_type=tf.int64)
    # TensorFlow prints the data after the message: the input's actual shape.
    data = [
        f"Invalid `{name}` input: expected rows of shape {tuple(row_shape)}"
        f"{', ' + order if order else ''}. Got an input of shape:",
        shape,
    ]
    # A rank check would be removed as always true, because the traced input
    # has the signature's rank. So the element count catches extra
    # dimensions other than trailing ones of size 1, which fail in the
    # model, and the row dimensions are padded with -1 to the expected rank,
    # which catches fewer dimensions, an empty 1-D input included.
    same_size = tf.equal(tf.size(tensor, out_type=tf.int64), shape[0] * int(np.prod(row_shape)))
    size_check = tf.debugging.Assert(same_size, data)
    with tf.control_dependencies([size_check]):
        padding = tf.fill([len(row_shape)], tf.constant(-1, tf.int64))
        dimensions = tf.concat([shape[1:], padding], axis=0)[: len(row_shape)]
        same_shape = tf.reduce_all(tf.equal(dimensions, tf.constant(row_shape, tf.int64)))
        shape_check = tf.debugging.Assert(same_shape, data)
    with tf.control_dependencies([shape_check]):
        return tf.identity(tensor)


class _TableEncoder:
    """The encoding of `TablePreprocessor.transform` as TensorFlow ops.

    Inputs are `numeric`, float64 of shape `(n, n_numeric_columns)`, and
    `categorical`, strings of shape `(n, n_categorical_columns)`, each in the
    column order of `preprocessing.json`. A table without numeric or without
    categorical columns has only the other input.
    """

    def __init__(self, preprocessor):
        self.columns = preprocessor.columns
        numeric = [column for column in self.columns if column["kind"] == "numeric"]
        self.has_numeric = bool(numeric)
        self.fillna = preprocessor.fillna
        # Float64, as TablePreprocessor.transform: raw values such as byte
        # counts would lose digits in float32 before scaling.
        self.medians = tf.constant([column["median"] for column in numeric], tf.float64)
        self.scales = tf.constant([column["scale"] for column in numeric], tf.float64)
        self.offsets = tf.constant([column["min"] for column in numeric], tf.float64)
        # Index 0 of each one-hot output is the out-of-vocabulary bucket.
        self.lookups = [
            keras.layers.StringLookup(
                vocabulary=column["categories"], num_oov_indices=1, output_mode="one_hot"
            )
            for column in self.columns
            if column["kind"] == "categorical"
        ]
        for lookup in self.lookups:
            # ExportArchive only tracks built layers.
            lookup(tf.constant([""]))
        self.input_signature = []
        if numeric:
            self.input_signature.append(
                tf.TensorSpec((None, len(numeric)), tf.float64, name="numeric")
            )
        if self.lookups:
            self.input_signature.append(
                tf.TensorSpec((None, len(self.lookups)), tf.string, name="categorical")
            )

    def __call__(self, *inputs):
        """Return the encoded rows and the number of unseen categories per row."""
        inputs = list(inputs)
        numeric = inputs.pop(0) if self.has_numeric else None
        categorical = inputs.pop(0) if self.lookups else None
        if numeric is not None:
            numeric = _check_row_shape(
                numeric, self.input_signature[0].shape[1:], "numeric", TABLE_COLUMN_ORDER
            )
        if categorical is not None:
            categorical = _check_row_shape(
                categorical, self.input_signature[-1].shape[1:], "categorical", TABLE_COLUMN_ORDER
            )
        if numeric is not None and categorical is not None:
            same_rows = tf.debugging.Assert(
                tf.equal(tf.shape(numeric)[0], tf.shape(categorical)[0]),
                [
                    "Invalid `numeric` and `categorical` inputs: expected the same number of "
                    "rows. Got rows:", tf.shape(numeric)[0], tf.shape(categorical)[0],
                ],
            )
            with tf.control_dependencies([same_rows]):
                numeric = tf.identity(numeric)
        if numeric is not None:
            if self.fillna:
                numeric = tf.where(tf.math.is_finite(numeric), numeric, self.medians)
            numeric = tf.cast(numeric * self.scales + self.offsets, tf.float32)
        # One count per row, also for a table without categorical columns.
        rows = categorical if categorical is not None else numeric
        parts, unseen = [], tf.zeros([tf.shape(rows)[0]], tf.float32)
        numeric_index = categorical_index = 0
        for column in self.columns:
            if column["kind"] == "numeric":
                parts.append(numeric[:, numeric_index : numeric_index + 1])
                numeric_index += 1
                continue
            one_hot = tf.cast(
                self.lookups[categorical_index](categorical[:, categorical_index]), tf.float32
            )
            parts.append(one_hot[:, 1:])
            unseen += one_hot[:, 0]
            categorical_index += 1
        return tf.concat(parts, axis=1), tf.cast(unseen, tf.int32)


def export_saved_model(
    model, path, primary_score, threshold, info=None, scaler=None, feature_names=None,
    preprocessor=None,
):
    """Write a SavedModel whose `serve` endpoint scores feature rows.

    The `serve` endpoint takes float32 rows of shape `(n, n_features)`,
    unscaled even when the model was trained on scaled rows, and returns a
    dict with every score of the model (higher is more anomalous), `score`
    (the primary score) and `is_anomaly` (`score >= threshold`). It is also
    the default serving signature, so
    `tf.saved_model.load(path).signatures["serving_default"]` works too.

    For a user's table, `serve` takes the encoded rows, and a second
    endpoint, `serve_table`, takes the raw columns (see `_TableEncoder` and
    `score_table`), encodes them as in training and returns the same dict
    plus `unseen_categories`, the number of categorical values per row that
    training never saw.

    Args:
        model: A trained `AdversarialDetector`.
        path: Output folder. It must not exist yet.
        primary_score: Name of the score behind `score` and `is_anomaly`.
        threshold: Decision threshold of the primary score.
        info: Dict written to `alad_tf_export.json` beside the model, for
            example the run's flags. Defaults to `None`.
        scaler: Fitted `MinMaxScaler` applied to rows before scoring, so
            that the endpoint takes raw rows. Defaults to `None` (no scaling).
        feature_names: Column names of the input rows, in order, written to
            `alad_tf_export.json`. Defaults to `None`.
        preprocessor: `TablePreprocessor` of a user's table, embedded in
            `serve_table` and written to `preprocessing.json`. Defaults to
            `None`.

    Returns:
        The output path.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(
            f"Export folder {path} already exists. Choose another path or remove it first."
        )
    if primary_score not in model.score_names:
        raise ValueError(
            f"Unknown primary score {primary_score!r}. Expected one of: "
            f"{', '.join(model.score_names)}."
        )
    row_shape = model.row_shape
    threshold_constant = tf.constant(threshold, tf.float32)
    # MinMaxScaler.transform computes x * scale_ + min_.
    scale = tf.constant(1.0 if scaler is None else scaler.scale_, tf.float32)
    offset = tf.constant(0.0 if scaler is None else scaler.min_, tf.float32)

    order = None if feature_names is None else f"in the order of {EXPORT_INFO_FILE}'s feature_names"

    def serve(x):
        x = _check_row_shape(x, row_shape, "x", order)
        scores = dict(model.score_batch(x * scale + offset))
        scores["score"] = scores[primary_score]
        scores["is_anomaly"] = scores[primary_score] >= threshold_constant
        return scores

    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name="serve",
        fn=serve,
        input_signature=[tf.TensorSpec((None, *row_shape), tf.float32, name="x")],
    )
    if preprocessor is not None:
        encoder = _TableEncoder(preprocessor)
        for lookup in encoder.lookups:
            archive.track(lookup)

        def serve_table(*inputs):
            rows, unseen = encoder(*inputs)
            scores = serve(rows)
            scores["unseen_categories"] = unseen
            return scores

        archive.add_endpoint(
            name="serve_table", fn=serve_table, input_signature=encoder.input_signature
        )
    archive.write_out(str(path), verbose=False)
    if preprocessor is not None:
        write_preprocessing(path, preprocessor)

    metadata = {
        "primary_score": primary_score,
        "threshold": float(threshold),
        "row_shape": [int(size) for size in row_shape],
        "scores": list(model.score_names),
        # What `serve` takes: the dataset's "features", unscaled (the model
        # scales them when `scaled` is true), or a table's "encoded" rows,
        # which `serve_table` builds from the raw columns.
        "serve_input": "features" if preprocessor is None else "encoded",
        "scaled": scaler is not None,
        "feature_names": list(feature_names) if feature_names is not None else None,
        "table_inputs": None if preprocessor is None else {
            "numeric": preprocessor.numeric_columns,
            "categorical": preprocessor.categorical_columns,
            # Columns that training left out, which `score_table` ignores.
            "dropped": preprocessor.dropped_columns,
        },
        **(info or {}),
    }
    (path / EXPORT_INFO_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    return path


def _check_no_text(raw, numeric):
    """Raise `ValueError` if a numeric column of `raw` contains text that `numeric` coerced to NaN.

    Training rejects such text in a numeric column, and `--fillna` replaces
    only missing and infinite values, so scoring rejects it too. Empty or
    blank cells count as missing.
    """
    blank = raw.apply(lambda values: values.astype(str).str.strip() == "")
    text = numeric.isna() & raw.notna() & ~blank
    if not text.to_numpy().any():
        return
    name = text.any().idxmax()
    # A position, because the index of the caller's rows need not be unique.
    position = int(np.argmax(text[name].to_numpy()))
    count = int(text.to_numpy().sum())
    if count == 1:
        problem = "1 value in a numeric column is not a number"
    else:
        problem = f"{count} values in numeric columns are not numbers"
    raise ValueError(
        f"{problem}, for example {raw[name].iloc[position]!r} in column {name!r}, row "
        f"{raw.index[position]}. Correct the text, because --fillna replaces only "
        f"missing and infinite values."
    )


def score_table(path, frame):
    """Score raw table rows with a detector exported from a run on `--dataset csv`.

    The rows go through the `serve_table` endpoint, which encodes them with
    the training preprocessing stored in the SavedModel.

    Args:
        path: Folder of the SavedModel.
        frame: `pandas.DataFrame` with (at least) the training columns,
            named as in the training file (`"0"`, `"1"`, … for a file without
            a header). Other columns, such as the label or the run's
            `--drop_columns`, are ignored and may be left out.

    Returns:
        A DataFrame with the index of `frame` and one row per input row,
        with the columns: every score in the model's order (ALAD: ch, l1,
        l2, fm), then `score`, `is_anomaly` and `unseen_categories`.

    Raises:
        TypeError: If `frame` is not a DataFrame.
        ValueError: If `path` is not a folder, the export has no table
            preprocessing, a column is missing, a numeric column contains
            text, or a numeric value is missing or not finite while the run
            did not use `--fillna`.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"Expected the rows as a pandas DataFrame with the training columns, got "
            f"{type(frame).__name__}. Read the file with pandas.read_csv or build a "
            f"DataFrame with the column names of the training table."
        )
    path = Path(path).expanduser()
    if not path.is_dir():
        raise ValueError(
            f"SavedModel folder {path} not found. Pass the saved_model folder of a "
            f"--dataset csv run."
        )
    if not (path / PREPROCESSING_FILE).is_file():
        raise ValueError(
            f"{path} has no {PREPROCESSING_FILE}: it was not exported from a "
            f"--dataset csv run. Score its feature rows with the serve endpoint."
        )
    preprocessor = TablePreprocessor.from_dict(json.loads((path / PREPROCESSING_FILE).read_text()))
    frame = frame.copy()
    frame.columns = [str(name) for name in frame.columns]
    missing = [name for name in preprocessor.numeric_columns + preprocessor.categorical_columns
               if name not in frame]
    if missing:
        raise ValueError(
            f"The rows lack the columns {', '.join(missing)} that the detector was trained on."
        )

    inputs = []
    if preprocessor.numeric_columns:
        raw = frame[preprocessor.numeric_columns]
        numeric = raw.apply(pd.to_numeric, errors="coerce")
        _check_no_text(raw, numeric)
        numeric = numeric.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(numeric)
        if bad.any() and not preprocessor.fillna:
            columns = [
                name for name, column_bad in zip(preprocessor.numeric_columns, bad.any(axis=0))
                if column_bad
            ]
            raise ValueError(
                f"{int(bad.sum())} numeric values are missing, not numbers or infinite, in "
                f"columns {', '.join(columns)}. The run did not use --fillna, so fix them."
            )
        inputs.append(tf.constant(numeric))
    if preprocessor.categorical_columns:
        categorical = frame[preprocessor.categorical_columns].apply(category_strings)
        categorical = categorical.to_numpy(dtype=object)
        inputs.append(tf.constant(categorical, tf.string))

    # Keep the loaded object alive while its endpoint runs.
    loaded = tf.saved_model.load(str(path))
    outputs = loaded.serve_table(*inputs)
    # A loaded endpoint returns its outputs in no fixed order, so put the
    # scores first, in the model's order when the export records it, then
    # the decision.
    decision = ["score", "is_anomaly", "unseen_categories"]
    info_path = path / EXPORT_INFO_FILE
    if info_path.is_file():
        score_names = json.loads(info_path.read_text())["scores"]
    else:
        score_names = sorted(set(outputs) - set(decision))
    columns = score_names + decision
    result = pd.DataFrame(
        {name: outputs[name].numpy() for name in columns}, index=frame.index
    )
    unseen_rows = int((result["unseen_categories"] > 0).sum())
    if unseen_rows:
        logging.warning(
            "%d of %d rows have a category not seen in training; those values encode "
            "as all zeros.", unseen_rows, len(result),
        )
    return result
