"""An in-process LeafSource over samples held in memory: every sample is its own row.

Exact for every function (a one-sample partial is the sample), so it serves as the reference
the worker-fed path is checked against, and for evaluating small data sets without a fleet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lake.schema import STALE_NAN_BITS
from planner import ast
from query_api.engine.rows import LeafRows
from query_api.engine.values import Labels, make_labels


def concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


@dataclass
class MemorySeries:
    labels: dict[str, str]
    timestamps: np.ndarray
    values: np.ndarray


@dataclass
class MemorySource:
    series: list[MemorySeries] = field(default_factory=list)

    def add(self, labels: dict[str, str], timestamps, values) -> None:
        order = np.argsort(np.asarray(timestamps, dtype=np.int64), kind="stable")
        self.series.append(MemorySeries(labels, np.asarray(timestamps, dtype=np.int64)[order],
                                        np.asarray(values, dtype=np.float64)[order]))

    def rows(self, path: tuple[int, ...], selector: ast.VectorSelector, range_ms: int) -> LeafRows:
        chosen = [s for s in self.series if all(m.matches(s.labels.get(m.name, ""))
                                                 for m in selector.all_matchers)]
        chosen.sort(key=lambda s: make_labels(s.labels))
        labels: list[Labels] = [make_labels(s.labels) for s in chosen]
        series_idx, ts, values, stale_series, stale_ts = [], [], [], [], []
        for i, s in enumerate(chosen):
            stale = s.values.view(np.uint64) == np.uint64(STALE_NAN_BITS)
            series_idx.append(np.full(int((~stale).sum()), i, dtype=np.int64))
            ts.append(s.timestamps[~stale])
            values.append(s.values[~stale])
            stale_series.append(np.full(int(stale.sum()), i, dtype=np.int64))
            stale_ts.append(s.timestamps[stale])
        rows = LeafRows.from_samples(labels, concat(series_idx, np.int64), concat(ts, np.int64),
                                     concat(values, np.float64))
        rows.stale_series = concat(stale_series, np.int64)
        rows.stale_ts = concat(stale_ts, np.int64)
        return rows
