import json

import numpy as np
import pytest
import tensorflow as tf

from alad_tf.evaluation import Scorer
from alad_tf.export import EXPORT_INFO_FILE, export_saved_model
from alad_tf.models import build_model


@pytest.fixture(scope="module")
def trained_model(kdd_splits):
    import keras

    keras.utils.set_random_seed(11)
    model, _ = build_model("alad", "kdd", 121, seed=11)
    model.compile(learning_rate=1e-4)
    rows = tf.constant(kdd_splits.x_train[:500])
    for start in range(0, 500, 50):
        batch = rows[start : start + 50]
        model.train_step((batch, batch))
    return model


def test_saved_model_round_trip_matches_scorer(trained_model, kdd_splits, tmp_path):
    rows = kdd_splits.x_test[:777]
    expected, _ = Scorer(trained_model, batch_size=777).score(rows)
    threshold = float(np.percentile(expected["fm"], 80))
    path = export_saved_model(trained_model, tmp_path / "model", "fm", threshold)

    loaded = tf.saved_model.load(str(path))
    outputs = {k: v.numpy() for k, v in loaded.serve(tf.constant(rows)).items()}
    for name in ("ch", "l1", "l2", "fm"):
        np.testing.assert_allclose(outputs[name], expected[name], rtol=1e-5, atol=1e-5, err_msg=name)
    np.testing.assert_array_equal(outputs["score"], outputs["fm"])
    np.testing.assert_array_equal(outputs["is_anomaly"], outputs["fm"] >= threshold)
    assert outputs["is_anomaly"].dtype == bool

    signature = loaded.signatures["serving_default"]
    served = signature(x=tf.constant(rows[:5]))
    np.testing.assert_allclose(served["fm"].numpy(), expected["fm"][:5], rtol=1e-5, atol=1e-5)

    info = json.loads((path / EXPORT_INFO_FILE).read_text())
    assert info["primary_score"] == "fm"
    assert info["threshold"] == pytest.approx(threshold)
    assert info["row_shape"] == [121]


def test_export_rejects_wrong_width(trained_model, tmp_path):
    path = export_saved_model(trained_model, tmp_path / "model", "ch", 0.5)
    loaded = tf.saved_model.load(str(path))
    with pytest.raises((ValueError, TypeError)):
        loaded.serve(tf.zeros((2, 120)))
    # A serving signature skips the endpoint's Python-side shape check.
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid `x` input: expected rows of shape \(121,\).* Got an input of shape:\] \[2 120\]"):
        loaded.signatures["serving_default"](x=tf.zeros((2, 120)))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid `x` input: expected rows of shape \(121,\)"):
        loaded.signatures["serving_default"](x=tf.zeros((121,)))


