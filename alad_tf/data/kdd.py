"""KDD Cup 1999 (10 % subset) under the ALAD/EGBAD protocol.

"normal." traffic is the anomalous class (label 1) and attacks are the normal
class (label 0), as in the DAGMM protocol that both papers follow. Half the
rows, drawn with pandas `sample(frac=0.5, random_state=42)`, form the training
half, of which only the attack rows are kept. The other half is the test set,
adapted to at most 20 % anomalies with `RandomState(42)`.
"""

import numpy as np
import pandas as pd
from absl import logging
from sklearn.preprocessing import MinMaxScaler

from alad_tf.data.base import Splits, find_or_download

FILE_NAMES = ("kddcup.data_10_percent_corrected", "kddcup.data_10_percent.gz")
DOWNLOAD = {
    "fname": "kddcup.data_10_percent.gz",
    "origin": "http://kdd.ics.uci.edu/databases/kddcup99/kddcup.data_10_percent.gz",
    "sha256": "8045aca0d84e70e622d1148d7df782496f6333bf6eb979a1b0837c42a9fd9561",
}

COLUMNS = [
    "duration", "protocol_type", "service", "flag", "src_bytes", "dst_bytes",
    "land", "wrong_fragment", "urgent", "hot", "num_failed_logins", "logged_in",
    "num_compromised", "root_shell", "su_attempted", "num_root",
    "num_file_creations", "num_shells", "num_access_files", "num_outbound_cmds",
    "is_host_login", "is_guest_login", "count", "srv_count", "serror_rate",
    "srv_serror_rate", "rerror_rate", "srv_rerror_rate", "same_srv_rate",
    "diff_srv_rate", "srv_diff_host_rate", "dst_host_count", "dst_host_srv_count",
    "dst_host_same_srv_rate", "dst_host_diff_srv_rate",
    "dst_host_same_src_port_rate", "dst_host_srv_diff_host_rate",
    "dst_host_serror_rate", "dst_host_srv_serror_rate", "dst_host_rerror_rate",
    "dst_host_srv_rerror_rate", "label",
]

# One-hot encoded columns, in the order their dummy columns are appended.
CATEGORICAL_COLUMNS = [
    "protocol_type", "service", "flag", "land", "logged_in", "is_host_login",
    "is_guest_login",
]

ANOMALY_LABEL = "normal."
TEST_ANOMALY_RATIO = 0.2
TEST_PERCENTILE = 80.0
SPLIT_SEED = 42
VALIDATION_FRACTION = 0.1
LABEL_NOTE = (
    "KDD99 labels: 'normal.' traffic is the anomalous class (1) and attacks are "
    "the normal class (0), as in the DAGMM, EGBAD and ALAD papers."
)


def read_frame(path):
    """Read the KDD99 file (plain or gzip) into a DataFrame with named columns.

    Raises:
        ValueError: If the file cannot be decompressed or parsed, is empty,
            has too few columns, or has missing or non-numeric values in a
            numeric column.
    """
    advice = (
        f"Replace it with the original kddcup.data_10_percent.gz "
        f"(sha256 {DOWNLOAD['sha256']})."
    )
    try:
        frame = pd.read_csv(path, header=None, names=COLUMNS, low_memory=False)
    except (OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError,
            pd.errors.EmptyDataError) as error:
        raise ValueError(f"Cannot read the KDD99 file {path}: {error}. {advice}") from error
    if frame.empty:
        raise ValueError(f"The KDD99 file {path} is empty. {advice}")
    if frame["label"].isna().any():
        line = int(frame.index[frame["label"].isna()][0]) + 1
        raise ValueError(
            f"The KDD99 file {path} has fewer than {len(COLUMNS)} columns on line "
            f"{line}. {advice}"
        )

    symbolic = ["protocol_type", "service", "flag", "label"]
    for column in [name for name in COLUMNS if name not in symbolic]:
        values = pd.to_numeric(frame[column], errors="coerce")
        invalid = values.isna()
        if invalid.any():
            line = int(frame.index[invalid][0]) + 1
            raw = frame[column].iloc[line - 1]
            displayed_value = "empty" if pd.isna(raw) else repr(str(raw))
            raise ValueError(
                f"The KDD99 file {path} has {int(invalid.sum())} missing or non-numeric "
                f"values in column {column!r}, the first on line {line} ({displayed_value}). {advice}"
            )
        frame[column] = values
    return frame


def encode(frame):
    """One-hot encode the categorical columns and map labels to 0/1.

    Returns:
        A tuple `(features, labels)`: a float32 DataFrame with the 34 numeric
        columns first, then the dummy columns named `<column>-<value>`, and a
        float32 label array.
    """
    labels = (frame["label"] == ANOMALY_LABEL).to_numpy(dtype=np.float32)
    numeric = frame.drop(columns=CATEGORICAL_COLUMNS + ["label"])
    dummies = [
        pd.get_dummies(frame[column], prefix=column, prefix_sep="-")
        for column in CATEGORICAL_COLUMNS
    ]
    features = pd.concat([numeric, *dummies], axis=1).astype(np.float32)
    return features, labels


