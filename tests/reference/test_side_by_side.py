"""fletch and a real Prometheus, serving the same generated data, give the same answers.

The data set is ingested into fletch through `lake/` (real Flight workers, the HTTP API over a
socket) and into Prometheus with `promtool` backfill; every query of `queries.QUERIES` must agree
to 1e-9 relative.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from fletch.localstack import LocalStack
from fletch.promqltest.result import Result
from tests.reference.compare import assert_same_result
from tests.reference.dataset import DataSet
from tests.reference.prometheus import PrometheusServer
from tests.reference.queries import QUERIES, Query

ORG = "side-by-side"


@pytest.fixture(scope="module")
def fletch_stack(reference_dataset: DataSet,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(tmp_path_factory.mktemp("side-by-side"), workers=2) as stack:
        stack.load(ORG, reference_dataset.series_labels, np.asarray(reference_dataset.series_index),
                   np.asarray(reference_dataset.timestamps), np.asarray(reference_dataset.values))
        yield stack


def ask_fletch(stack: LocalStack, query: Query) -> Result:
    if query.kind == "instant":
        status, body = stack.query(ORG, query.expr, query.start_ms)
    else:
        status, body = stack.query_range(ORG, query.expr, query.start_ms, query.end_ms, query.step_ms)
    assert status == 200, body
    return Result.from_prometheus_json(body)


def ask_prometheus(prometheus: PrometheusServer, query: Query) -> Result:
    if query.kind == "instant":
        return prometheus.instant(query.expr, query.start_ms)
    return prometheus.range(query.expr, query.start_ms, query.end_ms, query.step_ms)


def test_enough_queries_cover_the_query_path() -> None:
    assert len(QUERIES) >= 40
    assert {q.kind for q in QUERIES} == {"instant", "range"}


@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_same_answer_as_prometheus(fletch_stack: LocalStack, prometheus: PrometheusServer,
                                   query: Query) -> None:
    reference = ask_prometheus(prometheus, query)
    assert reference.error is None, reference.error
    ours = ask_fletch(fletch_stack, query)
    assert_same_result(ours, reference, rel=1e-9, abs_tol=0.0, context=str(query))
