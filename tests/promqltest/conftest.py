"""Prometheus's `.test` files, read in place from `../shared/conformance/promqltest`."""

from __future__ import annotations

from pathlib import Path

import pytest

from fletch.promqltest import corpus_dir


@pytest.fixture(scope="session")
def corpus() -> Path:
    folder = corpus_dir()
    if not (folder / "functions.test").exists():
        pytest.skip(f"Prometheus's promqltest files are not at {folder} (set FLETCH_PROMQLTEST_DIR)")
    return folder
