"""Vector matching against Prometheus's answers and error texts."""

from __future__ import annotations

import pytest

from planner.ast import Card, VectorMatching
from planner.errors import ExecutionError
from query_api.engine.binop import vector_vector
from tests.query_api.test_aggregate import vec

NODE_CPU = vec([({"__name__": "cpu", "instance": "abc", "mode": "idle"}, [3.0]),
                ({"__name__": "cpu", "instance": "abc", "mode": "user"}, [1.0]),
                ({"__name__": "cpu", "instance": "def", "mode": "idle"}, [8.0])])
ROLE = vec([({"__name__": "role", "instance": "abc", "role": "prometheus"}, [1.0])])


def rows(vector):  # type: ignore[no-untyped-def]
    return {lb: float(v) for lb, v, p in zip(vector.labels, vector.values[:, 0], vector.present[:, 0],
                                              strict=True) if p}


def test_group_left_copies_included_labels() -> None:
    matching = VectorMatching(Card.MANY_TO_ONE, ("instance",), True, ("role",))
    assert rows(vector_vector("*", NODE_CPU, ROLE, matching, False)) == {
        (("instance", "abc"), ("mode", "idle"), ("role", "prometheus")): 3.0,
        (("instance", "abc"), ("mode", "user"), ("role", "prometheus")): 1.0}


def test_group_right_takes_the_value_from_the_left_for_comparisons() -> None:
    matching = VectorMatching(Card.ONE_TO_MANY, ("instance",), True, ())
    result = rows(vector_vector("<=", ROLE, NODE_CPU, matching, False))
    assert result == {(("__name__", "cpu"), ("instance", "abc"), ("mode", "idle")): 1.0,
                      (("__name__", "cpu"), ("instance", "abc"), ("mode", "user")): 1.0}


def test_one_to_one_bool_drops_the_name() -> None:
    matching = VectorMatching(Card.ONE_TO_ONE, ("instance",), True, ())
    lhs = vec([({"__name__": "a", "instance": "abc"}, [1.0])])
    assert rows(vector_vector(">", lhs, ROLE, matching, True)) == {(("instance", "abc"),): 0.0}


def test_duplicate_series_on_the_one_side() -> None:
    dup = vec([({"__name__": "dup", "label": "beta"}, [2.0]), ({"__name__": "dup", "label": "alpha"}, [1.0])])
    single = vec([({"__name__": "s"}, [3.0])])
    with pytest.raises(ExecutionError) as err:
        vector_vector(">", single, dup, VectorMatching(Card.ONE_TO_ONE, (), True, ()), False)
    assert str(err.value) == (
        'found duplicate series for the match group {} on the right hand-side of the operation: '
        '[{__name__="dup", label="alpha"}, {__name__="dup", label="beta"}];many-to-many matching not '
        "allowed: matching labels must be unique on one side")


def test_many_to_one_must_be_explicit() -> None:
    with pytest.raises(ExecutionError, match="many-to-one matching must be explicit"):
        vector_vector("*", NODE_CPU, ROLE, VectorMatching(Card.ONE_TO_ONE, ("instance",), True, ()), False)


def test_grouping_labels_must_ensure_unique_matches() -> None:
    # Two series that differ only by name collide once arithmetic drops it.
    lhs = vec([({"__name__": "a", "instance": "abc"}, [1.0]), ({"__name__": "b", "instance": "abc"}, [2.0])])
    rhs = vec([({"instance": "abc"}, [1.0])])
    with pytest.raises(ExecutionError, match="grouping labels must ensure unique matches"):
        vector_vector("+", lhs, rhs, VectorMatching(Card.MANY_TO_ONE, ("instance",), True, ()), False)
