"""A real fletch stack for lifecycle and chaos tests: `fletch worker` processes under ZooKeeper.

Workers run as `python -m fletch worker` with a config file in a scratch directory; each is
stopped by PID (SIGTERM, then SIGKILL) when the stack stops.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fletch.config import FletchConfig, load_config
from fletch.runtime import open_lake
from lake.ingest import ingest_samples

ORG = "acme"
T0 = 1_764_720_000_000
HOUR = 3_600_000
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    location: str = ""
    node: str = ""


@dataclass
class Stack:
    root: Path
    zk_hosts: str
    workers: list[Worker] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.path = f"/fletch-chaos/{uuid.uuid4().hex[:8]}/workers"
        self.config_file = self.root / "fletch.yaml"
        self.config_file.write_text(
            f"data_dir: {self.root / 'data'}\nticket_key: chaos-test-key\ndefault_org: {ORG}\n"
            f"discovery: zookeeper\nworker:\n  duckdb_threads: 1\n  cache_bytes: 268435456\n"
            f"zookeeper:\n  hosts: '{self.zk_hosts}'\n  path: {self.path}\n  session_timeout_s: 2.0\n"
            "health:\n  cooldown_s: 5.0\nlifecycle:\n  deregister_grace_s: 0.5\n  drain_timeout_s: 10.0\n")

    def config(self) -> FletchConfig:
        return load_config(self.config_file, environ={})

    def load(self, hours: int = 6) -> None:
        """Counters and gauges for 2 jobs x 3 instances over `hours` hours, 15 s apart."""
        rng = np.random.default_rng(7)
        catalog, profiles = open_lake(self.config())
        series, stamps, values = [], [], []
        points = hours * 240
        for job in ("a", "b"):
            for instance in range(3):
                ts = T0 + np.arange(0, hours * HOUR, 15_000) + rng.integers(0, 1000, size=points)
                counter = np.cumsum(rng.integers(0, 10, size=points)).astype(float)
                for name, v in (("reqs_total", counter), ("temp", rng.normal(100, 10, size=points))):
                    series.append({"__name__": name, "job": job, "instance": str(instance)})
                    stamps.append(ts)
                    values.append(v)
        index = np.concatenate([np.full(len(t), i) for i, t in enumerate(stamps)])
        ingest_samples(series, index, np.concatenate(stamps), np.concatenate(values), org=ORG,
                       catalog=catalog, profiles=profiles)
        catalog.close()

    def start_worker(self) -> Worker:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLETCH_")}
        env["PYTHONPATH"] = str(REPO)
        process = subprocess.Popen([sys.executable, "-m", "fletch", "-c", str(self.config_file), "worker",
                                    "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   env=env, cwd=self.root)
        worker = Worker(process)
        self.workers.append(worker)
        assert process.stdout is not None
        for line in iter(process.stdout.readline, b""):
            text = line.decode().strip()
            if text.startswith("fletch worker listening on "):
                worker.location = text.split()[4]
            if text.startswith("fletch worker registered as "):
                worker.node = text.split()[-1]
                return worker
        raise RuntimeError(f"worker exited with {process.wait()} before registering")

    def kill(self, worker: Worker) -> None:
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(10)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.terminate()
        for worker in self.workers:
            try:
                worker.process.wait(15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(5)
            if worker.process.stdout is not None:
                worker.process.stdout.close()
