import gzip

import duckdb
import numpy as np
import pytest

from lake.catalog import MetricMetadata, open_catalog
from lake.exposition import ExpositionError
from lake.ingest import ingest_files
from lake.profiles import StorageProfiles

T0_S = 1_764_720_000  # 2025-12-03 00:00:00 UTC
T0 = T0_S * 1000


@pytest.fixture
def lake(tmp_path, file_profile):
    catalog = open_catalog(f"sqlite:///{tmp_path}/catalog.db")
    yield catalog, StorageProfiles([file_profile]), tmp_path / "lake"
    catalog.close()


def ingest(lake, tmp_path, text: str | bytes, name="input.prom", **kwargs):
    catalog, profiles, _ = lake
    path = tmp_path / name
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return ingest_files([path], org=kwargs.pop("org", "acme"), catalog=catalog, profiles=profiles, **kwargs)


def rows(lake_dir, query="SELECT __name__, __ts, __value FROM t ORDER BY __name__, __ts, __value"):
    files = [str(p) for p in lake_dir.rglob("*.parquet")]
    con = duckdb.connect()
    con.execute(f"CREATE VIEW t AS SELECT * FROM read_parquet({files!r}, union_by_name=true)")
    return con.execute(query).fetchall()


def test_prometheus_text_with_millisecond_timestamps(lake, tmp_path):
    result = ingest(lake, tmp_path, f"""# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{{method="GET",code="200"}} 10 {T0 + 1000}
http_requests_total{{code="200",method="GET"}} 12 {T0 + 16000}
http_requests_total{{method="POST",code="500"}} 1e3 {T0 + 1000}
up 1 {T0 + 3_600_000}
""")
    assert (result.samples, result.series, len(result.segments)) == (4, 3, 2)
    catalog, _, lake_dir = lake
    found = catalog.find_segments("acme", T0, T0 + 7_200_000)
    assert [s.metric_names for s in found] == [("http_requests_total",), ("up",)]
    assert found[0].label_names == ("code", "method")
    assert rows(lake_dir) == [("http_requests_total", T0 + 1000, 10.0),
                              ("http_requests_total", T0 + 1000, 1000.0),
                              ("http_requests_total", T0 + 16000, 12.0), ("up", T0 + 3_600_000, 1.0)]
    expected = MetricMetadata("http_requests_total", "counter", "Requests.", "")
    assert catalog.metric_metadata("acme") == [expected]


def test_openmetrics_seconds_exemplars_and_special_values(lake, tmp_path):
    ingest(lake, tmp_path, f"""# TYPE latency_seconds histogram
# UNIT latency_seconds seconds
latency_seconds_bucket{{le="0.5"}} 3 {T0_S}.250 # {{trace_id="abc"}} 0.4 {T0_S}.1
latency_seconds_bucket{{le="+Inf"}} +Inf {T0_S}.5
gauge_value NaN {T0_S + 1}
gauge_value -Inf {T0_S + 2}
# EOF
""", name="input.om.gz")
    _, _, lake_dir = lake
    got = rows(lake_dir, "SELECT __name__, le, __ts, __value FROM t ORDER BY __name__, le, __ts")
    assert got[0][:3] == ("gauge_value", None, T0 + 1000) and np.isnan(got[0][3])
    assert got[1:] == [("gauge_value", None, T0 + 2000, float("-inf")),
                       ("latency_seconds_bucket", "+Inf", T0 + 500, float("inf")),
                       ("latency_seconds_bucket", "0.5", T0 + 250, 3.0)]
    meta = lake[0].metric_metadata("acme", "latency_seconds")
    assert meta == [MetricMetadata("latency_seconds", "histogram", "", "seconds")]


def test_quoted_utf8_names(lake, tmp_path):
    ingest(lake, tmp_path, f'{{"my.metric", "a.b"="x", job="j"}} 5 {T0}\n')
    assert rows(lake[2], 'SELECT __name__, "a.b", job FROM t') == [("my.metric", "x", "j")]


def test_out_of_order_input_is_sorted_and_identical_duplicates_dropped(lake, tmp_path):
    result = ingest(lake, tmp_path, f"m 3 {T0 + 3}\nm 1 {T0 + 1}\nm 2 {T0 + 2}\nm 1 {T0 + 1}\n")
    assert result.duplicates_dropped == 1 and result.samples == 3
    assert [r[1] for r in rows(lake[2])] == [T0 + 1, T0 + 2, T0 + 3]


def test_conflicting_duplicate_is_an_error(lake, tmp_path):
    with pytest.raises(ExpositionError, match=r":3: duplicate sample for timestamp .* than line 1"):
        ingest(lake, tmp_path, f"m 1 {T0}\nother 1 {T0}\nm 2 {T0}\n")
    assert lake[0].find_segments("acme", 0, 2**62) == []


