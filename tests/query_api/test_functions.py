"""Instant functions (labels, sorting, classic histograms) against Prometheus's answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.errors import ExecutionError
from query_api.engine import histograms
from query_api.engine.annotations import go_g, go_precision_g
from query_api.engine.labelfns import expand, label_join, label_replace, natural_less, sort_by_label
from query_api.engine.values import Annotations
from tests.query_api.test_aggregate import vec

METRIC = vec([({"__name__": "m", "src": "source-value-10"}, [0.0]),
              ({"__name__": "m", "src": "source-value-20"}, [1.0])])


def test_label_replace_full_match_and_go_expansion() -> None:
    result = label_replace(METRIC, "dst", "$1-x-${2}", "src", "(.*)-value-(.*)")
    assert [dict(lb)["dst"] for lb in result.labels] == ["source-x-10", "source-x-20"]
    assert label_replace(METRIC, "dst", "$1", "src", "value-(.*)").labels == METRIC.labels


def test_expand_takes_the_longest_name() -> None:
    import re

    match = re.compile("(?P<a>x)(y)").match("xy")
    assert match is not None
    assert expand("$1x|${1}x|$a|$$|$", match) == "|xx|x|$|$"


def test_label_replace_collision_is_an_error() -> None:
    with pytest.raises(ExecutionError, match="same labelset"):
        label_replace(METRIC, "src", "", "", "")
    with pytest.raises(ExecutionError, match="invalid regular expression"):
        label_replace(METRIC, "dst", "", "src", "(.*")


def test_label_join_sets_or_deletes() -> None:
    result = label_join(METRIC, "dst", "-", ["src", "missing", "__name__"])
    assert dict(result.labels[0])["dst"] == "source-value-10--m"
    assert "dst" not in dict(label_join(METRIC, "dst", ", ", []).labels[0])


def test_natural_sort_and_sort_by_label() -> None:
    assert natural_less("a2", "a10") and not natural_less("a10", "a2") and natural_less("a01", "a2")
    data = vec([({"i": "10"}, [1.0]), ({"i": "9"}, [1.0]), ({"i": "x"}, [1.0])])
    assert [dict(lb)["i"] for lb in sort_by_label(data, ["i"], False).labels] == ["9", "10", "x"]


def test_go_float_formats() -> None:
    assert [go_g(v) for v in (1e6, 123456.0, 1e-5, math.nan)] == ["1e+06", "123456", "1e-05", "NaN"]
    assert go_precision_g(0.5, 2) == "0.5" and go_precision_g(123.0, 2) == "1.2e+02"
    assert histograms.openmetrics_float(0.5) == "0.5" and histograms.openmetrics_float(2.0) == "2.0"


BUCKETS = vec([({"__name__": "h_bucket", "le": "0.1"}, [0.0]),
               ({"__name__": "h_bucket", "le": "1"}, [10.0]),
               ({"__name__": "h_bucket", "le": "1.0"}, [0.0]),
               ({"__name__": "h_bucket", "le": "+Inf"}, [20.0])])


def test_bucket_quantile_interpolates_and_coalesces() -> None:
    buckets = histograms.classic_buckets(BUCKETS, Annotations(), None)
    values, fixes = histograms.bucket_quantile(buckets, np.array([0.25]))
    assert values[0, 0] == pytest.approx(0.1 + 0.9 * 0.5) and not fixes.forced.any()
    values, _ = histograms.bucket_quantile(buckets, np.array([0.9]))
    assert values[0, 0] == 1.0  # in the +Inf bucket: the second-highest bound
    assert histograms.result_vector(buckets, values).labels == [()]


def test_bucket_quantile_forces_monotonicity_with_an_info() -> None:
    data = vec([({"__name__": "nm", "le": "1"}, [5.0]), ({"__name__": "nm", "le": "10"}, [4.0]),
                ({"__name__": "nm", "le": "+Inf"}, [8.0])])
    buckets = histograms.classic_buckets(data, Annotations(), None)
    values, fixes = histograms.bucket_quantile(buckets, np.array([0.5]))
    notes = Annotations()
    histograms.report_monotonicity(buckets, fixes, np.array([3_000_000]), notes, (20, 22))
    assert values[0, 0] == pytest.approx(0.8)
    assert notes.infos == [
        "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see "
        "https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric "
        'name "nm", from buckets 10 to 10, with a max diff of 1, over 1 samples from '
        "1970-01-01T00:50:00Z to 1970-01-01T00:50:00Z (1:21)"]


def test_bad_le_warns_and_fraction() -> None:
    notes = Annotations()
    bad = vec([({"__name__": "s", "le": "Hello World"}, [2.0])])
    assert histograms.classic_buckets(bad, notes, (24, 30)).keys == []
    assert notes.warnings == ['PromQL warning: bucket label "le" is missing or has a malformed value of '
                              '"Hello World" for metric name "s" (1:25)']
    buckets = histograms.classic_buckets(BUCKETS, Annotations(), None)
    fraction = histograms.bucket_fraction(buckets, np.array([0.0]), np.array([0.55]))
    assert fraction[0, 0] == pytest.approx(0.25)
