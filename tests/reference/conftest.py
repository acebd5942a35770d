"""Session fixtures: the generated data set and a real Prometheus serving it.

`reference_dataset` -> `DataSet` (tests/reference/dataset.py, default seed);
`reference_openmetrics` -> its OpenMetrics file; `prometheus` -> a `PrometheusServer` loaded with
it (started once, stopped by PID at the end of the session; missing Prometheus is a failure).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reference.dataset import DataSet, generate
from tests.reference.prometheus import PrometheusServer, load_prometheus
from tests.services import ServiceUnavailable


@pytest.fixture(scope="session")
def reference_dataset() -> DataSet:
    return generate()


@pytest.fixture(scope="session")
def reference_openmetrics(reference_dataset: DataSet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reference_dataset.write_openmetrics(tmp_path_factory.mktemp("reference") / "dataset.om")


@pytest.fixture(scope="session")
def prometheus(reference_openmetrics: Path,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    try:
        server = load_prometheus(reference_openmetrics, tmp_path_factory.mktemp("prometheus"))
    except ServiceUnavailable as err:  # scripts/install-system-deps.sh installs it: never skip
        pytest.fail(str(err))
    yield server
    server.stop()
