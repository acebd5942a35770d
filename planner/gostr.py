"""Go's string quoting and unquoting as PromQL uses them (`strconv.Quote`, `%q`, `%#U`).

Strings may carry bytes that are not UTF-8 (`"\\xff"` in PromQL is one byte 0xFF); such bytes
are kept as lone surrogates (Python's `surrogateescape`), so they print back as `\\xff`.
"""

from __future__ import annotations

_SIMPLE_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                   "\v": "\\v"}
_UNESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
              "'": "'", '"': '"'}


def _escape(ch: str, quote: str) -> str:
    if ch == quote or ch == "\\":
        return "\\" + ch
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a raw byte kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if ch.isprintable():
        return ch
    if ch in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[ch]
    if code < 0x20 or code == 0x7F:
        return f"\\x{code:02x}"
    if 0xD800 <= code <= 0xDFFF:
        return "\\ufffd"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def go_quote(text: str) -> str:
    """`strconv.Quote`: a double-quoted Go string literal."""
    return '"' + "".join(_escape(ch, '"') for ch in text) + '"'


def _rune(ch: str) -> str:
    # Go decodes a byte that is not UTF-8 as utf8.RuneError
    return "\ufffd" if 0xD800 <= ord(ch) <= 0xDFFF else ch


def go_quote_rune(ch: str) -> str:
    """`%q` of a rune: a single-quoted Go character literal."""
    return "'" + _escape(_rune(ch), "'") + "'"


def go_quote_trunc(text: str, limit: int = 10) -> str:
    """`%.10q`: quote the first `limit` runes."""
    return go_quote(text[:limit])


def go_rune_u(ch: str) -> str:
    """`%#U`: `U+0063 'c'` (the character only when printable)."""
    ch = _rune(ch)
    code = ord(ch)
    if ch.isprintable():
        return f"U+{code:04X} '{ch}'"
    return f"U+{code:04X}"


def unquote(literal: str) -> str:
    """The value of a PromQL string literal the lexer accepted (any of the three quote styles)."""
    quote, body = literal[0], literal[1:-1]
    if quote == "`":
        return body
    if "\\" not in body:
        return body
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        ch = body[i]
        if ch != "\\":
            out += ch.encode("utf-8", "surrogateescape")
            i += 1
            continue
        esc = body[i + 1]
        i += 2
        if esc in _UNESCAPES:
            out += _UNESCAPES[esc].encode()
        elif esc in "01234567":
            out.append(int(body[i - 1 : i + 2], 8))
            i += 2
        elif esc == "x":
            out.append(int(body[i : i + 2], 16))
            i += 2
        else:  # u or U
            width = 4 if esc == "u" else 8
            out += chr(int(body[i : i + width], 16)).encode("utf-8", "surrogatepass")
            i += width
    return out.decode("utf-8", "surrogateescape")
