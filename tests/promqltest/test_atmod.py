import pytest

from fletch.promqltest import at_eval_times, planner_at_rewriter
from planner.errors import ParseError


@pytest.mark.parametrize(("expr", "rewritten"), [
    ("m", "m @ 100.000"),
    ("sum by (a) (rate(m[5m]))", "sum by (a) (rate(m[5m] @ 100.000))"),
    ("m @ 10 + n @ start() offset 5m", "m @ 10.000 + n @ 100.000 offset 5m"),
    # selectors inside a subquery are left alone; the subquery gets `@`
    ("max_over_time(rate(m[1m])[5m:1m])", "max_over_time(rate(m[1m])[5m:1m] @ 100.000)"),
    ("max_over_time(m[5m:] @ 50)", "max_over_time(m[5m:] @ 50.000)"),
    # an unsafe function inside a subquery is not looked at (as in Prometheus)
    ("max_over_time(timestamp(m)[5m:1m])", "max_over_time(timestamp(m)[5m:1m] @ 100.000)"),
    ("timestamp(m)", None),
    ("time() + m", None),
    ("predict_linear(m[5m], 60)", None),
    ("1 + 2", "1 + 2"),
])
def test_planner_at_rewriter(expr: str, rewritten: str | None) -> None:
    assert planner_at_rewriter(expr, 100_000) == rewritten


def test_unparseable_expression_raises() -> None:
    with pytest.raises(ParseError):
        planner_at_rewriter("sum(", 0)


def test_at_eval_times() -> None:
    assert at_eval_times(100_000) == [-1_000_000, 0, 20_000, 100_000, 1_000_000]
    assert at_eval_times(0) == [-1000, 0, 1000]
    assert at_eval_times(7) == [-70, 0, 1, 7, 70]  # Go integer division
    assert at_eval_times(-7) == [70, 0, -1, -7, -70]
