"""Query latency: fletch (2 Flight workers as processes + the API) next to Prometheus, same data.

1 day of 1,000 counter series at 10 s (8.64 M samples), ingested into fletch with `lake/` and into
Prometheus with promtool backfill; five range queries over the whole day at a 60 s step, each
timed over HTTP on both in the same run. Prints each median latency and the fletch/Prometheus
ratio. Run on demand:  make bench-query   (or .venv/bin/python bench/query/run.py)
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lake.catalog import open_catalog
from lake.ingest import ingest_samples
from lake.profiles import ANY_ORG, StorageProfile, StorageProfiles
from tests.reference.prometheus import backfill, start_prometheus
from tests.services import free_port

DAY_MS = 86_400_000
START_MS = 1_764_633_600_000  # 2025-12-02T00:00:00Z
QUERIES = [
    "sum by (job) (rate(bench_requests_total[5m]))",
    "max_over_time(bench_requests_total[5m])",
    "sum by (job) (increase(bench_requests_total[1h]))",
    "bench_requests_total",
    "sum by (job) (rate(bench_requests_total[5m])) / count by (job) (bench_requests_total)",
]


def generate(series: int, interval_ms: int) -> tuple[list[dict[str, str]], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    times = START_MS + np.arange(0, DAY_MS, interval_ms) + 137  # off the query grid
    labels = [{"__name__": "bench_requests_total", "job": f"job-{i % 10}", "instance": f"host-{i}:9100"}
              for i in range(series)]
    values = np.cumsum(rng.integers(0, 20, size=(series, len(times))), axis=1).astype(np.float64)
    return labels, times, values


def write_openmetrics(path: Path, labels: list[dict[str, str]], times: np.ndarray,
                      values: np.ndarray) -> None:
    stamps = [f"{t / 1000:.3f}" for t in times.tolist()]
    with path.open("w") as out:
        out.write("# TYPE bench_requests counter\n")
        for i, lb in enumerate(labels):
            prefix = f'bench_requests_total{{job="{lb["job"]}",instance="{lb["instance"]}"}} '
            rows = zip(values[i].tolist(), stamps, strict=True)
            out.write("".join(f"{prefix}{v:.0f} {t}\n" for v, t in rows))
        out.write("# EOF\n")


def start_fletch(work: Path, labels, times, values) -> tuple[str, list[subprocess.Popen[bytes]]]:
    data = work / "fletch"
    profiles = StorageProfiles([StorageProfile(org=ANY_ORG, instance_num=1, provider="file",
                                               bucket=str(data / "lake"), collector="bench")])
    catalog = open_catalog(f"sqlite:///{data}/catalog.db")
    started = time.perf_counter()
    index = np.repeat(np.arange(len(labels)), len(times))
    ingest_samples(labels, index, np.tile(times, len(labels)), values.ravel(), org="default",
                   catalog=catalog, profiles=profiles)
    print(f"fletch ingest: {values.size:,} samples in {time.perf_counter() - started:.1f}s")
    catalog.close()
    ports = [free_port(), free_port()]
    api_port = free_port()
    env = {**os.environ, "FLETCH_DATA_DIR": str(data), "FLETCH_TICKET_KEY": secrets.token_hex(16),
           "FLETCH_WORKERS": "[" + ",".join(f"grpc://127.0.0.1:{p}" for p in ports) + "]",
           "FLETCH_API__PORT": str(api_port), "FLETCH_STORAGE_PROFILES": "",
           "FLETCH_API__FLIGHT_PORT": str(free_port())}
    command = [sys.executable, "-m", "fletch"]
    children = [subprocess.Popen([*command, "worker", "--port", str(p)], env=env, stdout=subprocess.DEVNULL)
                for p in ports]
    children.append(subprocess.Popen([*command, "api"], env=env, stdout=subprocess.DEVNULL))
    url = f"http://127.0.0.1:{api_port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return url, children
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("fletch did not start")


def timed(url: str, query: str, repeat: int) -> tuple[float, int]:
    params = {"query": query, "start": str(START_MS / 1000 + 3600), "end": str((START_MS + DAY_MS) / 1000),
              "step": "60"}
    samples = []
    points = 0
    with httpx.Client(timeout=600) as client:
        for _ in range(repeat + 1):  # the first run warms caches and is not counted
            started = time.perf_counter()
            response = client.post(f"{url}/api/v1/query_range", data=params)
            elapsed = time.perf_counter() - started
            response.raise_for_status()
            points = sum(len(s["values"]) for s in response.json()["data"]["result"])
            samples.append(elapsed)
    return statistics.median(samples[1:]), points


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=10_000, help="scrape interval in ms")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    labels, times, values = generate(args.series, args.interval)
    with tempfile.TemporaryDirectory(prefix="fletch-bench-query-") as scratch:
        work = Path(scratch)
        url, children = start_fletch(work, labels, times, values)
        openmetrics = work / "bench.om"
        write_openmetrics(openmetrics, labels, times, values)
        started = time.perf_counter()
        backfill(openmetrics, work / "prometheus-data")
        print(f"promtool backfill: {time.perf_counter() - started:.1f}s")
        prometheus = start_prometheus(work / "prometheus-data", work)
        try:
            print(f"{'query':<88} {'fletch':>9} {'prom':>9} {'ratio':>6}  points")
            for query in QUERIES:
                ours, points = timed(url, query, args.repeat)
                theirs, their_points = timed(prometheus.url, query, args.repeat)
                flag = "" if points == their_points else f"  (prometheus: {their_points})"
                print(f"{query:<88} {ours * 1000:8.0f}ms {theirs * 1000:8.0f}ms {ours / theirs:5.2f}x  "
                      f"{points}{flag}")
        finally:
            prometheus.stop()
            for child in children:
                child.terminate()
            for child in children:
                child.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
