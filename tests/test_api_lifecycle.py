"""`fletch api` as a process: it serves, and on SIGTERM stops cleanly after running requests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx

from tests.services import free_port


def test_sigterm_stops_the_api_cleanly(tmp_path) -> None:
    port = free_port()
    env = {**os.environ, "FLETCH_DATA_DIR": str(tmp_path), "FLETCH_TICKET_KEY": "k",
           "FLETCH_WORKERS": f"[grpc://127.0.0.1:{free_port()}]", "FLETCH_API__PORT": str(port),
           "FLETCH_API__FLIGHT_PORT": str(free_port()), "FLETCH_STORAGE_PROFILES": ""}
    process = subprocess.Popen([sys.executable, "-m", "fletch", "api"], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/query",
                                     params={"query": "1 + 1", "time": "4"}, timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, process.stderr.read() if process.poll() else "no start"
                time.sleep(0.2)
        assert response.json()["data"] == {"resultType": "scalar", "result": [4, "2"]}
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "fletch api: stopped" in out and "Traceback" not in err
