import subprocess
import sys
from pathlib import Path

from lake.catalog import open_catalog

T0 = 1_764_720_000_000


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "fletch", *args], capture_output=True, text=True, cwd=cwd)


def test_ingest_command_end_to_end(tmp_path):
    data = tmp_path / "in.prom"
    data.write_text(f"up{{job=\"a\"}} 1 {T0}\nup{{job=\"a\"}} 1 {T0}\nup{{job=\"a\"}} 0 {T0 + 15000}\n")
    done = run("ingest", "--org", "acme", "--data-dir", str(tmp_path / "d"), str(data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "ingested 2 samples of 1 series into 1 segment(s)" in done.stdout
    assert "dropped 1 duplicate sample(s)" in done.stdout
    catalog = open_catalog(f"sqlite:///{tmp_path}/d/catalog.db")
    (segment,) = catalog.find_segments("acme", T0, T0)
    assert (tmp_path / "d" / "lake" / segment.key).stat().st_size == segment.file_size


def test_ingest_command_rejects_bad_input_cleanly(tmp_path):
    data = tmp_path / "in.prom"
    data.write_text(f"up 1 {T0}\nup{{job=}} 1 {T0}\n")
    done = run("ingest", "--data-dir", str(tmp_path / "d"), str(data), cwd=tmp_path)
    assert done.returncode == 2
    assert "nothing was ingested" in done.stderr and "in.prom:2: invalid label set" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(Path(tmp_path / "d").rglob("*.parquet"))


def test_ingest_command_missing_file(tmp_path):
    done = run("ingest", str(tmp_path / "nope.prom"), cwd=tmp_path)
    assert done.returncode == 2 and "no such file" in done.stderr


def test_demo_command_ingests_a_day(tmp_path):
    done = run("demo", "--data-dir", str(tmp_path / "d"), "--span", "2h", "--interval", "1m", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    catalog = open_catalog(f"sqlite:///{tmp_path}/d/catalog.db")
    names = catalog.metric_names("default", 0, 2**62)
    assert {"up", "http_requests_total", "http_request_duration_seconds_bucket", "queue_depth"} <= set(names)
    again = run("demo", "--data-dir", str(tmp_path / "d"), "--span", "2h", "--if-empty", cwd=tmp_path)
    assert "nothing to do" in again.stdout
