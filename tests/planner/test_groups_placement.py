import itertools
import random
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.groups import compute_replay_batches
from planner.placement import assign, rank_workers, weight

HOUR = 3_600_000


@dataclass
class Seg:
    start_ts: int
    end_ts: int


def hourly(hours, first=0):
    return [Seg(first + h * HOUR, first + h * HOUR + HOUR - 15_000) for h in hours]


def grid(start, end, step):
    return list(range(start, end + 1, step))


def check_invariants(groups, edges, segments):
    edge_set = set(edges)
    for before, after in itertools.pairwise(groups):
        assert before.end <= after.start, "groups must be disjoint and chronological"
    for group in groups:
        assert group.start in edge_set and group.end in edge_set and group.start < group.end
        for i, seg in enumerate(segments):
            overlaps = seg.end_ts > group.start and seg.start_ts <= group.end
            assert (i in group.segments) == overlaps


def test_one_group_per_worker_on_contiguous_data():
    segments = hourly(range(12))
    edges = grid(0, 12 * HOUR, 60_000)
    groups = compute_replay_batches(edges, segments, worker_count=4)
    assert [g.index for g in groups] == [0, 1, 2, 3]
    # Three segments start in each group; the seam bucket also holds the previous hour's tail.
    assert [sum(segments[i].start_ts >= g.start for i in g.segments) for g in groups] == [3, 3, 3, 3]
    assert sum(len(g.segments) for g in groups) <= 12 + 3
    assert groups[0].start == 0 and groups[-1].end == 12 * HOUR
    check_invariants(groups, edges, segments)


def test_gaps_split_groups():
    segments = hourly([0, 1, 5, 6])
    edges = grid(0, 8 * HOUR, 300_000)
    groups = compute_replay_batches(edges, segments, worker_count=1)
    assert len(groups) == 2
    assert groups[0].end <= 2 * HOUR and groups[1].start >= 5 * HOUR - 300_000
    check_invariants(groups, edges, segments)


def test_seam_segments_are_in_both_groups():
    segments = [Seg(0, 3 * HOUR), Seg(HOUR, 2 * HOUR), Seg(2 * HOUR + 1, 4 * HOUR)]
    edges = grid(0, 4 * HOUR, 600_000)
    groups = compute_replay_batches(edges, segments, worker_count=3)
    assert len(groups) >= 2
    assert sum(0 in g.segments for g in groups) >= 2
    check_invariants(groups, edges, segments)


def test_unaligned_edges_and_partial_overlap():
    rng = random.Random(3)
    starts = sorted(rng.randrange(0, 20 * HOUR) for _ in range(40))
    segments = [Seg(s, s + rng.randrange(1, 2 * HOUR)) for s in starts]
    edges = sorted({*range(7_000, 20 * HOUR, 90_000), *range(37_000, 20 * HOUR, 90_000)})
    groups = compute_replay_batches(edges, segments, worker_count=5)
    assert 1 <= len(groups) <= 10
    check_invariants(groups, edges, segments)


def test_nothing_to_read():
    assert compute_replay_batches([0, 10], [], 3) == []
    assert compute_replay_batches([0, 10], [Seg(20, 30)], 3) == []
    assert compute_replay_batches([0], [Seg(0, 1)], 3) == []


def test_rendezvous_is_stable_and_documented():
    assert weight("acme", 42, "w1") == weight("acme", 42, "w1")
    import hashlib
    expected = int.from_bytes(hashlib.blake2b(b"acme\x0042\x00w1", digest_size=8).digest(), "big")
    assert weight("acme", 42, "w1") == expected
    assert rank_workers("acme", 42, ["w3", "w1", "w2"]) == rank_workers("acme", 42, ["w2", "w1", "w3"])


def test_adding_a_worker_moves_about_its_share_and_nothing_else():
    old = [f"grpc://10.0.0.{i}:8081" for i in range(5)]
    segment_ids = range(20_000)
    before = {s: rank_workers("o", s, old)[0] for s in segment_ids}
    after = {s: rank_workers("o", s, [*old, "grpc://10.0.0.9:8081"])[0] for s in segment_ids}
    moved = [s for s in segment_ids if before[s] != after[s]]
    assert all(after[s] == "grpc://10.0.0.9:8081" for s in moved)
    assert len(moved) / len(segment_ids) == pytest.approx(1 / 6, abs=0.02)


def test_removing_a_worker_moves_only_its_segments():
    workers = ["a", "b", "c", "d"]
    placement = assign("o", range(5000), workers)
    reduced = assign("o", range(5000), ["a", "b", "d"])
    for worker in ("a", "b", "d"):
        assert set(placement[worker]) <= set(reduced[worker])
    with pytest.raises(ValueError):
        assign("o", [1], [])


@given(st.lists(st.tuples(st.integers(0, 50 * HOUR), st.integers(1, 3 * HOUR)), min_size=1, max_size=40),
       st.integers(1, 8), st.integers(1, 300), st.integers(0, 90))
@settings(max_examples=200, deadline=None)
def test_groups_are_disjoint_ordered_aligned_and_complete(spans, workers, step_s, phase_s):
    """Property: for random segment layouts and edge grids, every bucket some segment reaches
    lies in exactly one group, and every group lists exactly the segments overlapping it."""
    segments = [Seg(start, start + length) for start, length in spans]
    step = step_s * 10_000
    edges = list(range(phase_s * 1000, 55 * HOUR, step))
    groups = compute_replay_batches(edges, segments, workers)
    check_invariants(groups, edges, segments)
    covered = []
    for lo, hi in itertools.pairwise(edges):
        if any(s.end_ts > lo and s.start_ts <= hi for s in segments):
            covered.append((lo, hi))
    in_groups = [(lo, hi) for lo, hi in itertools.pairwise(edges)
                 if any(g.start <= lo and hi <= g.end for g in groups)]
    assert in_groups == covered
