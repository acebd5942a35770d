"""An S3 storage profile through a real moto server: downloads, caching, pins, bad objects."""

from __future__ import annotations

from dataclasses import replace

import boto3
import pyarrow.flight as fl
import pytest
from botocore.config import Config

from lake.profiles import StorageProfile, StorageProfiles
from planner.tickets import Matcher
from tests.flight_worker.conftest import start_worker, stop_worker
from tests.flight_worker.lakedata import write_lake
from tests.flight_worker.test_templates_e2e import ALIGNED

pytestmark = pytest.mark.s3


@pytest.fixture(scope="module")
def s3_worker(s3_endpoint, tmp_path_factory):
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket="segs")
    profile = StorageProfile(org="acme", instance_num=1, provider="s3", bucket="segs", collector="c1",
                             endpoint=s3_endpoint, path_style=True)
    lake = write_lake(profile)
    w = start_worker(lake, tmp_path_factory.mktemp("s3cache"), profiles=StorageProfiles([profile]))
    w.s3 = s3
    yield w
    stop_worker(w)


def test_partials_from_s3_equal_the_file_profile(s3_worker, worker):
    m = (Matcher("__name__", "=~", "http.*"),)
    from_s3 = s3_worker.get("partials", matchers=m, edges=ALIGNED)
    local = worker.get("partials", matchers=m, edges=ALIGNED)
    assert from_s3.num_rows == local.num_rows > 0
    assert from_s3.drop_columns(["__series_id"]).equals(local.drop_columns(["__series_id"]))
    stats = s3_worker.engine.store.cache.stats()
    assert stats.files == 4 and stats.pinned == 0
    s3_worker.get("series")
    assert s3_worker.engine.store.cache.stats().hits >= 4


def test_missing_and_truncated_objects(s3_worker):
    seg = s3_worker.lake.segments[0]
    gone = replace(seg, segment_id=seg.segment_id + 1)
    with pytest.raises(fl.FlightUnavailableError, match="object not found"):
        s3_worker.get("series", segments=[gone])
    # an object shorter than the catalog says (e.g. a torn upload)
    short = replace(seg, segment_id=seg.segment_id + 2)
    s3_worker.s3.put_object(Bucket="segs", Key=short.key, Body=b"PAR1 not really")
    with pytest.raises(fl.FlightUnavailableError, match="catalog says"):
        s3_worker.get("series", segments=[short])
    cache = s3_worker.engine.store.cache
    assert not any(p.name.endswith(f"tbl_{short.segment_id}.parquet") for p in cache.root.rglob("*"))
    assert cache.stats().pinned == 0
    # the right object appears later: the next request fetches it (the error was not cached)
    body = s3_worker.s3.get_object(Bucket="segs", Key=seg.key)["Body"].read()
    s3_worker.s3.put_object(Bucket="segs", Key=short.key, Body=body)
    assert s3_worker.get("series", segments=[short]).num_rows > 0
