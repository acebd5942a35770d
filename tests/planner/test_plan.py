"""QueryPlan: leaves, dedup, templates and the bucket edges of representative evaluations."""

from __future__ import annotations

import pytest

from planner import parse
from planner.ast import Matcher, MatchOp
from planner.plan import Evaluation, Grid, Leaf, plan

M = 60_000  # one minute in ms


def leaves(query: str, evaluation: Evaluation, **kw: bool) -> tuple[Leaf, ...]:
    return plan(parse(query), evaluation, **kw).leaves


def brute_edges(times: list[int], window: int) -> tuple[int, ...]:
    return tuple(sorted({e for t in times for e in (t, t - window)}))


def assert_windows_are_unions_of_buckets(leaf: Leaf) -> None:
    edges = set(leaf.edges)
    for start, end in leaf.windows():
        assert start in edges and end in edges


def test_instant_selector_uses_lookback() -> None:
    (leaf,) = leaves("foo", Evaluation.instant(10 * M))
    assert leaf.range == 0 and leaf.window == 5 * M
    assert leaf.template == "partials" and leaf.fields == {"last"}
    assert leaf.function is None
    assert leaf.matchers == (Matcher("__name__", MatchOp.EQ, "foo"),)
    assert leaf.edges == (5 * M, 10 * M)


def test_lookback_is_a_parameter() -> None:
    (leaf,) = leaves("foo", Evaluation.instant(10 * M, lookback=M))
    assert leaf.edges == (9 * M, 10 * M)


def test_aligned_range_query_buckets_are_the_step_grid() -> None:
    (leaf,) = leaves("rate(foo[5m])", Evaluation.range(10 * M, 20 * M, M))
    assert leaf.function == "rate" and leaf.template == "partials"
    assert leaf.fields == {"count", "first", "last", "increase"}
    assert leaf.edges == tuple(range(5 * M, 20 * M + 1, M))
    assert_windows_are_unions_of_buckets(leaf)


def test_unaligned_range_gives_two_edges_per_step() -> None:
    (leaf,) = leaves("sum_over_time(foo[90s])", Evaluation.range(10 * M, 13 * M, M))
    times = [10 * M, 11 * M, 12 * M, 13 * M]
    assert leaf.edges == brute_edges(times, 90_000)
    assert leaf.edges == (510_000, 570_000, 600_000, 630_000, 660_000, 690_000, 720_000, 780_000)
    assert_windows_are_unions_of_buckets(leaf)


def test_range_end_not_on_the_step_grid() -> None:
    (leaf,) = leaves("foo", Evaluation.range(0, 10 * M + 30_000, 5 * M))
    assert leaf.grid == Grid(0, 10 * M, 5 * M)
    assert leaf.edges == (-5 * M, 0, 5 * M, 10 * M)


def test_range_longer_than_the_query() -> None:
    (leaf,) = leaves("max_over_time(foo[1h])", Evaluation.range(0, M, M))
    assert leaf.edges == (-60 * M, -59 * M, 0, M)


def test_offset_shifts_the_windows() -> None:
    (leaf,) = leaves("rate(foo[5m] offset 10m)", Evaluation.instant(60 * M))
    assert leaf.offset == 10 * M
    assert leaf.edges == (45 * M, 50 * M)


def test_negative_offset_looks_ahead() -> None:
    (leaf,) = leaves("foo offset -1m", Evaluation.instant(60 * M))
    assert leaf.edges == (56 * M, 61 * M)


def test_at_fixes_every_step() -> None:
    (leaf,) = leaves("rate(foo[5m] @ 600)", Evaluation.range(0, 60 * M, M))
    assert leaf.grid == Grid(10 * M, 10 * M, 0)
    assert leaf.edges == (5 * M, 10 * M)


@pytest.mark.parametrize(("query", "fixed"), [("foo @ start()", 20 * M), ("foo @ end() offset 1m", 39 * M)])
def test_at_start_and_end(query: str, fixed: int) -> None:
    (leaf,) = leaves(query, Evaluation.range(20 * M, 40 * M, M))
    assert leaf.grid == Grid(fixed, fixed, 0)
    assert leaf.edges == (fixed - 5 * M, fixed)


