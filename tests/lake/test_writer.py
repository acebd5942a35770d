import struct
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest
from samples import sample_table

from lake.schema import HOUR_MS, STALE_NAN, STALE_NAN_BITS
from lake.writer import write_raw_segments

HOUR = HOUR_MS
T0 = 1_764_720_000_000  # 2025-12-03 00:00:00 UTC


def test_one_file_per_hour_with_keys_and_records(file_profile):
    series = [{"__name__": "up", "job": "a"}, {"__name__": "cpu", "job": "b", "mode": "idle"}]
    table = sample_table(series, [T0 + 1000, T0 + HOUR - 1, T0 + HOUR, T0 + 5 * HOUR + 7])
    records = write_raw_segments(table, org="acme", profile=file_profile)
    assert [(r.dateint, r.hour) for r in records] == [(20251203, 0), (20251203, 1), (20251203, 5)]
    first = records[0]
    assert (first.start_ts, first.end_ts, first.record_count) == (T0 + 1000, T0 + HOUR - 1, 4)
    assert first.metric_names == ("cpu", "up") and first.label_names == ("job", "mode")
    assert first.key == f"db/acme/local/20251203/metrics/00/tbl_{first.segment_id}.parquet"
    assert len({r.segment_id for r in records}) == 3
    path = f"{file_profile.bucket}/{first.key}"
    assert first.file_size == Path(path).stat().st_size


def test_schema_sort_order_and_compression(file_profile):
    series = [{"__name__": n, "job": j} for n in ("b_metric", "a_metric") for j in ("x", "y", "z")]
    table = sample_table(series, [T0 + i * 15_000 for i in range(100)])
    (record,) = write_raw_segments(table, org="o", profile=file_profile)
    path = f"{file_profile.bucket}/{record.key}"
    meta = pq.ParquetFile(path).metadata
    schema = pq.read_schema(path)
    assert schema.names == ["__name__", "__series_id", "__ts", "__value", "job"]
    assert [str(schema.field(n).type) for n in schema.names] == ["string", "int64", "int64", "double",
                                                                   "string"]
    assert meta.row_group(0).column(0).compression == "ZSTD"
    assert [c.column_index for c in meta.row_group(0).sorting_columns] == [0, 1, 2]
    rows = duckdb.sql(f"SELECT __name__, __series_id, __ts FROM read_parquet('{path}')").fetchall()
    assert rows == sorted(rows)


def test_label_columns_absent_in_an_hour_are_left_out(file_profile):
    early = sample_table([{"__name__": "m", "zone": "eu"}], [T0 + 1])
    late = sample_table([{"__name__": "m", "job": "j"}], [T0 + HOUR + 1])
    import pyarrow as pa
    table = pa.concat_tables([early, late], promote_options="default")
    first, second = write_raw_segments(table, org="o", profile=file_profile)
    assert first.label_names == ("zone",) and second.label_names == ("job",)
    assert pq.read_schema(f"{file_profile.bucket}/{second.key}").names[-1] == "job"


def test_stale_marker_bit_pattern_survives(file_profile):
    values = [1.0, STALE_NAN, float("nan")]
    table = sample_table([{"__name__": "m"}], [T0 + 1, T0 + 2, T0 + 3], values)
    (record,) = write_raw_segments(table, org="o", profile=file_profile)
    read = pq.read_table(f"{file_profile.bucket}/{record.key}").column("__value").to_numpy()
    bits = read.view(np.uint64)
    assert int(bits[1]) == STALE_NAN_BITS
    assert int(bits[2]) != STALE_NAN_BITS and np.isnan(read[2])
    assert struct.pack("<d", read[1]) == struct.pack("<Q", STALE_NAN_BITS)


def test_no_temporary_files_left_behind(file_profile, tmp_path):
    table = sample_table([{"__name__": "m"}], [T0 + 1])
    write_raw_segments(table, org="o", profile=file_profile)
    leftovers = [p for p in (tmp_path / "lake").rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_unsafe_org_is_rejected_before_anything_is_written(file_profile, tmp_path):
    table = sample_table([{"__name__": "m"}], [T0 + 1])
    with pytest.raises(ValueError, match="org"):
        write_raw_segments(table, org="o/x", profile=file_profile)
    assert not list((tmp_path / "lake").rglob("*.parquet"))
