"""A fletch stack and a real Prometheus serving the same generated data (tests/reference)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from fletch.localstack import LocalStack
from tests.reference.conftest import prometheus, reference_dataset, reference_openmetrics
from tests.reference.dataset import DataSet

ORG = "clients"
__all__ = ["ORG", "prometheus", "reference_dataset", "reference_openmetrics", "stack"]


@pytest.fixture(scope="session")
def stack(reference_dataset: DataSet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(tmp_path_factory.mktemp("clients"), workers=2) as local:
        local.load(ORG, reference_dataset.series_labels, np.asarray(reference_dataset.series_index),
                   np.asarray(reference_dataset.timestamps), np.asarray(reference_dataset.values))
        yield local
