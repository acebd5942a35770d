"""The Flight surface: statuses and messages, auth, TLS, actions, concurrency, cancellation."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import pyarrow as pa
import pyarrow.flight as fl
import pytest

from lake.profiles import ANY_ORG, StorageProfile
from lake.writer import write_raw_segments
from planner.tickets import Matcher
from tests.flight_worker.conftest import start_worker, stop_worker
from tests.flight_worker.lakedata import ORG, T0, Lake, big_table
from tests.flight_worker.test_templates_e2e import ALIGNED

M = Matcher


def _clean(err: BaseException) -> None:
    text = str(err)
    assert "Traceback" not in text and ".py" not in text, text


def test_tampered_expired_and_foreign_tickets(worker):
    good = worker.ticket("series").ticket
    envelope = json.loads(good)
    cases = {
        "tampered": json.dumps({**envelope, "body": envelope["body"].replace("acme", "acmf")}).encode(),
        "unsigned": json.dumps({"v": 1, "body": envelope["body"]}).encode(),
        "foreign-key": worker.ticket("series", key="another-key").ticket,
        "expired": worker.ticket("series", expires_in_ms=-1).ticket,
    }
    for name, data in cases.items():
        with pytest.raises(fl.FlightUnauthenticatedError) as info:
            worker.client.do_get(fl.Ticket(data)).read_all()
        _clean(info.value)
        assert name and "ticket" in str(info.value)


def test_invalid_tickets_are_invalid_argument(worker):
    envelope = json.loads(worker.ticket("series").ticket)
    for data in (b"not json", b"SELECT * FROM secrets", json.dumps({**envelope, "v": 9}).encode()):
        with pytest.raises(pa.ArrowInvalid) as info:
            worker.client.do_get(fl.Ticket(data)).read_all()
        _clean(info.value)
    with pytest.raises(pa.ArrowInvalid, match="regular expression") as info:
        worker.get("series", matchers=(M("job", "=~", "(unclosed"),))
    _clean(info.value)


def test_unknown_template_is_invalid_argument(worker):
    import hashlib
    import hmac
    body = json.loads(json.loads(worker.ticket("series").ticket)["body"])
    text = json.dumps({**body, "template": "drop_tables"})
    sig = hmac.new(b"test-ticket-key", text.encode(), hashlib.sha256).hexdigest()
    with pytest.raises(pa.ArrowInvalid, match="unknown template"):
        worker.client.do_get(fl.Ticket(json.dumps({"v": 1, "body": text, "sig": sig}).encode())).read_all()


def test_other_calls_are_unimplemented_and_actions_answer(worker):
    with pytest.raises(NotImplementedError) as info:
        list(worker.client.list_flights())
    assert "fletch" not in str(info.value) and "flight_worker" not in str(info.value)
    with pytest.raises(NotImplementedError):
        worker.client.get_flight_info(fl.FlightDescriptor.for_path("x"))
    actions = {a.type for a in worker.client.list_actions()}
    assert actions == {"health", "cache-stats"}
    health = json.loads(next(iter(worker.client.do_action(fl.Action("health", b"")))).body.to_pybytes())
    assert health["status"] == "ok"
    stats = json.loads(next(iter(worker.client.do_action(fl.Action("cache-stats", b"")))).body.to_pybytes())
    assert {"files", "bytes", "budget", "pinned", "hits", "misses", "evictions"} <= set(stats)
    with pytest.raises(fl.FlightServerError, match="unknown action") as info:
        list(worker.client.do_action(fl.Action("drop-cache", b"")))
    _clean(info.value)


def test_missing_file_is_unavailable(worker, tmp_path):
    from dataclasses import replace
    gone = replace(worker.lake.segments[0], segment_id=123)
    with pytest.raises(fl.FlightUnavailableError, match="not found") as info:
        worker.get("series", segments=[gone])
    _clean(info.value)
    wrong_size = replace(worker.lake.segments[0], file_size=5)
    with pytest.raises(fl.FlightUnavailableError, match="catalog says 5"):
        worker.get("series", segments=[wrong_size])


def test_bearer_token_for_calls_that_are_not_doget(file_lake, tmp_path):
    w = start_worker(file_lake, tmp_path, auth_token="s3cret")
    try:
        with pytest.raises(fl.FlightUnauthenticatedError):
            list(w.client.list_actions())
        bad = fl.FlightCallOptions(headers=[(b"authorization", b"Bearer nope")])
        with pytest.raises(fl.FlightUnauthenticatedError):
            list(w.client.list_actions(options=bad))
        ok = fl.FlightCallOptions(headers=[(b"authorization", b"Bearer s3cret")])
        assert len(list(w.client.list_actions(options=ok))) == 2
        assert w.get("series").num_rows == 7  # the signed ticket is the API's credential
    finally:
        stop_worker(w)


def test_tls(file_lake, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    pair = fl.CertKeyPair(cert.read_bytes(), key.read_bytes())
    w = start_worker(file_lake, tmp_path / "c", location="grpc+tls://127.0.0.1:0", tls_certificates=[pair])
    try:
        assert w.server.location.startswith("grpc+tls://")
        client = fl.connect(f"grpc+tls://127.0.0.1:{w.server.port}", tls_root_certs=cert.read_bytes())
        assert client.do_get(w.ticket("series")).read_all().num_rows == 7
        plain = fl.connect(f"grpc://127.0.0.1:{w.server.port}")
        with pytest.raises(fl.FlightUnavailableError):
            plain.do_get(w.ticket("series"), options=fl.FlightCallOptions(timeout=5)).read_all()
    finally:
        stop_worker(w)


@pytest.fixture(scope="module")
def big_worker(tmp_path_factory):
    root = tmp_path_factory.mktemp("big")
    profile = StorageProfile(org=ANY_ORG, instance_num=1, provider="file", bucket=str(root),
                             collector="local")
    segments = write_raw_segments(big_table(500, 2400), org=ORG, profile=profile)  # 1.2 M samples
    w = start_worker(Lake(profile, segments), tmp_path_factory.mktemp("bigcache"))
    yield w
    stop_worker(w)


def test_concurrent_doGets_agree(big_worker):
    edges = ALIGNED
    expected = big_worker.get("partials", edges=edges, matchers=(M("job", "=", "j1"),))
    results: list[pa.Table] = []
    errors: list[BaseException] = []

    def fetch(i: int) -> None:
        try:
            client = fl.connect(f"grpc://127.0.0.1:{big_worker.server.port}")
            results.append(client.do_get(big_worker.ticket(
                "partials", edges=edges, matchers=(M("job", "=", "j1"),))).read_all())
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 4 and all(r.equals(expected) for r in results)
    assert big_worker.engine.open_cursors == 0


def _wait(predicate, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_timeout_cancels_the_query_and_releases_the_cursor(big_worker):
    edges = range(T0 - 15_000, T0 + 11 * 3_600_000, 15_000)  # one bucket per sample: slow
    options = fl.FlightCallOptions(timeout=0.2)
    started = time.monotonic()
    with pytest.raises((fl.FlightTimedOutError, fl.FlightCancelledError)):
        ticket = big_worker.ticket("partials", edges=edges, window=(edges[0], edges[-1]))  # 1.2 M rows
        big_worker.client.do_get(ticket, options=options).read_all()
    assert _wait(lambda: big_worker.engine.open_cursors == 0)
    assert time.monotonic() - started < 20.0  # generous: CI shares 2 cores


def test_client_cancel_mid_stream(big_worker):
    reader = big_worker.client.do_get(big_worker.ticket("raw", edges=ALIGNED))
    reader.read_chunk()
    reader.cancel()
    assert _wait(lambda: big_worker.engine.open_cursors == 0)
