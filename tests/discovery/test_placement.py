"""Placement stays put across processes and moves minimally as the fleet changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from planner.placement import assign, rank_workers

WORKERS = [f"grpc://10.0.0.{i}:8081" for i in range(1, 6)]
SEGMENTS = range(3000)

IN_CHILD = """
import json, sys
from planner.placement import rank_workers
workers = json.loads(sys.argv[1])
print(json.dumps({s: rank_workers("acme", s, workers) for s in range(3000)}))
"""


def test_same_inputs_give_the_same_ranking_in_a_new_process():
    # A different PYTHONHASHSEED too: placement must not depend on Python's hash().
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    child = subprocess.run([sys.executable, "-c", IN_CHILD, json.dumps(list(reversed(WORKERS)))],
                           capture_output=True, text=True, check=True, env=env)
    there = {int(k): v for k, v in json.loads(child.stdout).items()}
    here = {s: rank_workers("acme", s, WORKERS) for s in SEGMENTS}
    assert there == here


@pytest.mark.parametrize("n", [2, 3, 8])
def test_adding_one_worker_moves_about_its_share_only_to_it(n):
    old = WORKERS[:n] if n <= len(WORKERS) else [f"w{i}" for i in range(n)]
    new = "grpc://10.0.1.1:8081"
    before = {s: rank_workers("o", s, old)[0] for s in range(12_000)}
    after = {s: rank_workers("o", s, [*old, new])[0] for s in range(12_000)}
    moved = [s for s in before if before[s] != after[s]]
    assert all(after[s] == new for s in moved)               # none between old workers
    assert len(moved) / len(before) == pytest.approx(1 / (n + 1), abs=0.02)


def test_removing_one_worker_moves_only_its_segments_along_its_fallback():
    placement = assign("o", SEGMENTS, WORKERS)
    gone = WORKERS[2]
    reduced = assign("o", SEGMENTS, [w for w in WORKERS if w != gone])
    for worker in WORKERS:
        if worker != gone:
            assert set(placement[worker]) <= set(reduced[worker])
    for segment in placement[gone]:   # each goes to its second choice: the retry order
        second = rank_workers("o", segment, WORKERS)[1]
        assert segment in reduced[second]
