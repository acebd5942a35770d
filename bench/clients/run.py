"""Result throughput per client surface: the same 1,000-series x 1-day range result fetched over
the Prometheus JSON API, the SSE stream and the Flight gateway, side by side in one run.

Data: 1,000 gauge series sampled every 60 s for a day, in a LocalStack (2 Flight workers, the HTTP
API and the gateway in this process, all on loopback sockets). Query: the raw selector over the
whole day at a 60 s step (1,000 x 1,441 = 1.44 M points). Each surface is timed end to end
(request, evaluation, encoding, transfer and the client's decoding into Python/Arrow values);
the median of `--repeat` runs is reported as points/s.

Run on demand:  .venv/bin/python bench/clients/run.py [--series 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
from httpx_sse import connect_sse

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import fletch.client
from fletch.localstack import LocalStack

DAY_MS = 86_400_000
START_MS = 1_764_633_600_000  # 2025-12-02T00:00:00Z
INTERVAL_MS = 60_000
STEP_MS = 60_000
ORG = "bench"
QUERY = "bench_gauge"


def load(stack: LocalStack, series: int) -> None:
    ts = START_MS + np.arange(0, DAY_MS, INTERVAL_MS, dtype=np.int64)
    labels = [
        {"__name__": QUERY, "job": f"job-{i % 10}", "instance": f"host-{i:04d}:9100"} for i in range(series)
    ]
    rng = np.random.default_rng(7)
    stack.load(
        ORG,
        labels,
        np.repeat(np.arange(series), len(ts)),
        np.tile(ts, series),
        np.round(rng.normal(50, 10, series * len(ts)), 3),
    )


def via_json(stack: LocalStack) -> int:
    with httpx.Client(base_url=stack.url, headers={"X-Scope-OrgID": ORG}, timeout=600) as http:
        body = http.post(
            "/api/v1/query_range",
            data={
                "query": QUERY,
                "start": START_MS / 1000,
                "end": (START_MS + DAY_MS) / 1000,
                "step": STEP_MS / 1000,
            },
        )
        result = body.json()["data"]["result"]
    return sum(len(series["values"]) for series in result)


def via_sse(stack: LocalStack) -> int:
    points = 0
    request = {"q": QUERY, "s": START_MS, "e": START_MS + DAY_MS, "step": "60s"}
    with (
        httpx.Client(base_url=stack.url, headers={"X-Scope-OrgID": ORG}, timeout=600) as http,
        connect_sse(http, "POST", "/api/v1/metrics/query", json=request) as source,
    ):
        for event in source.iter_sse():
            if event.event == "result":
                points += len(json.loads(event.data)["values"])
            elif event.event != "done":
                raise RuntimeError(event.data)
    return points


def via_flight(stack: LocalStack) -> int:
    with fletch.client.connect(stack.flight_url, org=ORG) as db:
        table = db.query_range(QUERY, START_MS / 1000, (START_MS + DAY_MS) / 1000, STEP_MS / 1000)
    return table.num_rows


def measure(
    name: str, fetch: Callable[[LocalStack], int], stack: LocalStack, repeat: int
) -> tuple[int, float]:
    times, points = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        points = fetch(stack)
        times.append(time.perf_counter() - started)
    return points, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root, LocalStack(Path(root), workers=2) as stack:
        started = time.perf_counter()
        load(stack, args.series)
        took = time.perf_counter() - started
        print(f"ingested {args.series} series x 1 day @ {INTERVAL_MS // 1000}s in {took:.1f}s")
        via_flight(stack)  # warm the workers' segment caches once for every surface
        print(f"{'surface':<22}{'points':>12}{'median s':>11}{'points/s':>14}")
        for name, fetch in (
            ("Prometheus JSON API", via_json),
            ("SSE", via_sse),
            ("Flight (fletch.client)", via_flight),
        ):
            points, seconds = measure(name, fetch, stack, args.repeat)
            print(f"{name:<22}{points:>12,}{seconds:>11.3f}{points / seconds:>14,.0f}")


if __name__ == "__main__":
    main()
