"""A deterministic data set for side-by-side comparison of fletch with a real Prometheus.

Counters with resets, gauges and classic histograms for several jobs and instances, one series
that stops early and one with a long gap (lookback and staleness-by-absence). **Every sample
timestamp has a non-zero millisecond part**, while every query time, step, range and offset in
`queries.py` is whole seconds: so no sample ever sits on a window boundary, and Prometheus 2.42
(closed windows `[t-r, t]`) and Prometheus 3 (left-open `(t-r, t]`) give the same answers.
Stale markers cannot be written in OpenMetrics, so the set has none.

The same data comes as OpenMetrics text (for `promtool tsdb create-blocks-from openmetrics`)
and as arrays for `lake.ingest.ingest_samples`. Timestamps in the arrays are exactly what
promtool reads back from the text (`int(float(seconds) * 1000)`, as Go converts them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
HOUR_MS = 3_600_000

COUNTER = "http_requests_total"  # counter family `http_requests`
GAUGE = "node_temperature_celsius"
GAUGE_SPARSE = "queue_depth"  # one series stops early, one has a 20-minute gap
HISTOGRAM = "request_duration_seconds"  # classic: _bucket{le}, _sum, _count
BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "+Inf")
JOBS = ("api", "db", "web")
INSTANCES = ("a:9100", "b:9100", "c:9100")
METHODS = ("GET", "POST")


@dataclass(frozen=True)
class DataSet:
    series_labels: list[dict[str, str]]  # each with __name__
    series_index: np.ndarray  # int64, one per sample, into series_labels
    timestamps: np.ndarray  # int64 ms
    values: np.ndarray  # float64
    openmetrics: str  # ends with "# EOF"
    start_ms: int
    end_ms: int  # last possible sample time
    interval_ms: int

    def samples(self, labels: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
        """(timestamps, values) of one series, in time order."""
        index = self.series_labels.index(labels)
        mask = self.series_index == index
        return self.timestamps[mask], self.values[mask]

    def select(self, name: str, **matchers: str) -> list[dict[str, str]]:
        return [s for s in self.series_labels if s["__name__"] == name
                and all(s.get(k) == v for k, v in matchers.items())]

    def write_openmetrics(self, path: Path) -> Path:
        path.write_text(self.openmetrics)
        return path


class _Builder:
    def __init__(self, rng: np.random.Generator, times: np.ndarray) -> None:
        self.rng, self.times = rng, times
        self.labels: list[dict[str, str]] = []
        self.index: list[np.ndarray] = []
        self.ts: list[np.ndarray] = []
        self.values: list[np.ndarray] = []
        self.families: list[tuple[str, str, list[int]]] = []  # (family, type, series numbers)

    def family(self, name: str, kind: str) -> list[int]:
        members: list[int] = []
        self.families.append((name, kind, members))
        return members

    def add(self, members: list[int], labels: dict[str, str], ts: np.ndarray, values: np.ndarray) -> None:
        members.append(len(self.labels))
        self.index.append(np.full(len(ts), len(self.labels), dtype=np.int64))
        self.labels.append(labels)
        self.ts.append(ts)
        self.values.append(values.astype(np.float64))


def _jittered_times(rng: np.random.Generator, start_ms: int, count: int, interval_ms: int) -> np.ndarray:
    """Scrape-like times: i*interval plus a jitter that keeps the millisecond part non-zero and
    survives the text round trip (`int(float("%.3f" % s) * 1000)` gives the same ms back)."""
    jitter = rng.integers(50, interval_ms // 3, size=count)
    out = start_ms + np.arange(count, dtype=np.int64) * interval_ms + jitter
    for i, t in enumerate(out.tolist()):
        while t % 1000 == 0 or _text_ms(_text_seconds(t)) != t:
            t += 1
        out[i] = t
    return out


def _text_seconds(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}"


def _text_ms(text: str) -> int:
    return int(float(text) * 1000)  # what Go's openmetrics parser does: int64(seconds * 1000)


def _counter(rng: np.random.Generator, n: int, rate: float, resets: int) -> np.ndarray:
    steps = rng.gamma(4.0, rate / 4.0, size=n)
    steps = np.round(steps, 0)
    values = np.cumsum(steps)
    for at in sorted(rng.choice(np.arange(n // 10, n - 1), size=resets, replace=False)):
        values[at:] -= values[at] - rng.integers(0, 3)  # restart from a small value
    return values


def generate(seed: int = 20240101, *, start_ms: int = START_MS, hours: float = 3.0,
             interval_ms: int = 15_000) -> DataSet:
    rng = np.random.default_rng(seed)
    count = int(hours * HOUR_MS // interval_ms)
    b = _Builder(rng, np.zeros(0))
    counters, gauges = b.family("http_requests", "counter"), b.family(GAUGE, "gauge")
    sparse, hist = b.family(GAUGE_SPARSE, "gauge"), b.family(HISTOGRAM, "histogram")
    for j, job in enumerate(JOBS):
        for i, instance in enumerate(INSTANCES):
            times = _jittered_times(rng, start_ms, count, interval_ms)
            for m, method in enumerate(METHODS):
                values = _counter(rng, count, rate=5.0 * (j + 1) + i + 3 * m, resets=1 + (i + m) % 3)
                b.add(counters, {"__name__": COUNTER, "job": job, "instance": instance, "method": method},
                      times, values)
            temp = 40 + 10 * j + 5 * np.sin(np.arange(count) / (30 + 7 * i)) + rng.normal(0, 0.5, count)
            b.add(gauges, {"__name__": GAUGE, "job": job, "instance": instance}, times, np.round(temp, 3))
            _histogram(b, hist, rng, times, {"job": job, "instance": instance}, scale=0.1 * (j + 1))
    times = _jittered_times(rng, start_ms, count, interval_ms)
    depth = np.round(np.abs(rng.normal(20, 8, count)), 0)
    stop = count // 2  # stops half-way: gone 5m after its last sample
    b.add(sparse, {"__name__": GAUGE_SPARSE, "job": "api", "queue": "stopping"}, times[:stop], depth[:stop])
    gap = (times < start_ms + HOUR_MS) | (times > start_ms + HOUR_MS + 20 * 60_000)
    b.add(sparse, {"__name__": GAUGE_SPARSE, "job": "api", "queue": "gappy"}, times[gap], depth[gap])
    ts = np.concatenate(b.ts)
    return DataSet(b.labels, np.concatenate(b.index), ts, np.concatenate(b.values), _openmetrics(b),
                   start_ms, int(ts.max()), interval_ms)


def _histogram(b: _Builder, members: list[int], rng: np.random.Generator, times: np.ndarray,
               labels: dict[str, str], scale: float) -> None:
    n = len(times)
    observations = rng.poisson(20, size=n)
    bounds = np.array([float(x) for x in BUCKETS])
    counts = np.zeros((n, len(BUCKETS)))
    sums = np.zeros(n)
    for k in range(n):
        obs = rng.exponential(scale, size=observations[k])
        counts[k] = [(obs <= ub).sum() for ub in bounds]
        sums[k] = round(float(obs.sum()), 6)
    cum_counts, cum_sums = np.cumsum(counts, axis=0), np.round(np.cumsum(sums), 6)
    reset = n * 2 // 3  # one restart of the whole histogram
    cum_counts[reset:] -= cum_counts[reset - 1]
    cum_sums[reset:] = np.round(cum_sums[reset:] - cum_sums[reset - 1], 6)
    for col, le in enumerate(BUCKETS):
        b.add(members, {"__name__": f"{HISTOGRAM}_bucket", **labels, "le": le}, times, cum_counts[:, col])
    b.add(members, {"__name__": f"{HISTOGRAM}_sum", **labels}, times, cum_sums)
    b.add(members, {"__name__": f"{HISTOGRAM}_count", **labels}, times, cum_counts[:, -1])


def _format_value(value: float) -> str:
    return repr(float(value))  # shortest round-trip digits: Go's ParseFloat reads the same float


def _openmetrics(b: _Builder) -> str:
    lines: list[str] = []
    for family, kind, members in b.families:
        lines.append(f"# TYPE {family} {kind}")
        for number in members:
            labels = b.labels[number]
            pairs = ",".join(f'{k}="{v}"' for k, v in labels.items() if k != "__name__")
            head = labels["__name__"] + ("{" + pairs + "}" if pairs else "")
            lines += [f"{head} {_format_value(v)} {_text_seconds(t)}"
                      for t, v in zip(b.ts[number].tolist(), b.values[number].tolist(), strict=True)]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
