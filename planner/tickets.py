"""The ticket contract between the query API and the Flight workers (ARCHITECTURE.md section 5).

A ticket is the DoGet payload: a versioned JSON envelope whose body is HMAC-SHA256-signed with
the key shared by API and workers (`ticket_key` in the config). Pure: no network, no files.

Wire format (UTF-8 JSON, no whitespace)::

    {"v": 1, "body": "<JSON text of the body>", "sig": "<hex HMAC-SHA256(key, body bytes)>"}

The signature covers the exact body text, so no canonical-JSON rules are needed. The body::

    {"template": "partials" | "raw" | "sketch" | "series" | "label_names" | "label_values",
     "org": "acme",
     "leaf": 0,                          # leaf id from the plan, echoed in every output row
     "matchers": [{"name": "__name__", "op": "=", "value": "up"}, ...],   # op: = != =~ !~
     "segments": [{"segment_id": 1, "instance_num": 1, "collector": "c", "dateint": 20240101,
                   "hour": 13, "kind": "tbl", "start_ts": 0, "end_ts": 0, "file_size": 1234}, ...],
     "window": [start_ms, end_ms],       # only samples with start < ts <= end are read
     "edges": [e0, e1, ...],             # sorted int64 ms; buckets are (e_k, e_k+1]
     "ref_ts": 0,                        # reference time of the regression moments (ms)
     "label": "",                        # the label of `label_values`
     "expires_at": 1700000000000,        # ms since the epoch; later it is rejected
     "query_id": "",                     # free text for logs
     "fields": ["count", "last_ts"]}     # partials: the fields to send (empty: all)

`decode()` checks, in order: envelope shape and version, signature (constant-time compare),
expiry, then the body's fields and types. Signature and expiry problems raise
`TicketUnauthenticated`; everything else raises `TicketInvalid`. The body never carries SQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any

from lake.partials import ALL_FIELDS as PARTIAL_FIELDS
from lake.schema import object_key

TICKET_VERSION = 1
TEMPLATES = ("partials", "raw", "sketch", "series", "label_names", "label_values")
MATCH_OPS = ("=", "!=", "=~", "!~")
# Templates that need bucket edges.
BUCKETED_TEMPLATES = ("partials", "raw", "sketch")
MAX_TICKET_BYTES = 16 << 20


class TicketError(Exception):
    """A ticket was refused; the message is safe to show to a client."""


class TicketUnauthenticated(TicketError):
    """Unsigned, tampered, signed with another key, or expired."""


class TicketInvalid(TicketError):
    """Signed correctly but not a ticket this worker understands (version, template, fields)."""


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: str
    value: str


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """What a worker needs to find and check one segment file (a catalog row, trimmed)."""

    segment_id: int
    instance_num: int
    collector: str
    dateint: int
    hour: int
    kind: str
    start_ts: int
    end_ts: int
    file_size: int

    def key(self, org: str) -> str:
        return object_key(org, self.collector, self.dateint, self.hour, self.kind, self.segment_id)

    @classmethod
    def from_record(cls, record: Any) -> SegmentRef:
        """From a `lake.segments.SegmentRecord` (or anything with the same attributes)."""
        return cls(segment_id=record.segment_id, instance_num=record.instance_num,
                   collector=record.collector, dateint=record.dateint, hour=record.hour,
                   kind=record.kind, start_ts=record.start_ts, end_ts=record.end_ts,
                   file_size=record.file_size)


@dataclass(frozen=True, slots=True)
class Ticket:
    template: str
    org: str
    segments: tuple[SegmentRef, ...]
    window: tuple[int, int]
    matchers: tuple[Matcher, ...] = ()
    edges: tuple[int, ...] = ()
    leaf: int = 0
    ref_ts: int = 0
    label: str = ""
    expires_at: int = 0
    query_id: str = ""
    fields: tuple[str, ...] = ()  # partials: the fields to send (empty: all)

    def body(self) -> dict[str, Any]:
        return {
            "template": self.template, "org": self.org, "leaf": self.leaf,
            "matchers": [{"name": m.name, "op": m.op, "value": m.value} for m in self.matchers],
            "segments": [_segment_dict(s) for s in self.segments],
            "window": list(self.window), "edges": list(self.edges), "ref_ts": self.ref_ts,
            "label": self.label, "expires_at": self.expires_at, "query_id": self.query_id,
            "fields": list(self.fields),
        }


def encode(ticket: Ticket, key: str | bytes) -> bytes:
    """Sign a ticket; the result is the DoGet ticket bytes."""
    _check_body(ticket)
    body = json.dumps(ticket.body(), separators=(",", ":"), ensure_ascii=False)
    sig = hmac.new(_key_bytes(key), body.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"v": TICKET_VERSION, "body": body, "sig": sig}, separators=(",", ":")).encode()


def decode(data: bytes, key: str | bytes, now_ms: int | None = None) -> Ticket:
    """Verify and parse ticket bytes; raises `TicketUnauthenticated` or `TicketInvalid`."""
    if len(data) > MAX_TICKET_BYTES:
        raise TicketInvalid("ticket too large")
    try:
        envelope = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise TicketInvalid("ticket is not a JSON envelope") from None
    if not isinstance(envelope, dict) or "v" not in envelope:
        raise TicketInvalid("ticket is not a versioned envelope")
    if envelope["v"] != TICKET_VERSION:
        raise TicketInvalid(f"unsupported ticket version {envelope['v']!r} (this worker: {TICKET_VERSION})")
    body, sig = envelope.get("body"), envelope.get("sig")
    if not isinstance(sig, str) or not sig:
        raise TicketUnauthenticated("ticket is not signed")
    if not isinstance(body, str):
        raise TicketInvalid("ticket body missing")
    expected = hmac.new(_key_bytes(key), body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, sig):
        raise TicketUnauthenticated("ticket signature does not match")
    try:
        fields = json.loads(body)
    except ValueError:
        raise TicketInvalid("ticket body is not JSON") from None
    ticket = _parse_body(fields)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    if ticket.expires_at <= now:
        raise TicketUnauthenticated("ticket expired")
    return ticket


def _key_bytes(key: str | bytes) -> bytes:
    raw = key.encode() if isinstance(key, str) else key
    if not raw:
        raise TicketUnauthenticated("no ticket key configured")
    return raw


def _segment_dict(s: SegmentRef) -> dict[str, Any]:
    return {"segment_id": s.segment_id, "instance_num": s.instance_num, "collector": s.collector,
            "dateint": s.dateint, "hour": s.hour, "kind": s.kind, "start_ts": s.start_ts,
            "end_ts": s.end_ts, "file_size": s.file_size}


def _int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not -(1 << 63) <= value < (1 << 63):
        raise TicketInvalid(f"{what} must be a 64-bit integer")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TicketInvalid(f"{what} must be a string")
    return value


def _parse_body(body: Any) -> Ticket:
    if not isinstance(body, dict):
        raise TicketInvalid("ticket body must be an object")
    known = {"template", "org", "leaf", "matchers", "segments", "window", "edges", "ref_ts", "label",
             "expires_at", "query_id", "fields"}
    unknown = set(body) - known
    if unknown:
        raise TicketInvalid(f"unknown ticket field(s): {', '.join(sorted(unknown))}")
    for required in ("template", "org", "segments", "window", "expires_at"):
        if required not in body:
            raise TicketInvalid(f"ticket field {required!r} missing")
    matchers = body.get("matchers", [])
    if not isinstance(matchers, list):
        raise TicketInvalid("matchers must be a list")
    segments = body["segments"]
    if not isinstance(segments, list):
        raise TicketInvalid("segments must be a list")
    window = body["window"]
    if not isinstance(window, list) or len(window) != 2:
        raise TicketInvalid("window must be [start_ms, end_ms]")
    edges = body.get("edges", [])
    if not isinstance(edges, list):
        raise TicketInvalid("edges must be a list")
    fields = body.get("fields", [])
    if not isinstance(fields, list):
        raise TicketInvalid("fields must be a list")
    ticket = Ticket(
        template=_str(body["template"], "template"), org=_str(body["org"], "org"),
        leaf=_int(body.get("leaf", 0), "leaf"),
        matchers=tuple(_parse_matcher(m) for m in matchers),
        segments=tuple(_parse_segment(s) for s in segments),
        window=(_int(window[0], "window start"), _int(window[1], "window end")),
        edges=tuple(_int(e, "edge") for e in edges), ref_ts=_int(body.get("ref_ts", 0), "ref_ts"),
        label=_str(body.get("label", ""), "label"), expires_at=_int(body["expires_at"], "expires_at"),
        query_id=_str(body.get("query_id", ""), "query_id"),
        fields=tuple(_str(f, "field") for f in fields))
    _check_body(ticket)
    return ticket


def _parse_matcher(m: Any) -> Matcher:
    if not isinstance(m, dict) or set(m) != {"name", "op", "value"}:
        raise TicketInvalid("a matcher is {name, op, value}")
    return Matcher(_str(m["name"], "matcher name"), _str(m["op"], "matcher op"),
                   _str(m["value"], "matcher value"))


_SEGMENT_INTS = ("segment_id", "instance_num", "dateint", "hour", "start_ts", "end_ts", "file_size")


def _parse_segment(s: Any) -> SegmentRef:
    if not isinstance(s, dict) or set(s) != {*_SEGMENT_INTS, "collector", "kind"}:
        raise TicketInvalid("a segment is {segment_id, instance_num, collector, dateint, hour, kind, "
                            "start_ts, end_ts, file_size}")
    ints = {name: _int(s[name], f"segment {name}") for name in _SEGMENT_INTS}
    return SegmentRef(collector=_str(s["collector"], "segment collector"),
                      kind=_str(s["kind"], "segment kind"), **ints)


def _check_body(t: Ticket) -> None:
    """Semantic checks shared by encode and decode."""
    if t.template not in TEMPLATES:
        raise TicketInvalid(f"unknown template {t.template!r}")
    if not t.org:
        raise TicketInvalid("org must not be empty")
    for m in t.matchers:
        if m.op not in MATCH_OPS:
            raise TicketInvalid(f"unknown matcher op {m.op!r}")
        if not m.name:
            raise TicketInvalid("matcher name must not be empty")
    if t.window[0] >= t.window[1]:
        raise TicketInvalid("window start must be before window end")
    if t.template in BUCKETED_TEMPLATES:
        if len(t.edges) < 2:
            raise TicketInvalid(f"template {t.template} needs at least two bucket edges")
        if any(b <= a for a, b in zip(t.edges, t.edges[1:], strict=False)):
            raise TicketInvalid("bucket edges must be strictly increasing")
    unknown_fields = set(t.fields) - set(PARTIAL_FIELDS)
    if unknown_fields:
        raise TicketInvalid(f"unknown partial field(s): {', '.join(sorted(unknown_fields))}")
    if t.template == "label_values" and not t.label:
        raise TicketInvalid("label_values needs a label")
    for s in t.segments:
        if s.kind not in ("tbl", "agg"):
            raise TicketInvalid(f"unknown segment kind {s.kind!r}")
        if s.kind != "tbl":
            raise TicketInvalid("this worker reads only raw (tbl) segments")
        if not 0 <= s.hour <= 23:
            raise TicketInvalid("segment hour must be 0..23")
        if s.file_size < 0:
            raise TicketInvalid("segment file_size must not be negative")
        if not s.collector or "/" in s.collector or s.collector in (".", ".."):
            raise TicketInvalid("bad segment collector")
    if "/" in t.org or t.org in (".", ".."):
        raise TicketInvalid("bad org")
