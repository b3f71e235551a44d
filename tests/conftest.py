"""Shared fixtures: the real datasets and small real training runs."""

import os
from pathlib import Path

import pytest

from alad_tf.data import DATA_DIR_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data_dir():
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV])
    return REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir():
    """Folder of the real datasets. In CI a missing file fails the test."""
    folder = _shared_data_dir()
    if not (folder / "kddcup.data_10_percent.gz").is_file():
        message = (
            f"KDD99 file kddcup.data_10_percent.gz not found in {folder}; set "
            f"{DATA_DIR_ENV} to the folder holding it."
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return folder


@pytest.fixture(scope="session")
def kdd_splits(data_dir):
    from alad_tf.data import load_dataset

    return load_dataset("kdd", data_dir=str(data_dir))


@pytest.fixture(scope="session")
def kdd_splits_with_validation(data_dir):
    from alad_tf.data import load_dataset

    return load_dataset("kdd", data_dir=str(data_dir), validation=True)


def run_cli(*args, env=None, cwd=None, timeout=900):
    """Run `python main.py ARGS` in a subprocess and return the completed process."""
    import subprocess
    import sys

    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "main.py"), *args],
        capture_output=True, text=True, env=full_env, cwd=cwd or REPO_ROOT, timeout=timeout,
    )


@pytest.fixture(scope="session")
def cli_run(tmp_path_factory, data_dir):
    """A real two-epoch ALAD run on KDD99 through the command line."""
    logdir = tmp_path_factory.mktemp("cli") / "logs"
    result = run_cli(
        "alad", "run", "--nb_epochs", "2", "--rd", "7", "--logdir", str(logdir),
        "--data_dir", str(data_dir),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    run_dir = logdir / "alad" / "kdd" / "fm_w0.1_sn0_dzz0_es0_test_percentile" / "label0" / "rd7"
    return {"logdir": logdir, "run_dir": run_dir, "result": result}


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory, data_dir):
    """A small real `mnist.npz` in Keras's format, built from the MNIST test images."""
    import numpy as np

    from alad_tf.data.mnist import read_idx

    images_path = data_dir / "t10k-images-idx3-ubyte.gz"
    if not images_path.is_file():
        message = f"MNIST file {images_path.name} not found in {data_dir}."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    images = read_idx(images_path)[:3000]
    labels = read_idx(data_dir / "t10k-labels-idx1-ubyte.gz")[:3000]
    folder = tmp_path_factory.mktemp("mnist")
    np.savez(
        folder / "mnist.npz",
        x_train=images[:2000], y_train=labels[:2000], x_test=images[2000:], y_test=labels[2000:],
    )
    return folder


@pytest.fixture(scope="session")
def kdd_table(tmp_path_factory, data_dir):
    """4,000 real KDD99 rows as header-less CSV, the raw file's format, plus their DataFrame."""
    import pandas as pd

    frame = pd.read_csv(data_dir / "kddcup.data_10_percent.gz", header=None)
    sample = frame.sample(4000, random_state=0).reset_index(drop=True)
    folder = tmp_path_factory.mktemp("table")
    path = folder / "kdd_sample.csv"
    sample.to_csv(path, header=False, index=False)
    return {"path": path, "frame": sample}
