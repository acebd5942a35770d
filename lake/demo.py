"""Demo data: a few hundred realistic series over a time span, written as OpenMetrics text.

Counters with resets (process restarts), gauges, and classic histograms with `le` buckets, for
several jobs and instances. Values are deterministic for a given seed and time range.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from math import erf, log, sqrt
from pathlib import Path

import numpy as np

JOBS = {"api": 4, "worker": 3, "db": 2}
METHODS = ("GET", "POST", "DELETE")
CODES = ("200", "404", "500")
BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")
QUEUES = ("high", "default", "low")
CODE_RATES = {"200": 20.0, "404": 1.5, "500": 0.3}
METHOD_SHARES = {"GET": 1.0, "POST": 0.4, "DELETE": 0.1}


def demo_series_count() -> int:
    instances = sum(JOBS.values())
    per_instance = len(METHODS) * len(CODES) + 1 + 2 + 1 + len(QUEUES) + len(BUCKETS) + 2
    return instances * per_instance


def write_demo(path: Path, start_ms: int, end_ms: int, interval_ms: int = 30_000, seed: int = 7) -> int:
    """Write an OpenMetrics file (gzip when the name ends in .gz); returns the sample count."""
    opener = gzip.open if path.suffix == ".gz" else open
    count = 0
    with opener(path, "wt") as out:
        for block in _families(start_ms, end_ms, interval_ms, np.random.default_rng(seed)):
            out.write(block)
            count += block.count("\n") - block.count("# ")
        out.write("# EOF\n")
    return count


def _families(start_ms: int, end_ms: int, interval_ms: int, rng: np.random.Generator) -> Iterator[str]:
    times = np.arange(start_ms - start_ms % interval_ms + interval_ms, end_ms + 1, interval_ms)
    n = len(times)
    instances = [(job, f"{job}-{i}:9100") for job, count in JOBS.items() for i in range(count)]
    restarts = {inst: rng.integers(n // 4, n) for _, inst in instances}

    def counter(rate: float, inst: str) -> np.ndarray:
        increments = rng.poisson(rate * interval_ms / 1000, n).astype(np.float64)
        values = np.cumsum(increments)
        cut = restarts[inst]
        values[cut:] -= values[cut - 1]  # the process restarted: the counter starts again near 0
        return values

    yield _header("up", "gauge", "Whether the target was scraped.")
    for job, inst in instances:
        up = np.ones(n)
        up[restarts[inst]] = 0
        yield _lines("up", {"job": job, "instance": inst}, times, up)

    yield _header("http_requests", "counter", "HTTP requests served.")
    for job, inst in instances:
        for method in METHODS:
            for code in CODES:
                base = CODE_RATES[code] * METHOD_SHARES[method]
                yield _lines("http_requests_total", {"job": job, "instance": inst, "method": method,
                                                     "code": code}, times, counter(base, inst))

    yield _header("process_cpu_seconds", "counter", "CPU time used.", unit="seconds")
    for job, inst in instances:
        cpu = np.cumsum(rng.uniform(0.05, 0.4, n) * interval_ms / 1000)
        cpu[restarts[inst]:] -= cpu[restarts[inst] - 1]
        yield _lines("process_cpu_seconds_total", {"job": job, "instance": inst}, times, cpu)

    day = 2 * np.pi * (times % 86_400_000) / 86_400_000
    yield _header("node_memory_usage_bytes", "gauge", "Resident memory.", unit="bytes")
    for job, inst in instances:
        memory = 2e9 + 5e8 * np.sin(day + rng.uniform(0, 6)) + rng.normal(0, 2e7, n)
        yield _lines("node_memory_usage_bytes", {"job": job, "instance": inst}, times, np.round(memory))
    yield _header("node_temperature_celsius", "gauge", "Board temperature.", unit="celsius")
    for job, inst in instances:
        temperature = 45 + 8 * np.sin(day) + rng.normal(0, 0.5, n)
        yield _lines("node_temperature_celsius", {"job": job, "instance": inst}, times,
                     np.round(temperature, 2))
    yield _header("queue_depth", "gauge", "Jobs waiting per queue.")
    for job, inst in instances:
        for queue in QUEUES:
            depth = np.maximum(0, np.round(10 + 10 * np.sin(day * 3) + rng.normal(0, 3, n)))
            yield _lines("queue_depth", {"job": job, "instance": inst, "queue": queue}, times, depth)

    yield _header("http_request_duration_seconds", "histogram", "Request latency.", unit="seconds")
    bounds = np.array([float(b) for b in BUCKETS])
    for job, inst in instances:
        requests = counter(25.0, inst)
        # Share of requests at or below each bound, from a log-normal latency distribution.
        mean = {"api": -3.5, "worker": -2.0, "db": -4.5}[job]
        shares = np.array([1.0 if np.isinf(b) else 0.5 * (1 + erf((log(b) - mean) / sqrt(2)))
                           for b in bounds])
        for bound, share in zip(BUCKETS, shares, strict=True):
            yield _lines("http_request_duration_seconds_bucket",
                         {"job": job, "instance": inst, "le": bound}, times, np.floor(requests * share))
        yield _lines("http_request_duration_seconds_count", {"job": job, "instance": inst}, times, requests)
        yield _lines("http_request_duration_seconds_sum", {"job": job, "instance": inst}, times,
                     np.round(requests * np.exp(mean + 0.5), 3))


def _header(family: str, kind: str, help_text: str, unit: str = "") -> str:
    lines = f"# TYPE {family} {kind}\n"
    if unit:
        lines += f"# UNIT {family} {unit}\n"
    return lines + f"# HELP {family} {help_text}\n"


def _lines(name: str, labels: dict[str, str], times: np.ndarray, values: np.ndarray) -> str:
    label_text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{label_text}}} "
    seconds = times / 1000.0
    return "".join(f"{prefix}{v:g} {t:.3f}\n" for v, t in zip(values.tolist(), seconds.tolist(), strict=True))