def test_export_never_overwrites(trained_model, tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        export_saved_model(trained_model, target, "fm", 1.0)


def test_export_rejects_unknown_primary_score(trained_model, tmp_path):
    with pytest.raises(ValueError, match="Unknown primary score 'auc'"):
        export_saved_model(trained_model, tmp_path / "model", "auc", 1.0)


def test_scaled_model_export_takes_raw_rows(data_dir, tmp_path):
    import keras

    from alad_tf.data import load_dataset

    scaled = load_dataset("kdd", data_dir=str(data_dir), scale=True)
    keras.utils.set_random_seed(12)
    model, _ = build_model("alad", "kdd", 121, seed=12)
    expected, _ = Scorer(model, batch_size=500).score(scaled.x_test[:500])
    path = export_saved_model(
        model, tmp_path / "model", "fm", 1.0, scaler=scaled.scaler,
        feature_names=scaled.feature_names,
    )
    raw_rows = scaled.scaler.inverse_transform(scaled.x_test[:500]).astype("float32")
    loaded = tf.saved_model.load(str(path))
    outputs = loaded.serve(tf.constant(raw_rows))
    np.testing.assert_allclose(outputs["fm"].numpy(), expected["fm"], rtol=1e-4, atol=1e-4)
    info = json.loads((path / EXPORT_INFO_FILE).read_text())
    assert info["scaled"] is True
    assert info["serve_input"] == "features"
    assert info["feature_names"][:2] == ["duration", "src_bytes"]
    assert len(info["feature_names"]) == 121


def test_score_table_rejects_bad_rows(tmp_path):
    import keras
    import pandas as pd

    from alad_tf.data.table import TablePreprocessor
    from alad_tf.export import score_table

    train = pd.DataFrame({"bytes": [1.0, 5.0, np.nan, 9.0], "proto": ["tcp", "udp", "tcp", "icmp"]})
    preprocessor = TablePreprocessor.fit(train, ["proto"], fillna=True)
    keras.utils.set_random_seed(13)
    model, _ = build_model("alad", "csv", len(preprocessor.feature_names), seed=13)
    path = export_saved_model(model, tmp_path / "model", "fm", 1.0, preprocessor=preprocessor)

    # --fillna fills missing, blank and infinite values...
    gaps = pd.DataFrame({"bytes": [np.nan, " ", np.inf], "proto": ["tcp", "udp", "tcp"]})
    assert len(score_table(path, gaps)) == 3
    # ...but text in a numeric column is an error, as in training.
    text = pd.DataFrame({"bytes": [3.0, "12kB", np.nan], "proto": ["tcp", "udp", "tcp"]})
    with pytest.raises(ValueError, match=r"1 value in a numeric column is not a number, for example '12kB' in column 'bytes', row 1"):
        score_table(path, text)
    with pytest.raises(TypeError, match="Expected the rows as a pandas DataFrame .* got ndarray"):
        score_table(path, np.ones((2, 2)))


def test_table_signature_rejects_wrong_widths(tmp_path):
    import pandas as pd

    from alad_tf.data.table import TablePreprocessor

    train = pd.DataFrame({"bytes": [1.0, 2.0, 3.0], "rate": [0.1, 0.2, 0.3], "proto": ["tcp", "udp", "tcp"]})
    preprocessor = TablePreprocessor.fit(train, ["proto"])
    model, _ = build_model("alad", "csv", len(preprocessor.feature_names), seed=13)
    path = export_saved_model(model, tmp_path / "model", "fm", 1.0, preprocessor=preprocessor)
    signature = tf.saved_model.load(str(path)).signatures["serve_table"]
    numeric = tf.constant([[1.0, 0.1], [2.0, 0.2]], tf.float64)
    categorical = tf.constant([["tcp"], ["udp"]])

    assert signature(numeric=numeric, categorical=categorical)["score"].shape == (2,)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid `numeric` input: expected rows of shape \(2,\)"):
        signature(numeric=tf.concat([numeric, numeric], axis=1), categorical=categorical)
    # Without the check, the extra column would be ignored.
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid `categorical` input: expected rows of shape \(1,\)"):
        signature(numeric=numeric, categorical=tf.concat([categorical, categorical], axis=1))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid `numeric` and `categorical` inputs: expected the same number of rows"):
        signature(numeric=numeric, categorical=categorical[:1])


def test_image_signature_rejects_wrong_shapes(tmp_path):
    model, _ = build_model("bigan", "mnist", (28, 28, 1), seed=1)
    path = export_saved_model(model, tmp_path / "model", "fm", 1.0)
    signature = tf.saved_model.load(str(path)).signatures["serving_default"]

    assert signature(x=tf.zeros((2, 28, 28, 1)))["score"].shape == (2,)
    # The same number of values in fewer dimensions, and an empty 1-D input.
    for shape in [(2, 28, 28), (2, 784), (0,)]:
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Invalid `x` input: expected rows of shape \(28, 28, 1\)\. Got"):
            signature(x=tf.zeros(shape))


def test_numeric_table_counts_unseen_per_row(tmp_path):
    import pandas as pd

    from alad_tf.data.table import TablePreprocessor

    train = pd.DataFrame({"bytes": [1.0, 2.0, 3.0], "rate": [0.1, 0.2, 0.3]})
    preprocessor = TablePreprocessor.fit(train, [])
    model, _ = build_model("alad", "csv", len(preprocessor.feature_names), seed=1)
    path = export_saved_model(model, tmp_path / "model", "fm", 1.0, preprocessor=preprocessor)
    loaded = tf.saved_model.load(str(path))

    outputs = loaded.serve_table(tf.constant(np.ones((3, 2))))
    assert outputs["unseen_categories"].shape == (3,)
    assert outputs["score"].shape == (3,)
