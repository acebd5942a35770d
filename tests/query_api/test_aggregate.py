"""Aggregations against values Prometheus gives on small inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planner.errors import ExecutionError
from query_api.engine.aggregate import aggregate
from query_api.engine.hashing import labels_hash, xxh64
from query_api.engine.values import Annotations, Scalar, String, Vector


def vec(rows: list[tuple[dict[str, str], list[float | None]]]) -> Vector:
    labels = [tuple(sorted(lb.items())) for lb, _ in rows]
    values = np.array([[np.nan if v is None else v for v in vs] for _, vs in rows], dtype=float)
    present = np.array([[v is not None for v in vs] for _, vs in rows], dtype=bool)
    return Vector(labels, np.where(present, values, 0.0), present)


def scalar(*values: float) -> Scalar:
    return Scalar(np.array(values, dtype=float))


def names(vector: Vector) -> list[str]:
    return [dict(lb)["i"] for lb in vector.labels]


DATA = vec([({"__name__": "x", "i": "a", "g": "1"}, [1.0]),
            ({"__name__": "x", "i": "b", "g": "1"}, [3.0]),
            ({"__name__": "x", "i": "c", "g": "2"}, [math.nan]),
            ({"__name__": "x", "i": "d", "g": "2"}, [2.0])])


def test_topk_orders_by_group_then_value_with_nan_last() -> None:
    assert names(aggregate("topk", DATA, (), False, scalar(3))) == ["b", "d", "a"]
    assert names(aggregate("topk", DATA, ("g",), False, scalar(5))) == ["b", "a", "d", "c"]
    assert names(aggregate("bottomk", DATA, ("g",), False, scalar(1))) == ["a", "d"]


def test_topk_keeps_input_labels_including_name() -> None:
    result = aggregate("topk", DATA, (), False, scalar(1))
    assert result.labels == [(("__name__", "x"), ("g", "1"), ("i", "b"))]


def test_k_below_one_is_empty_and_nan_is_an_error() -> None:
    assert aggregate("topk", DATA, (), False, scalar(0.9)).labels == []
    with pytest.raises(ExecutionError, match="Parameter value is NaN"):
        aggregate("limitk", Vector.empty(1), (), False, scalar(math.nan))
    with pytest.raises(ExecutionError, match="Ratio value is NaN"):
        aggregate("limit_ratio", Vector.empty(1), (), False, scalar(math.nan))
    with pytest.raises(ExecutionError, match="overflows int64"):
        aggregate("topk", DATA, (), False, scalar(1e19))


def test_k_varies_by_step() -> None:
    data = vec([({"i": "a"}, [1.0, 1.0]), ({"i": "b"}, [2.0, 2.0])])
    result = aggregate("topk", data, (), False, scalar(1, 2))
    assert result.present.sum(axis=0).tolist() == [1, 2]


def test_limitk_takes_the_first_present_series() -> None:
    data = vec([({"i": "a"}, [None, 5.0]), ({"i": "b"}, [2.0, 2.0]), ({"i": "c"}, [3.0, 3.0])])
    result = aggregate("limitk", data, (), False, scalar(1, 1))
    assert dict(zip(names(result), result.present.tolist(), strict=True)) == {
        "a": [False, True], "b": [True, False]}


def test_limit_ratio_follows_the_label_hash() -> None:
    data = vec([({"i": str(n)}, [1.0]) for n in range(200)])
    half = set(names(aggregate("limit_ratio", data, (), False, scalar(0.5))))
    other = set(names(aggregate("limit_ratio", data, (), False, scalar(-0.5))))
    assert not half & other and len(half | other) == 200
    notes = Annotations()
    aggregate("limit_ratio", data, (), False, scalar(1.1), notes, (18, 21))
    assert notes.warnings == ["PromQL warning: ratio value should be between -1 and 1, got 1.1, "
                              "capping to 1 (1:19)"]


def test_xxhash_matches_reference_vectors() -> None:
    assert xxh64(b"") == 0xEF46DB3751D8E999
    assert xxh64(b"Nobody inspects the spammish repetition") == 0xFBCEA83C8A378BF1
    assert labels_hash((("a", "b"),)) == xxh64(b"\x01a\x01b")


def test_count_values_formats_like_go() -> None:
    data = vec([({"i": "a"}, [1.0]), ({"i": "b"}, [1.0]), ({"i": "c"}, [1e21]), ({"i": "d"}, [-0.0])])
    result = aggregate("count_values", data, (), False, String("v"))
    got = {dict(lb)["v"]: float(v) for lb, v in zip(result.labels, result.values[:, 0], strict=True)}
    assert got == {"1": 2.0, "1000000000000000000000": 1.0, "-0": 1.0}


def test_count_values_without_keeps_other_labels() -> None:
    data = vec([({"__name__": "x", "i": "a", "j": "1"}, [6.0]),
                ({"__name__": "x", "i": "b", "j": "1"}, [6.0])])
    result = aggregate("count_values", data, ("i",), True, String("version"))
    assert result.labels == [(("j", "1"), ("version", "6"))] and result.values.tolist() == [[2.0]]


def test_quantile_warns_with_prometheus_text() -> None:
    notes = Annotations()
    aggregate("quantile", DATA, (), False, scalar(math.nan), notes, (9, 12))
    assert notes.warnings == ["PromQL warning: quantile value should be between 0 and 1, got NaN (1:10)"]


def test_stddev_is_plain_welford() -> None:
    data = vec([({"i": "a"}, [1.0]), ({"i": "b"}, [2.0]), ({"i": "c"}, [4.0])])
    result = aggregate("stdvar", data, (), False)
    assert result.values[0, 0] == pytest.approx(14 / 9)
    inf = vec([({"i": "a"}, [math.inf]), ({"i": "b"}, [1.0])])
    assert math.isnan(aggregate("stddev", inf, (), False).values[0, 0])


def test_count_values_rejects_invalid_utf8_label_names() -> None:
    with pytest.raises(ExecutionError, match=r'^invalid label name "a\\xc5z"$'):
        aggregate("count_values", DATA, (), False, String("a\udcc5z"))
