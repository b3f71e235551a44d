import shutil

import numpy as np
import pytest

from alad_tf.data import DatasetNotFoundError, load_dataset
from alad_tf.data.mnist import read_idx, read_images, split


def test_reads_idx_files(tmp_path, data_dir):
    images = read_idx(data_dir / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(data_dir / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10_000, 28, 28)
    assert images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

    # The loader needs all four files; the test images stand in for the training ones.
    shutil.copy(data_dir / "t10k-images-idx3-ubyte.gz", tmp_path / "train-images-idx3-ubyte.gz")
    shutil.copy(data_dir / "t10k-labels-idx1-ubyte.gz", tmp_path / "train-labels-idx1-ubyte.gz")
    shutil.copy(data_dir / "t10k-images-idx3-ubyte.gz", tmp_path)
    shutil.copy(data_dir / "t10k-labels-idx1-ubyte.gz", tmp_path)
    all_images, all_labels = read_images(str(tmp_path))
    assert all_images.shape == (20_000, 28, 28)
    assert all_labels.shape == (20_000,)


def test_incomplete_idx_files_named(tmp_path, data_dir, monkeypatch):
    monkeypatch.delenv("ALAD_TF_DATA_DIR", raising=False)
    monkeypatch.setenv("ALAD_TF_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "mnist"
    folder.mkdir()
    shutil.copy(data_dir / "t10k-images-idx3-ubyte.gz", folder)
    shutil.copy(data_dir / "t10k-labels-idx1-ubyte.gz", folder)
    with pytest.raises(DatasetNotFoundError) as raised:
        read_images(str(folder))
    assert str(raised.value).endswith(
        f"Found only some of them: {folder} lacks train-images-idx3-ubyte.gz, "
        f"train-labels-idx1-ubyte.gz."
    )


def test_split_sizes_and_class_meaning(data_dir):
    images = read_idx(data_dir / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(data_dir / "t10k-labels-idx1-ubyte.gz")
    splits = split(images, labels, anomalous_digit=0)
    normal = 10_000 - 980
    assert len(splits.x_train) == int(0.8 * normal)
    assert len(splits.x_test) == normal - int(0.8 * normal) + 980
    assert int(splits.y_test.sum()) == 980
    assert splits.x_train.shape[1:] == (28, 28, 1)
    assert splits.x_train.min() >= -1.0
    assert splits.x_train.max() <= 1.0
    assert splits.test_percentile == pytest.approx(100 * (1 - 980 / len(splits.x_test)))


def test_no_test_image_was_seen_in_training(data_dir):
    images = read_idx(data_dir / "t10k-images-idx3-ubyte.gz")
    labels = read_idx(data_dir / "t10k-labels-idx1-ubyte.gz")
    # Tag each image with its index in a corner pixel so that identical
    # images in the source cannot hide a leak.
    tagged = images.copy()
    tagged[:, 0, 0] = np.arange(len(images)) % 256
    tagged[:, 0, 1] = np.arange(len(images)) // 256
    splits = split(tagged, labels, anomalous_digit=7)

    def indices(x):
        pixels = np.rint((x[:, 0, :2, 0] + 1.0) / 2.0 * 255.0).astype(int)
        return set((pixels[:, 0] + 256 * pixels[:, 1]).tolist())

    train, test = indices(splits.x_train), indices(splits.x_test)
    assert not train & test
    assert len(train) + len(test) == 10_000
    anomalous = set(np.flatnonzero(labels == 7).tolist())
    assert anomalous <= test
    assert not anomalous & train
    test_order = sorted(test)
    assert len(test_order) == len(splits.x_test)


def test_load_from_keras_npz_and_validation(mnist_dir):
    splits = load_dataset("mnist", data_dir=str(mnist_dir), label=3, validation=True)
    assert splits.name == "mnist"
    assert splits.x_valid is not None
    assert len(splits.x_valid) == int(0.1 * (len(splits.x_train) + len(splits.x_valid)))


def test_invalid_digit():
    with pytest.raises(ValueError, match="Invalid --label 12 for mnist"):
        split(np.zeros((2, 28, 28), np.uint8), np.array([1, 2]), anomalous_digit=12)


def test_invalid_digit_fails_before_reading(tmp_path, monkeypatch):
    # No MNIST file anywhere, and no download: the digit check must come first.
    monkeypatch.delenv("ALAD_TF_DATA_DIR", raising=False)
    monkeypatch.setenv("ALAD_TF_OFFLINE", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="Invalid --label 12 for mnist"):
        load_dataset("mnist", data_dir=str(tmp_path), label=12)
