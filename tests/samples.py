"""Small sample tables for tests, built the slow, obvious way."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from lake.schema import NAME, SERIES_ID, TS, VALUE, series_id


def sample_table(series: list[dict[str, str]], timestamps: list[int], values=None) -> pa.Table:
    """Every series gets every timestamp; rows sorted the way the writer expects."""
    rows = []
    for labels in series:
        for i, ts in enumerate(timestamps):
            value = values[i] if values is not None else float(i)
            rows.append((labels, ts, value))
    rows.sort(key=lambda r: (r[1] // 3_600_000, r[0]["__name__"], series_id(r[0]), r[1]))
    label_names = sorted({k for labels in series for k in labels} - {NAME})
    columns = {
        NAME: pa.array([r[0][NAME] for r in rows]),
        SERIES_ID: pa.array([series_id(r[0]) for r in rows], pa.int64()),
        TS: pa.array([r[1] for r in rows], pa.int64()),
        VALUE: pa.array(np.array([r[2] for r in rows], dtype=np.float64)),
    }
    for name in label_names:
        columns[name] = pa.array([r[0].get(name) for r in rows], pa.string())
    return pa.table(columns)
