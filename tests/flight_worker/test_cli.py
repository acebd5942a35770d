"""`fletch worker` as a process: prints its location, answers, stops on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pyarrow.flight as fl


def test_worker_command_runs_and_stops(tmp_path):
    conf = tmp_path / "fletch.yaml"
    conf.write_text(f"data_dir: {tmp_path / 'data'}\nticket_key: k\n")
    proc = subprocess.Popen([sys.executable, "-m", "fletch", "-c", str(conf), "worker", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("fletch worker listening on grpc://127.0.0.1:"), line
        location = line.split()[4]
        health = next(iter(fl.connect(location).do_action(fl.Action("health", b""))))
        assert json.loads(health.body.to_pybytes())["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_worker_needs_a_ticket_key(tmp_path):
    conf = tmp_path / "fletch.yaml"
    conf.write_text(f"data_dir: {tmp_path / 'data'}\n")
    out = subprocess.run([sys.executable, "-m", "fletch", "-c", str(conf), "worker", "--port", "0"],
                         capture_output=True, text=True, timeout=30,
                         env={k: v for k, v in os.environ.items() if not k.startswith("FLETCH_")})
    assert out.returncode == 2 and "ticket_key is not set" in out.stderr
