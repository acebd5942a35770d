"""The same catalog cases against SQLite and a real PostgreSQL server."""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from dataclasses import replace

import pytest

from lake.catalog import CatalogError, MetricMetadata, open_catalog
from lake.catalog.migrations import LATEST_VERSION
from lake.segments import SegmentRecord

HOUR = 3_600_000
T0 = 1_764_720_000_000


def seg(segment_id: int, start: int, end: int, org: str = "acme", metrics=("up",), published=True,
        kind="tbl") -> SegmentRecord:
    return SegmentRecord(org=org, segment_id=segment_id, instance_num=1, collector="local",
                         dateint=20251203, hour=(start - T0) // HOUR, kind=kind, frequency_ms=0,
                         start_ts=start, end_ts=end, record_count=10, file_size=1234,
                         metric_names=tuple(metrics), label_names=("job",), published=published)


@pytest.fixture(params=["sqlite", "postgres"])
def dsn(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/catalog.db"
    server = request.getfixturevalue("postgres")
    return server.create_database(f"cat_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def catalog(dsn):
    cat = open_catalog(dsn)
    yield cat
    cat.close()


def ids(segments):
    return [s.segment_id for s in segments]


def test_migrations_are_idempotent(dsn):
    first = open_catalog(dsn)
    assert first.schema_version() == LATEST_VERSION
    assert first.migrate() == LATEST_VERSION
    first.close()
    second = open_catalog(dsn)
    assert second.schema_version() == LATEST_VERSION
    second.close()


def test_round_trip_preserves_every_field(catalog):
    record = seg(7, T0 + 5, T0 + 900, metrics=("b", "a"))
    catalog.register_segments([record])
    (found,) = catalog.find_segments("acme", T0, T0 + HOUR)
    assert found == replace(record, metric_names=("a", "b"), created_at=found.created_at)
    assert found.created_at > 0


def test_overlap_edges_are_inclusive(catalog):
    catalog.register_segments([seg(1, T0 + 100, T0 + 200)])
    assert ids(catalog.find_segments("acme", T0 + 200, T0 + 300)) == [1]
    assert ids(catalog.find_segments("acme", T0, T0 + 100)) == [1]
    assert ids(catalog.find_segments("acme", T0 + 150, T0 + 160)) == [1]
    assert ids(catalog.find_segments("acme", T0 + 201, T0 + 300)) == []
    assert ids(catalog.find_segments("acme", T0, T0 + 99)) == []


def test_long_query_ranges_find_every_hour(catalog):
    catalog.register_segments([seg(i, T0 + i * HOUR, T0 + i * HOUR + HOUR - 1) for i in range(48)])
    assert ids(catalog.find_segments("acme", T0, T0 + 48 * HOUR)) == list(range(48))
    assert ids(catalog.find_segments("acme", T0 + 10 * HOUR - 1, T0 + 10 * HOUR)) == [9, 10]


def test_orgs_are_isolated(catalog):
    catalog.register_segments([seg(1, T0, T0 + 10, org="a"), seg(1, T0, T0 + 10, org="b"),
                               seg(2, T0, T0 + 10, org="b")])
    assert ids(catalog.find_segments("a", T0, T0 + 10)) == [1]
    assert ids(catalog.find_segments("b", T0, T0 + 10)) == [1, 2]
    assert catalog.orgs() == ["a", "b"]


def test_unpublished_segments_are_hidden_until_published(catalog):
    catalog.register_segments([seg(1, T0, T0 + 10), seg(2, T0, T0 + 10, published=False)])
    assert ids(catalog.find_segments("acme", T0, T0 + 10)) == [1]
    assert ids(catalog.find_segments("acme", T0, T0 + 10, published_only=False)) == [1, 2]
    assert catalog.set_published("acme", [2], True) == 1
    assert ids(catalog.find_segments("acme", T0, T0 + 10)) == [1, 2]


def test_metric_name_filter(catalog):
    catalog.register_segments([seg(1, T0, T0 + 10, metrics=("up", "cpu")),
                               seg(2, T0, T0 + 10, metrics=("mem",))])
    assert ids(catalog.find_segments("acme", T0, T0 + 10, ["cpu"])) == [1]
    assert ids(catalog.find_segments("acme", T0, T0 + 10, ["cpu", "mem"])) == [1, 2]
    assert ids(catalog.find_segments("acme", T0, T0 + 10, ["nope"])) == []
    assert ids(catalog.find_segments("acme", T0, T0 + 10, [])) == []
    assert catalog.metric_names("acme", T0, T0 + 10) == ["cpu", "mem", "up"]


def test_kind_separates_raw_and_rollups(catalog):
    catalog.register_segments([seg(1, T0, T0 + 10), seg(2, T0, T0 + 10, kind="agg")])
    assert ids(catalog.find_segments("acme", T0, T0 + 10)) == [1]
    assert ids(catalog.find_segments("acme", T0, T0 + 10, kind="agg")) == [2]


def test_duplicate_segment_registers_nothing(catalog):
    catalog.register_segments([seg(1, T0, T0 + 10)])
    with pytest.raises(CatalogError, match="nothing was registered"):
        catalog.register_segments([seg(2, T0, T0 + 10), seg(1, T0, T0 + 10)])
    assert ids(catalog.find_segments("acme", T0, T0 + 10)) == [1]
    assert ids(catalog.find_segments("acme", T0, T0 + 10, ["up"])) == [1]


def test_delete_segments(catalog):
    catalog.register_segments([seg(1, T0, T0 + 10), seg(2, T0, T0 + 10)])
    assert catalog.delete_segments("acme", [1]) == 1
    assert ids(catalog.find_segments("acme", T0, T0 + 10, ["up"])) == [2]


def test_metadata_upserts(catalog):
    catalog.register_segments([], {"acme": {"up": MetricMetadata("up", "gauge", "Up?", "")}})
    catalog.register_segments([], {"acme": {"up": MetricMetadata("up", "gauge", "Is it up", "")}})
    assert catalog.metric_metadata("acme") == [MetricMetadata("up", "gauge", "Is it up", "")]
    assert catalog.metric_metadata("other") == []


def test_concurrent_writers_in_threads(dsn):
    catalogs = [open_catalog(dsn) for _ in range(4)]
    errors = []

    def write(worker: int, cat) -> None:
        try:
            for i in range(25):
                cat.register_segments([seg(worker * 1000 + i, T0, T0 + 10)])
        except Exception as err:  # collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(w, c)) for w, c in enumerate(catalogs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(catalogs[0].find_segments("acme", T0, T0 + 10)) == 100
    for cat in catalogs:
        cat.close()


def _write_from_process(dsn: str, worker: int) -> None:
    cat = open_catalog(dsn)
    for i in range(20):
        cat.register_segments([seg(worker * 1000 + i, T0, T0 + 10)])
    cat.close()


def test_concurrent_writers_in_processes(dsn):
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_write_from_process, args=(dsn, w)) for w in range(3)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    cat = open_catalog(dsn)
    assert len(cat.find_segments("acme", T0, T0 + 10)) == 60
    cat.close()


def test_bad_dsn_is_a_clear_error(tmp_path):
    with pytest.raises(CatalogError, match="unsupported catalog DSN"):
        open_catalog("mysql://x")
    with pytest.raises(CatalogError, match="PostgreSQL"):
        open_catalog("postgresql://nobody@127.0.0.1:1/none")
