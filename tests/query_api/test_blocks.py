"""EvalFlow's blocks: which steps are ready as time groups arrive, and block-wise answers equal
an evaluation of all steps at once from the raw samples."""

from __future__ import annotations

import numpy as np

from planner.parse import parse
from planner.plan import Evaluation, plan
from query_api.blocks import NEVER, Progress, needed_end, needed_start
from query_api.engine.evaluator import Context, evaluate
from query_api.engine.memory import MemorySource
from query_api.evaluate import evaluate_blocks, join_blocks
from tests.query_api.fleet import ORG, LocalFleet

T0 = 1_764_720_000_000
HOUR = 3_600_000
M = 60_000


def leaf_of(query: str, evaluation: Evaluation):
    (leaf,) = plan(parse(query), evaluation).leaves
    return leaf


def test_needed_times_follow_offset_at_and_subqueries() -> None:
    evaluation = Evaluation.range(10 * M, 20 * M, M)
    times = np.arange(10 * M, 20 * M + 1, M)
    plain = leaf_of("rate(x[5m] offset 2m)", evaluation)
    assert list(needed_end(plain, evaluation, times)) == list(times - 2 * M)
    assert list(needed_start(plain, evaluation, times)) == list(times - 7 * M)
    fixed = leaf_of("x @ 300", evaluation)
    assert set(needed_end(fixed, evaluation, times)) == {300_000}
    nested = leaf_of("max_over_time(rate(x[1m])[10m:1m] offset 3m)", evaluation)
    assert list(needed_end(nested, evaluation, times)) == list(times - 3 * M)
    assert list(needed_start(nested, evaluation, times)) == list(times - 3 * M - 11 * M)


def test_steps_become_ready_as_groups_arrive() -> None:
    evaluation = Evaluation.range(10 * M, 20 * M, M)
    times = np.arange(10 * M, 20 * M + 1, M)
    a, b = plan(parse("x + y offset 5m"), evaluation).leaves
    progress = Progress([a, b], evaluation, times, {a.id: 2, b.id: 1})
    assert progress.ready() == 0
    progress.group_arrived(a.id, 14 * M)
    assert progress.ready() == 0  # y's only group has not arrived
    progress.group_arrived(b.id, 15 * M)
    assert progress.arrived[b.id] == NEVER
    assert progress.ready() == 5  # steps 10m..14m
    progress.done = 5
    assert progress.keep_after(a.id) == 15 * M - 5 * M
    progress.group_arrived(a.id, 20 * M)
    assert progress.ready() == len(times)


def test_block_answers_join_to_the_whole_answer(tmp_path) -> None:
    fleet = LocalFleet(tmp_path).start(2)
    try:
        ts = T0 + np.arange(0, 4 * HOUR, 15_000) + 123
        series = [{"__name__": "m", "i": str(i)} for i in range(5)]
        values = [np.cumsum(np.full(len(ts), float(i + 1))) for i in range(5)]
        fleet.load(series, [ts] * 5, values)
        evaluation = Evaluation.range(T0 + HOUR // 2, T0 + 4 * HOUR, 60_000)
        query = "sum by (i) (rate(m[5m])) + on (i) max_over_time(m[10m])"
        blocks = list(evaluate_blocks(fleet.fleet, ORG, query, evaluation))
        assert len(blocks) >= 2
        assert [len(b.times) for b in blocks] and sum(len(b.times) for b in blocks) == 211
        memory = MemorySource()
        for labels, v in zip(series, values, strict=True):
            memory.add(labels, ts, v)
        times = np.arange(evaluation.start, evaluation.end + 1, evaluation.step)
        whole = evaluate(parse(query), Context(times, evaluation.start, evaluation.end, 300_000, memory))
        joined = join_blocks([b.value for b in blocks])
        assert joined.labels == whole.labels
        np.testing.assert_array_equal(joined.present, whole.present)
        np.testing.assert_allclose(joined.values[joined.present], whole.values[whole.present], rtol=1e-12)
    finally:
        fleet.stop()