def encode_records(frame, feature_names):
    """One-hot encode raw KDD99 records into the feature columns of a trained model.

    `encode` only creates dummy columns for the values present in `frame`,
    so a few new records give fewer than 121 columns. This function puts
    them in the model's columns instead.

    Args:
        frame: DataFrame with the 41 feature columns named as in `COLUMNS`,
            for example `pd.read_csv(path, header=None, names=COLUMNS)`. A
            `label` column is ignored.
        feature_names: The model's feature columns, in order: the
            `feature_names` of the dataset's `Splits`, or of the SavedModel's
            `alad_tf_export.json`.

    Returns:
        A float32 array of shape `(len(frame), len(feature_names))`. A
        categorical value that has no feature column encodes as zeros, with
        a warning.

    Raises:
        ValueError: If a feature column is missing from `frame`.
    """
    missing = [column for column in COLUMNS[:-1] if column not in frame.columns]
    if missing:
        raise ValueError(
            f"The KDD99 records lack the columns {', '.join(missing)}. Pass the 41 feature "
            f"columns, named as in alad_tf.data.kdd.COLUMNS."
        )
    records = frame[COLUMNS[:-1]].assign(label="")
    features, _ = encode(records)
    unknown = [name for name in features.columns if name not in set(feature_names)]
    if unknown:
        logging.warning(
            "Categorical values of the records without a feature column encode as zeros: "
            "%d distinct, for example %s.", len(unknown), unknown[0],
        )
    return features.reindex(columns=list(feature_names), fill_value=0.0).to_numpy(np.float32)


def adapt_test_ratio(x, y, ratio=TEST_ANOMALY_RATIO, seed=SPLIT_SEED):
    """Keep every normal row and at most `ratio` anomalies, then shuffle.

    This reproduces the reference `_adapt` helper, including its use of one
    `RandomState(seed)` for both permutations.
    """
    rng = np.random.RandomState(seed)
    normal_x, normal_y = x[y == 0], y[y == 0]
    anomalous_x, anomalous_y = x[y == 1], y[y == 1]

    order = rng.permutation(anomalous_x.shape[0])
    keep = int(normal_x.shape[0] * ratio / (1 - ratio))
    anomalous_x, anomalous_y = anomalous_x[order][:keep], anomalous_y[order][:keep]

    x = np.concatenate([normal_x, anomalous_x])
    y = np.concatenate([normal_y, anomalous_y])
    order = rng.permutation(x.shape[0])
    return x[order], y[order]


def load(data_dir=None, scale=False, validation=False, label=0):
    """Load KDD99 with the reference split.

    Args:
        data_dir: Folder searched first for the data file. Defaults to `None`
            (search `$ALAD_TF_DATA_DIR`, `./data` and the Keras cache, then
            download).
        scale: Whether to MinMax-scale features, fitted on the training rows
            only. The reference code never scales. Defaults to `False`.
        validation: Whether to hold out 10 % of the training rows
            (`sample(frac=0.1, random_state=42)`) as a validation split.
            Defaults to `False`, which trains on all training rows.
        label: Ignored: KDD99 has one protocol.

    Returns:
        A `Splits` instance.
    """
    del label
    path = find_or_download(FILE_NAMES, data_dir, DOWNLOAD)
    logging.info("Reading KDD99 from %s", path)
    features, labels = encode(read_frame(path))

    train_index = features.sample(frac=0.5, random_state=SPLIT_SEED).index
    is_train = features.index.isin(train_index)
    train_features = features[is_train & (labels == 0)]
    x_test, y_test = adapt_test_ratio(
        features[~is_train].to_numpy(), labels[~is_train]
    )

    x_valid = None
    if validation:
        valid_features = train_features.sample(
            frac=VALIDATION_FRACTION, random_state=SPLIT_SEED
        )
        train_features = train_features.drop(index=valid_features.index)
        x_valid = valid_features.to_numpy()

    if len(train_features) == 0:
        raise ValueError(
            f"The KDD99 file {path} has no attack rows in its training half, so there "
            f"is nothing to train on. Attacks are the normal class of this protocol."
        )
    x_train = train_features.to_numpy()
    scaler = None
    if scale:
        scaler = MinMaxScaler().fit(x_train)
        x_train = scaler.transform(x_train).astype(np.float32)
        x_test = scaler.transform(x_test).astype(np.float32)
        if x_valid is not None:
            x_valid = scaler.transform(x_valid).astype(np.float32)

    return Splits(
        name="kdd",
        x_train=x_train,
        y_train=np.zeros(len(x_train), np.float32),
        x_test=x_test,
        y_test=y_test,
        x_valid=x_valid,
        y_valid=None if x_valid is None else np.zeros(len(x_valid), np.float32),
        feature_names=list(features.columns),
        test_percentile=TEST_PERCENTILE,
        label_note=LABEL_NOTE,
        scaler=scaler,
    )
