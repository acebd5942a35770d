"""When a step can be evaluated: the data each leaf needs for it, and what may be let go.

Time groups arrive in chronological order. After a leaf's groups up to `end` have arrived, every
step whose windows on that leaf end at or before `end` has all of that leaf's data. A step is
ready when that holds for every leaf; ready steps form blocks that are evaluated at once, and a
group's rows are kept only while a remaining step's windows still reach back into it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from planner.plan import Evaluation, Leaf

NEVER = math.inf


def _fixed(at: object, evaluation: Evaluation) -> int | None:
    if at == "start":
        return evaluation.start
    if at == "end":
        return evaluation.end
    return at if isinstance(at, int) else None


def needed_end(leaf: Leaf, evaluation: Evaluation, times: np.ndarray) -> np.ndarray:
    """Latest data time (leaf time) each step reads from this leaf: an upper bound, since a
    subquery's inner steps only round down."""
    end = times.astype(np.float64)
    for frame in leaf.subqueries:
        fixed = _fixed(frame.at, evaluation)
        if fixed is not None:
            end = np.full(len(times), float(fixed))
        end = end - frame.offset
    fixed = _fixed(leaf.at, evaluation)
    if fixed is not None:
        end = np.full(len(times), float(fixed))
    return end - leaf.offset


def needed_start(leaf: Leaf, evaluation: Evaluation, times: np.ndarray) -> np.ndarray:
    """Earliest data time (exclusive) each step reads from this leaf: a lower bound."""
    reach = leaf.window + sum(frame.range for frame in leaf.subqueries)
    return needed_end(leaf, evaluation, times) - reach


class Progress:
    """Per leaf, how far its groups have arrived; which steps are ready."""

    def __init__(self, leaves: Sequence[Leaf], evaluation: Evaluation, times: np.ndarray,
                 groups_per_leaf: dict[str, int]) -> None:
        self.times = times
        self.remaining = dict(groups_per_leaf)
        self.arrived = {leaf.id: (NEVER if not groups_per_leaf.get(leaf.id) else -NEVER) for leaf in leaves}
        self.ends = {leaf.id: needed_end(leaf, evaluation, times) for leaf in leaves}
        self.starts = {leaf.id: needed_start(leaf, evaluation, times) for leaf in leaves}
        self.done = 0  # steps [0, done) are evaluated

    def group_arrived(self, leaf_id: str, group_end: int) -> None:
        self.remaining[leaf_id] -= 1
        self.arrived[leaf_id] = NEVER if self.remaining[leaf_id] == 0 else group_end

    def ready(self) -> int:
        """Index after the last step whose data has fully arrived (steps are in time order)."""
        ready = len(self.times)
        for leaf_id, arrived in self.arrived.items():
            if arrived != NEVER:
                waiting = np.flatnonzero(self.ends[leaf_id] > arrived)
                if len(waiting):
                    ready = min(ready, int(waiting[0]))
        return max(ready, self.done)

    def keep_after(self, leaf_id: str) -> float:
        """Rows at or before this time are no longer needed by any remaining step."""
        if self.done >= len(self.times):
            return NEVER
        return float(self.starts[leaf_id][self.done:].min())
