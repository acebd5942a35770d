"""Ingest throughput: `fletch ingest` next to `promtool tsdb create-blocks-from openmetrics`.

Both read the same generated OpenMetrics file (at least 5 M samples by default). Run on demand:
    make bench-ingest            # or: .venv/bin/python bench/ingest/run.py --samples 5000000
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lake.catalog import open_catalog
from lake.demo import demo_series_count, write_demo
from lake.ingest import ingest_files
from lake.profiles import StorageProfile, StorageProfiles

SPAN_MS = 24 * 3_600_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=5_000_000)
    parser.add_argument("--workdir", help="keep files here instead of a temporary directory")
    args = parser.parse_args()
    promtool = shutil.which("promtool")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(args.workdir or scratch)
        work.mkdir(parents=True, exist_ok=True)
        source = work / "bench.om.txt"
        interval = max(1000, SPAN_MS * demo_series_count() // args.samples // 1000 * 1000)
        end = 1_764_720_000_000
        started = time.perf_counter()
        samples = write_demo(source, end - SPAN_MS, end, interval)
        print(f"generated {samples:,} samples ({source.stat().st_size / 1e6:,.0f} MB) "
              f"in {time.perf_counter() - started:.1f}s")

        fletch_rate = run_fletch(source, work / "fletch")
        print(f"fletch ingest:  {fletch_rate:>12,.0f} samples/s")
        if promtool is None:
            print("promtool not found (apt-get install prometheus): no baseline")
            return 1
        prom_rate = run_promtool(promtool, source, work / "promtool", samples)
        print(f"promtool:       {prom_rate:>12,.0f} samples/s")
        print(f"ratio fletch/promtool: {fletch_rate / prom_rate:.2f}x")
    return 0


def run_fletch(source: Path, target: Path) -> float:
    catalog = open_catalog(f"sqlite:///{target}/catalog.db")
    profiles = StorageProfiles([StorageProfile(org="*", instance_num=1, provider="file",
                                               bucket=str(target / "lake"), collector="bench")])
    started = time.perf_counter()
    result = ingest_files([source], org="bench", catalog=catalog, profiles=profiles, fmt="openmetrics")
    elapsed = time.perf_counter() - started
    print(f"  fletch: {result.samples:,} samples, {len(result.segments)} segments, {elapsed:.2f}s")
    return result.samples / elapsed


def run_promtool(promtool: str, source: Path, target: Path, samples: int) -> float:
    target.mkdir()
    started = time.perf_counter()
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(target)],
                   check=True, capture_output=True)
    elapsed = time.perf_counter() - started
    print(f"  promtool: {samples:,} samples, {elapsed:.2f}s")
    return samples / elapsed


if __name__ == "__main__":
    sys.exit(main())
