import uuid

import pyarrow.parquet as pq
import pytest
from samples import sample_table
from services import make_bucket

from lake.profiles import ProfileError, StorageProfile, StorageProfiles
from lake.writer import write_raw_segments

T0 = 1_764_720_000_000


def write_yaml(tmp_path, text):
    path = tmp_path / "storage.yaml"
    path.write_text(text)
    return path


def test_load_resolves_exact_org_before_wildcard(tmp_path):
    path = write_yaml(tmp_path, """
profiles:
  - {org: "*", instance_num: 1, provider: file, bucket: lake, collector: local}
  - {org: acme, instance_num: 1, provider: s3, bucket: b1, collector: c, region: eu-west-1,
     endpoint: "http://127.0.0.1:9000", path_style: true}
  - {org: acme, instance_num: 2, provider: gcs, bucket: b2, collector: c}
""")
    profiles = StorageProfiles.load(path, base_dir=tmp_path)
    assert profiles.resolve("acme").provider == "s3"
    assert profiles.resolve("acme", 2).provider == "gcs"
    other = profiles.resolve("other")
    assert other.provider == "file" and other.bucket == str((tmp_path / "lake").resolve())
    assert profiles.default_instance("acme") == 1
    with pytest.raises(ProfileError, match="no storage profile"):
        profiles.resolve("other", 3)


@pytest.mark.parametrize(("body", "message"), [
    ("profiles: [{org: a, provider: file, bucket: x, collector: c, colour: red}]", "unknown key"),
    ("profiles: [{org: a, provider: ftp, bucket: x, collector: c}]", "provider must be"),
    ("profiles: [{org: a, provider: file, bucket: x}]", "missing key"),
    ("profiles: [{org: a, provider: file, bucket: x, collector: c, instance_num: -1}]", "instance_num"),
    ("profiles: [{org: a, provider: s3, bucket: x, collector: c, path_style: maybe}]", "path_style"),
    ("profiles:\n  - {org: a, provider: file, bucket: x, collector: c}\n"
     "  - {org: a, provider: file, bucket: y, collector: c}", "two storage profiles"),
    ("just text", "expected a mapping"),
    ("profiles: [", "not valid YAML"),
])
def test_bad_profile_files_are_rejected(tmp_path, body, message):
    with pytest.raises(ProfileError, match=message):
        StorageProfiles.load(write_yaml(tmp_path, body))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ProfileError, match="does not exist"):
        StorageProfiles.load(tmp_path / "nope.yaml")


def round_trip(profile: StorageProfile) -> None:
    table = sample_table([{"__name__": "up", "job": "a"}], [T0 + 1, T0 + 2])
    (record,) = write_raw_segments(table, org="acme", profile=profile)
    fs = profile.filesystem()
    assert fs.get_file_info(record.key).size == record.file_size
    back = pq.read_table(record.key, filesystem=fs)
    assert back.column("__ts").to_pylist() == [T0 + 1, T0 + 2]


def test_file_profile_round_trip(tmp_path):
    round_trip(StorageProfile(org="acme", instance_num=1, provider="file", bucket=str(tmp_path / "l"),
                              collector="c"))


def test_s3_profile_round_trip_through_moto(s3_endpoint):
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    make_bucket(s3_endpoint, bucket)
    profile = StorageProfile(org="acme", instance_num=1, provider="s3", bucket=bucket, collector="c",
                             region="us-east-1", endpoint=s3_endpoint, path_style=True, prefix="fleet")
    round_trip(profile)
    import boto3
    keys = [o["Key"] for o in boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(
        Bucket=bucket)["Contents"]]
    assert len(keys) == 1 and keys[0].startswith("fleet/db/acme/c/20251203/metrics/00/tbl_")
