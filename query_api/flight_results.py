"""A query result as an Arrow table in long format: one row per (series, timestamp) sample.

Schema (the choice: one string column per label, which pandas and SQL tools read directly)::

    timestamp  timestamp[ms, tz=UTC]  not null
    value      float64 not null       (utf8 for a string result)
    __name__   utf8                   then every other label name of the result, sorted;
    <label>    utf8                   null where a series does not have the label

With `labels="map"`, the label columns are replaced by one `labels: map<utf8, utf8>` column.
A label named `timestamp` or `value` (or any name already taken) gets the column
`label_<name>`. Rows are ordered by series (sorted by label set), then time. The schema
metadata carries `fletch.result_type` (`matrix`, `vector`, `scalar` or `string`, as Prometheus
would name the result). Scalars have no label columns.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa

from query_api.engine.values import Labels, Matrix, Scalar, String, Value, Vector

TIMESTAMP = pa.timestamp("ms", tz="UTC")
BATCH_ROWS = 65_536
LabelLayout = Literal["columns", "map"]


def result_table(value: Value, times: np.ndarray, instant: bool,
                 labels: LabelLayout = "columns") -> pa.Table:
    if isinstance(value, String):
        return _table([], np.array([times[0]]), pa.array([value.value], pa.string()), np.zeros(1, np.int64),
                      "string", labels)
    if isinstance(value, Scalar):
        return _table([], times, pa.array(value.values, pa.float64()), np.zeros(len(times), np.int64),
                      "scalar", labels, with_labels=False)
    if isinstance(value, Matrix):
        order = sorted(range(len(value.labels)), key=lambda i: value.labels[i])
        series = [value.labels[i] for i in order]
        counts = [len(value.timestamps[i]) for i in order]
        stamps = np.concatenate([value.timestamps[i] for i in order]) if order else np.empty(0, np.int64)
        values = np.concatenate([value.values[i] for i in order]) if order else np.empty(0)
        rows = np.repeat(np.arange(len(series)), counts)
        return _table(series, stamps, pa.array(values, pa.float64()), rows, "matrix", labels)
    assert isinstance(value, Vector)
    order = sorted(range(len(value.labels)), key=lambda i: value.labels[i])
    present = value.present[order]
    rows, cols = np.nonzero(present)
    values = value.values[order][rows, cols]
    return _table([value.labels[i] for i in order], times[cols], pa.array(values, pa.float64()), rows,
                  "vector" if instant else "matrix", labels)


def _table(series: list[Labels], stamps: np.ndarray, values: pa.Array, rows: np.ndarray, kind: str,
           layout: LabelLayout, with_labels: bool = True) -> pa.Table:
    columns: dict[str, pa.Array] = {"timestamp": pa.array(stamps.astype(np.int64), TIMESTAMP),
                                    "value": values}
    fields = [pa.field("timestamp", TIMESTAMP, False), pa.field("value", values.type, False)]
    take = pa.array(rows.astype(np.int64))
    if with_labels and layout == "map":
        mapped = pa.array([list(labels) for labels in series], pa.map_(pa.string(), pa.string()))
        columns["labels"] = mapped.take(take)
        fields.append(pa.field("labels", columns["labels"].type))
    elif with_labels:
        names = sorted({name for labels in series for name, _ in labels},
                       key=lambda n: (n != "__name__", n))
        for name in names:
            column = name if name not in columns else f"label_{name}"
            while column in columns:
                column = f"label_{column}"
            per_series = pa.array([dict(labels).get(name) for labels in series], pa.string())
            columns[column] = per_series.take(take)
            fields.append(pa.field(column, pa.string()))
    schema = pa.schema(fields, metadata={b"fletch.result_type": kind.encode()})
    return pa.Table.from_arrays(list(columns.values()), schema=schema)


def batches(table: pa.Table) -> list[pa.RecordBatch]:
    return table.to_batches(max_chunksize=BATCH_ROWS)
