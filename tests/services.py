"""Real services for the tests, started on loopback and stopped by PID: PostgreSQL, moto S3, ZooKeeper."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

PG_CLUSTER = "fletch_test"
PG_PORT = int(os.environ.get("FLETCH_TEST_PG_PORT", "55432"))


class ServiceUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _pg_version() -> str:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not versions:
        raise ServiceUnavailable("PostgreSQL is not installed (scripts/install-system-deps.sh)")
    return versions[-1].parent.parent.name


def _as_postgres(*cmd: str) -> subprocess.CompletedProcess[str]:
    runner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    return subprocess.run([*runner, *cmd], capture_output=True, text=True, check=False)


@dataclass
class Postgres:
    version: str
    port: int

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def stop(self) -> None:
        _as_postgres("pg_ctlcluster", self.version, PG_CLUSTER, "stop", "-m", "fast")


def start_postgres() -> Postgres:
    """A dedicated cluster on a loopback port with trust auth, created on first use."""
    version = _pg_version()
    listing = _as_postgres("pg_lsclusters", "-h").stdout
    if not any(line.split()[:2] == [version, PG_CLUSTER] for line in listing.splitlines()):
        made = subprocess.run(["pg_createcluster", version, PG_CLUSTER, "-p", str(PG_PORT),
                               "--start-conf", "manual", "--", "--auth=trust"],
                              capture_output=True, text=True, check=False)
        if made.returncode != 0:
            raise ServiceUnavailable(f"pg_createcluster failed: {made.stderr.strip()}")
    conf = Path(f"/etc/postgresql/{version}/{PG_CLUSTER}/conf.d/fletch.conf")
    if not conf.exists():
        conf.write_text("listen_addresses = '127.0.0.1'\nfsync = off\nsynchronous_commit = off\n"
                        "full_page_writes = off\nmax_connections = 200\n")
    started = _as_postgres("pg_ctlcluster", version, PG_CLUSTER, "start")
    if started.returncode != 0 and "already running" not in started.stderr:
        raise ServiceUnavailable(f"pg_ctlcluster start failed: {started.stderr.strip()}")
    server = Postgres(version, PG_PORT)
    _wait_for_port(PG_PORT, 30)
    return server


@dataclass
class MotoS3:
    endpoint: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_moto(log_dir: Path) -> MotoS3:
    """moto's S3 server in its own process (server mode), as a user would run it."""
    moto = shutil.which("moto_server", path=str(Path(os.sys.executable).parent))
    if moto is None:
        raise ServiceUnavailable("moto_server is not installed (pip install 'moto[server]')")
    port = free_port()
    log = (log_dir / "moto.log").open("wb")
    process = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    _wait_for_port(port, 30, process)
    return MotoS3(f"http://127.0.0.1:{port}", process)


def _wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServiceUnavailable(f"service on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise ServiceUnavailable(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def make_bucket(endpoint: str, name: str) -> None:
    import boto3
    from botocore.config import Config
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=name)


@dataclass
class ZooKeeper:
    hosts: str
    process: subprocess.Popen[bytes]
    directory: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


ZK_JARS = ("/usr/share/java/zookeeper.jar", "/usr/share/java/slf4j-simple.jar")


def start_zookeeper(directory: Path, tick_ms: int = 500) -> ZooKeeper:
    """A standalone Debian ZooKeeper on a loopback port (no systemd; ecosystem.md 4.1).

    tickTime 500 ms lets clients ask for session timeouts from 1 s, so crash tests stay short."""
    java = shutil.which("java")
    if java is None or not all(Path(jar).exists() for jar in ZK_JARS):
        raise ServiceUnavailable("ZooKeeper is not installed (scripts/install-system-deps.sh)")
    port = free_port()
    (directory / "data").mkdir(parents=True, exist_ok=True)
    config = directory / "zoo.cfg"
    config.write_text(f"tickTime={tick_ms}\ndataDir={directory / 'data'}\nclientPort={port}\n"
                      "clientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n"
                      "4lw.commands.whitelist=ruok,srvr,stat,mntr,envi\n")
    with (directory / "zk.log").open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen([java, "-Xmx256m", f"-Dzookeeper.log.dir={directory}", "-cp",
                                    ":".join(ZK_JARS), "org.apache.zookeeper.server.ZooKeeperServerMain",
                                    str(config)], stdout=log, stderr=log)
    server = ZooKeeper(f"127.0.0.1:{port}", process, directory)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServiceUnavailable(f"ZooKeeper exited with {process.returncode}; see {directory}/zk.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"ruok")
                if sock.recv(4) == b"imok":
                    return server
        except OSError:
            pass
        time.sleep(0.1)
    server.stop()
    raise ServiceUnavailable("ZooKeeper did not answer ruok within 30s")
