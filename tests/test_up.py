"""`fletch up`, the main job: demo data, workers, the API and the Flight gateway, then a clean
stop on Ctrl-C (SIGINT) with no process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from fletch.client import connect
from tests.services import free_port


def test_up_serves_and_stops_cleanly(tmp_path) -> None:
    ports = {"FLETCH_API__PORT": free_port(), "FLETCH_API__FLIGHT_PORT": free_port()}
    workers = [free_port(), free_port()]
    env = {**os.environ, "FLETCH_DATA_DIR": str(tmp_path / "data"), "FLETCH_STORAGE_PROFILES": "",
           "FLETCH_WORKER__PORTS": f"[{workers[0]}, {workers[1]}]", **{k: str(v) for k, v in ports.items()}}
    demo = subprocess.run([sys.executable, "-m", "fletch", "demo", "--span", "2h"], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert demo.returncode == 0, demo.stderr
    up = subprocess.Popen([sys.executable, "-m", "fletch", "up"], env=env, cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        lines = []
        while time.monotonic() < deadline:
            line = up.stdout.readline()
            lines.append(line)
            if "running; Ctrl-C stops everything" in line or not line:
                break
        output = "".join(lines)
        assert "=> " in output, output + up.stderr.read() if up.poll() is not None else output
        base = f"http://127.0.0.1:{ports['FLETCH_API__PORT']}"
        body = httpx.get(f"{base}/api/v1/query", params={"query": "count(up)"}).json()
        assert body["data"]["result"][0]["value"][1] == "9"
        now = time.time()
        table = connect(f"grpc://127.0.0.1:{ports['FLETCH_API__FLIGHT_PORT']}").query_range(
            "count(up)", now - 1800, now - 600, 300)
        assert table.num_rows == 5 and table.column("value").to_pylist() == [9.0] * 5
        up.send_signal(signal.SIGINT)
        _, err = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()
    assert up.returncode == 0, err
    assert "Traceback" not in err
    leftovers = subprocess.run(["pgrep", "-f", f"--port {workers[0]}"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
