import numpy as np
import pytest

from alad_tf.data import load_dataset
from alad_tf.data.arrhythmia import read_mat, read_uci


def test_uci_file_equals_odds_matrix(data_dir):
    x_mat, y_mat = read_mat(data_dir / "arrhythmia.mat")
    x_uci, y_uci = read_uci(data_dir / "arrhythmia.data")
    assert x_mat.shape == (452, 274)
    assert np.array_equal(x_mat, x_uci)
    assert np.array_equal(y_mat, y_uci)
    assert int(y_mat.sum()) == 66


def test_reference_split_constants(data_dir):
    splits = load_dataset("arrhythmia", data_dir=str(data_dir))
    assert splits.x_train.shape == (226, 274)
    assert splits.x_test.shape == (226, 274)
    assert int(splits.y_train.sum()) == 34
    assert int(splits.y_test.sum()) == 32
    assert splits.test_percentile == 85.0


def test_clean_train_drops_training_anomalies(data_dir):
    splits = load_dataset("arrhythmia", data_dir=str(data_dir), clean_train=True)
    assert splits.x_train.shape == (192, 274)
    assert int(splits.y_train.sum()) == 0
    assert int(splits.y_test.sum()) == 32


def test_reads_uci_file_alone(tmp_path, data_dir):
    (tmp_path / "arrhythmia.data").write_bytes((data_dir / "arrhythmia.data").read_bytes())
    splits = load_dataset("arrhythmia", data_dir=str(tmp_path))
    reference = load_dataset("arrhythmia", data_dir=str(data_dir))
    assert np.array_equal(splits.x_test, reference.x_test)


def test_clean_train_rejected_on_kdd(data_dir):
    with pytest.raises(ValueError, match="--clean_train is not available for kdd"):
        load_dataset("kdd", data_dir=str(data_dir), clean_train=True)


def test_alad_arrhythmia_networks():
    from alad_tf.networks import get_architecture

    builder, hyperparameters = get_architecture("alad", "arrhythmia")
    assert hyperparameters["latent_dim"] == 64
    assert hyperparameters["batch_size"] == 32
    networks = builder(274, 64)
    assert networks["encoder"].count_params() == (274 * 256 + 256) + (256 * 128 + 128) + (128 * 64 + 64)
    assert networks["generator"].output_shape == (None, 274)
    assert networks["discriminator_xx"].output_shape == [(None, 1), (None, 128)]
    assert networks["discriminator_zz"].output_shape == [(None, 1), (None, 32)]
    assert networks["discriminator_xz"].output_shape == [(None, 1), (None, 256)]
