"""DuckDB behaviours the templates rely on, pinned against the installed version."""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from flight_worker import templates as T
from lake.schema import STALE_NAN_BITS
from planner.tickets import Matcher


def _file(tmp_path) -> str:
    bits = np.array([STALE_NAN_BITS, 0x7FF8000000000000, 0x3FF0000000000000], dtype=np.uint64)
    path = str(tmp_path / "v.parquet")
    pq.write_table(pa.table({"__value": bits.view(np.float64), "__ts": [1, 2, 3]}), path,
                   column_encoding={"__value": "BYTE_STREAM_SPLIT"}, use_dictionary=False)
    return path


def test_nan_payload_survives_and_bit_test_finds_stale(tmp_path):
    path = _file(tmp_path)
    con = duckdb.connect()
    out = con.sql("SELECT __value FROM read_parquet($f)", params={"f": path}).to_arrow_table()
    assert out.column(0).to_numpy().view(np.uint64)[0] == STALE_NAN_BITS
    stale = con.execute(f"SELECT __ts FROM read_parquet($f) AS t WHERE {T.IS_STALE}", {"f": path}).fetchall()
    assert stale == [(1,)]


def test_isnan_filter_is_folded_away_on_parquet(tmp_path):
    """Why the templates never filter with isnan(): DuckDB drops the predicate using Parquet
    statistics. If this starts failing, DuckDB fixed it and the note in templates.py can go."""
    paths = []
    for label in ("a", "b"):
        paths.append(str(tmp_path / f"{label}.parquet"))
        pq.write_table(pa.table({"__value": [float("nan"), 1.0, 2.0], label: ["x", "y", "z"]}), paths[-1])
    n = duckdb.connect().execute("SELECT count(*) FROM read_parquet($f, union_by_name = true) "
                                 "WHERE NOT isnan(__value)", {"f": paths}).fetchone()[0]
    assert n == 6  # the right answer would be 4


def test_regexp_full_match_is_anchored_and_dot_matches_newline():
    con = duckdb.connect()
    q = "SELECT regexp_full_match($s, $p)"
    assert con.execute(q, {"s": "db", "p": T.anchored("d")}).fetchone()[0] is False
    assert con.execute(q, {"s": "a\nb", "p": T.anchored("a.b")}).fetchone()[0] is True
    assert con.execute(q, {"s": "", "p": T.anchored(".*")}).fetchone()[0] is True


def test_bigint_division_is_spelled_out():
    assert duckdb.connect().execute("SELECT 7 // 2, 7 / 2").fetchone() == (3, 3.5)


def test_sql_never_contains_values():
    m = [Matcher("job", "=", "x'; DROP TABLE t; --"), Matcher('we"ird', "=~", "a|b")]
    q = T.samples_query(["/f.parquet"], m, ["job", 'we"ird'], 0, 10, ordered=False)
    assert "DROP" not in q.sql and "a|b" not in q.sql
    assert '"we""ird"' in q.sql
    assert q.params["files"] == ["/f.parquet"]
    assert "(?s:a|b)" in q.params.values()
