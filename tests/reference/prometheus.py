"""A real Prometheus (Debian's 2.42) loaded with a data set, queried through its HTTP API.

`load_prometheus(openmetrics_path, workdir)` backfills the file with `promtool tsdb
create-blocks-from openmetrics`, starts `prometheus` on a free loopback port with that TSDB
directory, a config without scrape targets and a retention long enough for old data, and waits
for `/-/ready`. `instant()` / `range()` return `fletch.promqltest.Result` (labels dict + list of
(ts_ms, float) per series), the same normalized form the fletch side produces.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fletch.promqltest import Result
from tests.services import ServiceUnavailable, free_port

CONFIG = "global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\nscrape_configs: []\n"
RETENTION = "36500d"  # the data set lies in the past: keep every block


def seconds(ms: int) -> str:
    """Query parameter for a time or step in ms (Prometheus accepts float seconds)."""
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    return f"{sign}{ms // 1000}.{ms % 1000:03d}"


@dataclass
class PrometheusServer:
    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path
    client: httpx.Client = field(repr=False)

    def instant(self, expr: str, t_ms: int) -> Result:
        return self._query("/api/v1/query", {"query": expr, "time": seconds(t_ms)})

    def range(self, expr: str, start_ms: int, end_ms: int, step_ms: int) -> Result:
        return self._query("/api/v1/query_range", {"query": expr, "start": seconds(start_ms),
                                                    "end": seconds(end_ms), "step": seconds(step_ms)})

    def _query(self, path: str, params: dict[str, str]) -> Result:
        response = self.client.post(path, data=params)
        if response.headers.get("content-type", "").startswith("application/json"):
            return Result.from_prometheus_json(response.json())
        response.raise_for_status()
        raise RuntimeError(f"unexpected response from Prometheus: {response.status_code} "
                           f"{response.text[:200]}")

    def version(self) -> str:
        return str(self.client.get("/api/v1/status/buildinfo").json()["data"]["version"])

    def stop(self) -> None:
        self.client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ServiceUnavailable(f"{name} is not installed (scripts/install-system-deps.sh installs it)")
    return path


def backfill(openmetrics_path: Path, data_dir: Path) -> None:
    """TSDB blocks from an OpenMetrics file (samples with timestamps, ending in `# EOF`)."""
    done = subprocess.run([_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                           str(openmetrics_path), str(data_dir)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"promtool backfill failed: {done.stderr.strip() or done.stdout.strip()}")


def start_prometheus(data_dir: Path, workdir: Path, timeout: float = 60.0) -> PrometheusServer:
    config = workdir / "prometheus.yml"
    config.write_text(CONFIG)
    port = free_port()
    log_path = workdir / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [_binary("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={data_dir}",
             f"--storage.tsdb.retention.time={RETENTION}", f"--web.listen-address=127.0.0.1:{port}",
             "--log.level=warn"],
            stdout=log, stderr=log, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    server = PrometheusServer(url, process, data_dir, log_path, httpx.Client(base_url=url, timeout=30))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceUnavailable(f"prometheus exited with {process.returncode}: "
                                     f"{log_path.read_text()[-2000:]}")
        try:
            if server.client.get("/-/ready", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise ServiceUnavailable(f"prometheus not ready on {url} after {timeout}s")


def load_prometheus(openmetrics_path: Path, workdir: Path) -> PrometheusServer:
    """Backfill the file into `workdir/tsdb` and serve it."""
    data_dir = workdir / "tsdb"
    backfill(openmetrics_path, data_dir)
    return start_prometheus(data_dir, workdir)