BAD_LINES = [
    ("m 1", "no timestamp"),
    ("m one 100", "invalid sample value"),
    ("m 1 soon", "invalid timestamp"),
    ("m 1 1.5", "invalid timestamp"),
    ('m{a="1" 1 100', "invalid label set"),
    ("m{a=1} 1 100", "invalid label set"),
    ('m{a="1",a="2"} 1 100', "duplicate label"),
    ('m{__ts="1"} 1 100', "reserved"),
    ('{a="1"} 1 100', "no metric name"),
    ("1m 1 100", "invalid metric name"),
    ("justoneword", "not a sample line"),
    ("# TYPE m colour", "invalid metric type"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_each_kind_of_bad_line_fails_with_its_line_and_registers_nothing(lake, tmp_path, line, reason):
    text = f"good 1 {T0}\n\n{line}\ngood 2 {T0 + 1000}\n"
    with pytest.raises(ExpositionError, match=rf"input.prom:3: .*{reason}"):
        ingest(lake, tmp_path, text)
    catalog, _, lake_dir = lake
    assert catalog.find_segments("acme", 0, 2**62, published_only=False) == []
    assert not list(lake_dir.rglob("*.parquet")) if lake_dir.exists() else True


def test_invalid_utf8_is_reported(lake, tmp_path):
    with pytest.raises(ExpositionError, match=r":2: line is not valid UTF-8"):
        ingest(lake, tmp_path, b"good 1 1000\nm{a=\"\xff\"} 1 1000\n")


def test_sample_after_eof_is_reported(lake, tmp_path):
    with pytest.raises(ExpositionError, match=r"sample after `# EOF`"):
        ingest(lake, tmp_path, f"a 1 {T0_S}\n# EOF\n" + "".join(f"b 1 {T0_S}\n" for _ in range(2)),
               fmt="openmetrics", name="in.om")


def test_skip_invalid_counts_and_keeps_the_rest(lake, tmp_path):
    text = "".join(f"{line}\n" for line, _ in BAD_LINES) + f"good 1 {T0}\nm 1 {T0}\nm 2 {T0}\n"
    result = ingest(lake, tmp_path, text, skip_invalid=True)
    assert result.skipped_lines == len(BAD_LINES) + 1
    assert sorted(r[:2] for r in rows(lake[2])) == [("good", T0), ("m", T0)]


def test_failed_registration_leaves_no_files(lake, tmp_path, monkeypatch):
    catalog, _, lake_dir = lake

    def refuse(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(catalog, "register_segments", refuse)
    with pytest.raises(RuntimeError):
        ingest(lake, tmp_path, f"m 1 {T0}\nm 1 {T0 + 7_200_000}\n")
    assert list(lake_dir.rglob("*.parquet")) == []


def test_orgs_are_kept_apart(lake, tmp_path):
    ingest(lake, tmp_path, f"m 1 {T0}\n", org="a")
    ingest(lake, tmp_path, f"m 1 {T0}\n", org="b")
    catalog = lake[0]
    (a,) = catalog.find_segments("a", T0, T0)
    (b,) = catalog.find_segments("b", T0, T0)
    assert a.key.startswith("db/a/") and b.key.startswith("db/b/")


def test_large_input_spans_several_chunks(lake, tmp_path, monkeypatch):
    monkeypatch.setattr("lake.ingest.READ_BLOCK_BYTES", 4096)
    lines = [f'm{{i="{i % 7}"}} {i} {T0 + i * 1000}' for i in range(5000)]
    lines.insert(3000, "bad")
    with pytest.raises(ExpositionError, match=r":3001: "):
        ingest(lake, tmp_path, "\n".join(lines) + "\n")
    del lines[3000]
    result = ingest(lake, tmp_path, "\n".join(lines) + "\n")
    assert result.samples == 5000 and result.series == 7
    assert rows(lake[2], "SELECT count(*), sum(__value) FROM t") == [(5000, sum(range(5000)))]


def test_ingest_samples_keeps_stale_markers_exactly(lake):
    from lake.ingest import ingest_samples
    from lake.schema import STALE_NAN, STALE_NAN_BITS
    catalog, profiles, lake_dir = lake
    result = ingest_samples([{"__name__": "m", "job": "a", "empty": ""}, {"__name__": "n"}],
                            np.array([0, 0, 1, 0]), np.array([T0 + 2, T0 + 1, T0, T0 + 1]),
                            np.array([STALE_NAN, 1.0, 5.0, 1.0]), org="acme", catalog=catalog,
                            profiles=profiles)
    assert (result.samples, result.series, result.duplicates_dropped) == (3, 2, 1)
    got = rows(lake_dir, "SELECT __name__, __ts, __value FROM t ORDER BY __name__, __ts")
    assert got[:1] == [("m", T0 + 1, 1.0)] and got[2] == ("n", T0, 5.0)
    import pyarrow.parquet as pq
    values = pq.read_table(next(lake_dir.rglob("*.parquet"))).column("__value").to_numpy()
    assert STALE_NAN_BITS in values.view(np.uint64).tolist()
    assert np.isnan(STALE_NAN)
