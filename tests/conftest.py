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
