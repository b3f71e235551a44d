"""Export a trained detector as a TensorFlow SavedModel."""

import json
from pathlib import Path

import keras
import tensorflow as tf

EXPORT_INFO_FILE = "alad_tf_export.json"


def export_saved_model(
    model, path, primary_score, threshold, info=None, scaler=None, feature_names=None
):
    """Write a SavedModel whose `serve` endpoint scores raw feature rows.

    The endpoint takes float32 rows of shape `(n, n_features)`, unscaled even
    when the model was trained on scaled rows, and returns a dict with every
    score of the model (higher is more anomalous), `score` (the primary
    score) and `is_anomaly` (`score >= threshold`). It is also the default
    serving signature, so
    `tf.saved_model.load(path).signatures["serving_default"]` works too.

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

    Returns:
        The output path.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(
            f"Export folder {path} already exists. Choose another --export_dir or "
            f"remove it first."
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

    def serve(x):
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
    archive.write_out(str(path), verbose=False)

    metadata = {
        "primary_score": primary_score,
        "threshold": float(threshold),
        "row_shape": [int(size) for size in row_shape],
        "scores": list(model.score_names),
        "scaled": scaler is not None,
        "feature_names": list(feature_names) if feature_names is not None else None,
        **(info or {}),
    }
    (path / EXPORT_INFO_FILE).write_text(json.dumps(metadata, indent=2) + "\n")
    return path
