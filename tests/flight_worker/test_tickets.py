"""The ticket envelope: signing, verification and field checks (pure, no network)."""

from __future__ import annotations

import json

import pytest

from planner.tickets import (
    Matcher,
    SegmentRef,
    Ticket,
    TicketInvalid,
    TicketUnauthenticated,
    decode,
    encode,
)

SEG = SegmentRef(segment_id=1, instance_num=1, collector="c", dateint=20240101, hour=3, kind="tbl",
                 start_ts=10, end_ts=20, file_size=99)
NOW = 1_700_000_000_000


def _ticket(**kw) -> Ticket:
    base = {"template": "partials", "org": "acme", "segments": (SEG,), "window": (0, 100),
            "edges": (0, 50, 100), "matchers": (Matcher("__name__", "=~", "up|x"),),
            "expires_at": NOW + 1000, "leaf": 3, "ref_ts": 50}
    return Ticket(**{**base, **kw})


def test_round_trip():
    t = _ticket()
    assert decode(encode(t, "k"), "k", now_ms=NOW) == t


def _envelope(data: bytes) -> dict:
    return json.loads(data)


@pytest.mark.parametrize("mutate", [
    lambda e: {**e, "sig": "0" * 64},
    lambda e: {**e, "body": e["body"].replace('"acme"', '"evil"')},
    lambda e: {k: v for k, v in e.items() if k != "sig"},
    lambda e: {**e, "sig": ""},
], ids=["bad-sig", "tampered-body", "unsigned", "empty-sig"])
def test_tampered_or_unsigned_is_unauthenticated(mutate):
    data = json.dumps(mutate(_envelope(encode(_ticket(), "k")))).encode()
    with pytest.raises(TicketUnauthenticated):
        decode(data, "k", now_ms=NOW)


def test_wrong_key_and_expiry():
    with pytest.raises(TicketUnauthenticated, match="signature"):
        decode(encode(_ticket(), "k"), "other", now_ms=NOW)
    with pytest.raises(TicketUnauthenticated, match="expired"):
        decode(encode(_ticket(), "k"), "k", now_ms=NOW + 1000)


def test_version_and_garbage_are_invalid():
    e = _envelope(encode(_ticket(), "k"))
    with pytest.raises(TicketInvalid, match="version"):
        decode(json.dumps({**e, "v": 2}).encode(), "k", now_ms=NOW)
    for junk in (b"", b"select 1", b"[1]", b'{"body": "x"}'):
        with pytest.raises(TicketInvalid):
            decode(junk, "k", now_ms=NOW)


def _signed_body(body: dict) -> bytes:
    import hashlib
    import hmac
    text = json.dumps(body)
    sig = hmac.new(b"k", text.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"v": 1, "body": text, "sig": sig}).encode()


@pytest.mark.parametrize(("change", "message"), [
    ({"template": "sql"}, "unknown template"),
    ({"sql": "DROP TABLE x"}, "unknown ticket field"),
    ({"matchers": [{"name": "a", "op": "==", "value": "b"}]}, "matcher op"),
    ({"edges": [5, 5]}, "strictly increasing"),
    ({"edges": [5]}, "two bucket edges"),
    ({"window": [10, 10]}, "window"),
    ({"leaf": "x"}, "leaf"),
    ({"org": "../etc"}, "bad org"),
], ids=lambda x: str(x)[:30])
def test_signed_but_invalid_bodies(change, message):
    body = {**_ticket().body(), **change}
    with pytest.raises(TicketInvalid, match=message):
        decode(_signed_body(body), "k", now_ms=NOW)


def test_segment_key_is_the_lake_object_key():
    assert SEG.key("acme") == f"db/acme/c/20240101/metrics/03/tbl_{SEG.segment_id}.parquet"


def test_no_key_configured():
    with pytest.raises(TicketUnauthenticated):
        decode(encode(_ticket(), "k"), "", now_ms=NOW)
