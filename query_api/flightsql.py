"""The few Flight SQL messages the gateway speaks, with a hand-rolled protobuf codec, and the
SQL-like statements it accepts.

Statements (case-insensitive keywords; arguments are SQL string literals, `''` escapes a quote,
or bare numbers; a trailing `;` is allowed)::

    SELECT * FROM promql_range('<expr>', '<start>', '<end>', '<step>')
    SELECT * FROM promql_instant('<expr>', '<time>')
    SELECT * FROM promql_instant('<expr>')                     -- at the current time

Times are epoch seconds or RFC 3339; steps are seconds or a Prometheus duration (`30s`, `1m`).
Nothing else is SQL: any other statement is rejected with a message that shows these forms.

Messages (package `arrow.flight.protocol.sql`, each wrapped in `google.protobuf.Any`):
`CommandStatementQuery{string query = 1}` arrives as a descriptor command; the ticket the
gateway hands out is `TicketStatementQuery{bytes statement_handle = 1}`. Every other Flight SQL
command (GetSqlInfo included) and action (CreatePreparedStatement, CloseSession, ...) is answered
UNIMPLEMENTED, which ADBC treats as "not supported" and then falls back from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TYPE_PREFIX = "type.googleapis.com/arrow.flight.protocol.sql."


class StatementError(ValueError):
    """A statement that is not one of the documented forms."""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def decode_fields(data: bytes) -> dict[int, list[bytes | int]]:
    """Fields of one protobuf message: length-delimited as bytes, varints as ints."""
    fields: dict[int, list[bytes | int]] = {}
    pos = 0

    def varint() -> int:
        nonlocal pos
        shift = result = 0
        while True:
            if pos >= len(data):
                raise ValueError("truncated varint")
            byte = data[pos]
            pos += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    while pos < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            fields.setdefault(number, []).append(varint())
        elif wire == 2:
            size = varint()
            if pos + size > len(data):
                raise ValueError("truncated field")
            fields.setdefault(number, []).append(data[pos:pos + size])
            pos += size
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
    return fields


def pack_any(name: str, payload: bytes) -> bytes:
    return field_bytes(1, (TYPE_PREFIX + name).encode()) + field_bytes(2, payload)


def unpack_any(data: bytes) -> tuple[str, bytes] | None:
    """(message name, payload) of an `Any` holding a Flight SQL message; None for anything else."""
    if not data.startswith(b"\n"):
        return None
    try:
        fields = decode_fields(data)
    except ValueError:
        return None
    url, value = fields.get(1, [b""])[0], fields.get(2, [b""])[0]
    if not isinstance(url, bytes) or not isinstance(value, bytes):
        return None
    text = url.decode(errors="replace")
    if not text.startswith(TYPE_PREFIX):
        return None
    return text.removeprefix(TYPE_PREFIX), value


def first_bytes(payload: bytes, number: int = 1) -> bytes:
    value = decode_fields(payload).get(number, [b""])[0]
    return value if isinstance(value, bytes) else b""


@dataclass(frozen=True)
class Statement:
    expr: str
    start: str | None = None  # promql_range
    end: str | None = None
    step: str | None = None
    time: str | None = None  # promql_instant; None with no range: now


_FORMS = ("SELECT * FROM promql_range('<expr>', '<start>', '<end>', '<step>') or "
          "SELECT * FROM promql_instant('<expr>'[, '<time>'])")
_CALL = re.compile(r"^\s*(?:select\s+\*\s+from\s+)?(promql_range|promql_instant)\s*\((.*)\)\s*;?\s*$",
                   re.IGNORECASE | re.DOTALL)
_ARG = re.compile(r"\s*(?:'((?:[^']|'')*)'|([-+0-9.eE:TZ]+))\s*(,|$)", re.DOTALL)


def parse_statement(sql: str) -> Statement:
    match = _CALL.match(sql)
    if not match:
        raise StatementError(f"unsupported statement; fletch accepts {_FORMS}")
    function, body = match.group(1).lower(), match.group(2)
    args: list[str] = []
    pos = 0
    while pos < len(body):
        arg = _ARG.match(body, pos)
        if not arg or arg.end() == pos:
            raise StatementError(f"cannot read the arguments of {function}(...); expected {_FORMS}")
        args.append(arg.group(1).replace("''", "'") if arg.group(1) is not None else arg.group(2))
        pos = arg.end()
    if function == "promql_range":
        if len(args) != 4:
            raise StatementError("promql_range takes 4 arguments: expr, start, end, step")
        return Statement(args[0], start=args[1], end=args[2], step=args[3])
    if len(args) not in (1, 2):
        raise StatementError("promql_instant takes 1 or 2 arguments: expr[, time]")
    return Statement(args[0], time=args[1] if len(args) == 2 else None)
