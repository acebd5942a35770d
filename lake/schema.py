"""The segment file format: system columns, label columns, series identity, object keys."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable

import pyarrow as pa

NAME = "__name__"
SERIES_ID = "__series_id"
TS = "__ts"
VALUE = "__value"
SYSTEM_COLUMNS = (NAME, SERIES_ID, TS, VALUE)

# Prometheus's staleness marker: a NaN with this exact bit pattern (value.StaleNaN).
STALE_NAN_BITS = 0x7FF0000000000002
STALE_NAN = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]

SYSTEM_FIELDS = (
    pa.field(NAME, pa.string(), nullable=False),
    pa.field(SERIES_ID, pa.int64(), nullable=False),
    pa.field(TS, pa.int64(), nullable=False),
    pa.field(VALUE, pa.float64(), nullable=False),
)

HOUR_MS = 3_600_000

# Columns of segment files and of worker output besides labels. Any other name, `__address__`
# included, is an ordinary label column.
WIRE_COLUMNS = frozenset({"__leaf", "__bucket_end", "__sketch", "__count", "__sum", "__sum_c", "__min",
                          "__max",
                          "__first_ts", "__first_value", "__last_ts", "__last_value", "__prev_ts",
                          "__prev_value", "__increase", "__reset_sum", "__resets", "__changes",
                          "__sum_t", "__sum_t2", "__sum_tv", "__m2", "__last_stale_ts"})
RESERVED_COLUMNS = frozenset(SYSTEM_COLUMNS) - {NAME} | WIRE_COLUMNS


def is_label_column(name: str) -> bool:
    return name not in RESERVED_COLUMNS


def raw_schema(label_names: Iterable[str]) -> pa.Schema:
    """Schema of a `tbl_` file: the system columns, then one nullable string column per label."""
    labels = sorted(set(label_names) - {NAME})
    for label in labels:
        if not is_label_column(label):
            raise ValueError(f"label name {label!r} is reserved for fletch's own columns")
    return pa.schema([*SYSTEM_FIELDS, *(pa.field(name, pa.string()) for name in labels)])


def series_id(labels: dict[str, str]) -> int:
    """Stable int64 identity of a label set (including `__name__`), independent of label order.

    BLAKE2b over `name 0xff value 0xff ...` in label-name order; empty values are dropped first,
    since in PromQL an empty label is the same as an absent one.
    """
    digest = hashlib.blake2b(digest_size=8)
    for name in sorted(labels):
        value = labels[name]
        if value:
            digest.update(name.encode())
            digest.update(b"\xff")
            digest.update(value.encode())
            digest.update(b"\xff")
    return int.from_bytes(digest.digest(), "little", signed=True)


def object_key(org: str, collector: str, dateint: int, hour: int, kind: str, segment_id: int) -> str:
    """`db/{org}/{collector}/{dateint}/metrics/{HH}/{kind}_{segment_id}.parquet`."""
    if kind not in ("tbl", "agg"):
        raise ValueError(f"unknown segment kind {kind!r}")
    for part, value in (("org", org), ("collector", collector)):
        if not value or "/" in value or value in (".", ".."):
            raise ValueError(f"{part} {value!r} cannot be part of an object key")
    return f"db/{org}/{collector}/{dateint}/metrics/{hour:02d}/{kind}_{segment_id}.parquet"