def test_subquery_runs_on_its_own_absolute_grid() -> None:
    # outer instant at 10m30s; inner steps are multiples of 1m in (10m30s - 5m, 10m30s]
    (leaf,) = leaves("max_over_time(rate(foo[2m])[5m:1m])", Evaluation.instant(630_000))
    assert leaf.grid == Grid(6 * M, 10 * M, M)
    assert leaf.edges == tuple(range(4 * M, 10 * M + 1, M))
    assert leaf.subqueries[0].range == 5 * M


def test_subquery_step_is_not_a_divisor_of_the_range() -> None:
    (leaf,) = leaves("min_over_time(foo[10m:3m])", Evaluation.instant(20 * M))
    assert list(leaf.grid.times()) == [12 * M, 15 * M, 18 * M]
    assert leaf.edges == brute_edges([12 * M, 15 * M, 18 * M], 5 * M)


def test_subquery_default_step_is_the_evaluation_interval() -> None:
    (leaf,) = leaves("max_over_time(foo[3m:])", Evaluation.range(0, 10 * M, 5 * M))
    assert leaf.grid == Grid(-2 * M, 10 * M, M)


def test_subquery_offset_and_at() -> None:
    (leaf,) = leaves("avg_over_time(foo[4m:2m] offset 10m)", Evaluation.instant(30 * M))
    assert list(leaf.grid.times()) == [18 * M, 20 * M]
    (fixed,) = leaves("avg_over_time(foo[4m:2m] @ 600)", Evaluation.range(0, 60 * M, M))
    assert list(fixed.grid.times()) == [8 * M, 10 * M]


def test_nested_subqueries_and_inner_offsets() -> None:
    query = "max_over_time(sum_over_time(foo[2m:1m] offset 1m)[6m:3m])"
    (leaf,) = leaves(query, Evaluation.instant(30 * M))
    # outer subquery grid: 27m, 30m; inner subquery per that grid shifted by 1m: (24m, 29m] step 1m
    assert list(leaf.grid.times()) == [25 * M + i * M for i in range(5)]
    assert len(leaf.subqueries) == 2
    assert_windows_are_unions_of_buckets(leaf)


def test_leaves_are_deduplicated_with_stable_ids() -> None:
    query = "rate(foo[5m]) / rate(foo[5m]) + max_over_time(foo[5m]) + foo"
    first = plan(parse(query), Evaluation.instant(60 * M))
    assert len(first.leaves) == 3
    rate = first.leaves[0]
    assert rate.paths == ((0, 0, 0, 0), (0, 0, 1, 0))  # ((rate / rate) + max) + foo
    second = plan(parse("rate(foo[5m])"), Evaluation.range(0, 60 * M, M))
    assert second.leaves[0].id == rate.id  # the id names content, not the evaluation
    assert first.leaf_by_path[(0, 0, 1, 0)] == rate.id
    assert first.leaf(rate.id) is rate


def test_same_selector_inside_a_subquery_is_another_leaf() -> None:
    result = plan(parse("rate(foo[5m]) + max_over_time(rate(foo[5m])[10m:1m])"), Evaluation.instant(60 * M))
    assert len(result.leaves) == 2
    assert result.leaves[0].edges != result.leaves[1].edges


@pytest.mark.parametrize(("query", "template", "fields"), [
    ("quantile_over_time(0.9, foo[5m])", "raw", set()),
    ("mad_over_time(foo[5m])", "raw", set()),
    ("double_exponential_smoothing(foo[5m], 0.5, 0.5)", "raw", set()),
    ("foo[5m]", "raw", set()),
    ("avg_over_time(foo[5m])", "partials", {"count", "sum"}),
    ("deriv(foo[5m])", "raw", set()),
    ("irate(foo[5m])", "partials", {"count", "last", "prev_last"}),
    ("timestamp(foo)", "partials", {"last"}),
])
def test_templates(query: str, template: str, fields: set[str]) -> None:
    (leaf,) = leaves(query, Evaluation.instant(60 * M))
    assert leaf.template == template and leaf.fields == fields


def test_sketch_only_when_asked_for() -> None:
    (leaf,) = leaves("quantile_over_time(0.9, foo[5m])", Evaluation.instant(60 * M), approximate=True)
    assert leaf.template == "sketch"
    (exact,) = leaves("rate(foo[5m])", Evaluation.instant(60 * M), approximate=True)
    assert exact.template == "partials"


def test_invalid_evaluations() -> None:
    with pytest.raises(ValueError):
        Evaluation.range(10, 0, 1)
    with pytest.raises(ValueError):
        Evaluation.range(0, 10, 0)
    with pytest.raises(ValueError):
        Evaluation(0, 10, 0)
