"""The PromQL lexer: Prometheus's lexing rules, producing lark tokens for `promql.lark`.

It is a hand-written scanner because PromQL's tokens depend on context: inside `{...}` every
word is a label name, inside `[...]` only durations, numbers and `step()`/`range()` appear,
keywords are case-insensitive, and the error messages must be Prometheus's own. A lexing
error raises `LexError` with the position Prometheus reports.
"""

from __future__ import annotations

from collections.abc import Iterator

from lark import Token

from planner.gostr import go_quote, go_quote_rune, go_rune_u

AGGREGATORS = {"sum": "SUM", "avg": "AVG", "count": "COUNT", "min": "MIN", "max": "MAX", "group": "GROUP",
               "stddev": "STDDEV", "stdvar": "STDVAR", "topk": "TOPK", "bottomk": "BOTTOMK",
               "count_values": "COUNT_VALUES", "quantile": "QUANTILE", "limitk": "LIMITK",
               "limit_ratio": "LIMIT_RATIO"}
KEYWORDS = {"offset": "OFFSET", "smoothed": "SMOOTHED", "anchored": "ANCHORED", "by": "BY",
            "without": "WITHOUT", "on": "ON", "ignoring": "IGNORING", "group_left": "GROUP_LEFT",
            "group_right": "GROUP_RIGHT", "fill": "FILL", "fill_left": "FILL_LEFT",
            "fill_right": "FILL_RIGHT", "bool": "BOOL"}
WORD_OPERATORS = {"and": "LAND", "or": "LOR", "unless": "LUNLESS", "atan2": "ATAN2"}
PREPROCESSORS = {"start": "START", "end": "END", "step": "STEP", "range": "RANGE", "max_of": "MAX_OF",
                 "min_of": "MIN_OF"}
DURATION_KEYWORDS = {"step": "STEP", "range": "RANGE", "max_of": "MAX_OF", "min_of": "MIN_OF"}
WORDS = {**WORD_OPERATORS, **AGGREGATORS, **KEYWORDS, **PREPROCESSORS, "inf": "NUMBER", "nan": "NUMBER"}

OPERATOR_TYPES = frozenset({"ADD", "DIV", "EQLC", "EQL_REGEX", "GTE", "GTR", "TRIM_UPPER", "TRIM_LOWER",
                            "LAND", "LOR", "LSS", "LTE", "LUNLESS", "MOD", "MUL", "NEQ", "NEQ_REGEX", "POW",
                            "SUB", "AT", "ATAN2"})
KEYWORD_TYPES = frozenset(KEYWORDS.values())
AGGREGATOR_TYPES = frozenset(AGGREGATORS.values())
PUNCT_TYPES = frozenset({"LEFT_PAREN", "RIGHT_PAREN", "LEFT_BRACE", "RIGHT_BRACE", "LEFT_BRACKET",
                         "RIGHT_BRACKET", "COMMA", "EQL", "COLON"}) | frozenset(PREPROCESSORS.values())
_TYPE_DESC = {"IDENTIFIER": "identifier", "METRIC_IDENTIFIER": "metric identifier", "STRING": "string",
              "NUMBER": "number", "DURATION": "duration"}

_SPACE = " \t\n\r"
_DIGITS = "0123456789"
_HEX = "0123456789abcdefABCDEF"


class LexError(Exception):
    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.message, self.start, self.end = message, start, end


def describe(token_type: str, value: str) -> str:
    """How Prometheus names a token in `unexpected ...` messages."""
    if token_type == "$END":
        return "end of input"
    if token_type in KEYWORD_TYPES:
        return f"<{value}>"
    if token_type in OPERATOR_TYPES:
        return f"<op:{value}>"
    if token_type in AGGREGATOR_TYPES:
        return f"<aggr:{value}>"
    if token_type in PUNCT_TYPES:
        return go_quote(value) if len(value) <= 10 else go_quote(value[:10]) + "..."
    if token_type in ("IDENTIFIER", "METRIC_IDENTIFIER"):
        return f"{_TYPE_DESC[token_type]} {go_quote(value)}"
    quoted = go_quote(value) if len(value) <= 10 else go_quote(value[:10]) + "..."
    return f"{_TYPE_DESC.get(token_type, token_type.lower())} {quoted}"


def _is_alpha(ch: str) -> bool:
    return ch == "_" or "a" <= ch <= "z" or "A" <= ch <= "Z"


def _is_alnum(ch: str) -> bool:
    return _is_alpha(ch) or "0" <= ch <= "9"


class Lexer:
    """One pass over one query; `tokens()` yields lark tokens (comments are skipped)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.start = 0
        self.paren_depth = 0
        self.brace_open = False
        self.bracket_open = False
        self.got_colon = False
        self.got_duration = False
        self.in_duration_expr = False  # Prometheus's lexDurationExpr state

    # -- helpers ---------------------------------------------------------------------------
    def _peek(self, offset: int = 0) -> str:
        i = self.pos + offset
        return self.text[i] if i < len(self.text) else ""

    def _next(self) -> str:
        ch = self._peek()
        if ch:
            self.pos += 1
        return ch

    def _error(self, message: str) -> LexError:
        return LexError(message, self.start, len(self.text))

    def _token(self, token_type: str) -> Token:
        value = self.text[self.start : self.pos]
        tok = Token(token_type, value, start_pos=self.start, end_pos=self.pos)
        self.start = self.pos
        return tok

    def _skip_spaces(self) -> None:
        while self._peek() and self._peek() in _SPACE:
            self.pos += 1
        self.start = self.pos

    # -- main loop -------------------------------------------------------------------------
    def tokens(self) -> Iterator[Token]:
        while True:
            if self.brace_open:
                tok = self._inside_braces()
            elif self.in_duration_expr:
                tok = self._duration_expr()
            else:
                tok = self._statements()
            if tok is None:
                continue
            if tok.type == "$END":
                return
            if tok.type != "COMMENT":
                yield tok

    def _comment(self) -> Token:
        while self._peek() and self._peek() not in "\r\n":
            self.pos += 1
        return self._token("COMMENT")

    def _statements(self) -> Token | None:
        text = self.text
        if text.startswith("#", self.pos):
            return self._comment()
        ch = self._next()
        if ch == "":
            if self.paren_depth != 0:
                raise self._error("unclosed left parenthesis")
            if self.bracket_open:
                raise self._error("unclosed left bracket")
            return Token("$END", "", start_pos=self.pos, end_pos=self.pos)
        if ch in _SPACE:
            self._skip_spaces()
            return None
        single = {",": "COMMA", "*": "MUL", "/": "DIV", "%": "MOD", "+": "ADD", "-": "SUB", "^": "POW",
                  "@": "AT"}
        if ch in single:
            return self._token(single[ch])
        if ch == "=":
            nxt = self._peek()
            if nxt == "=":
                self.pos += 1
                return self._token("EQLC")
            if nxt == "~":
                raise self._error(f"unexpected character after '=': {go_quote_rune(nxt)}")
            return self._token("EQL")
        if ch == "!":
            nxt = self._next()
            if nxt != "=":
                raise self._error(f"unexpected character after '!': {go_quote_rune(nxt or chr(0xFFFD))}")
            return self._token("NEQ")
        if ch in "<>":
            nxt = self._peek()
            if nxt == "=":
                self.pos += 1
                return self._token("LTE" if ch == "<" else "GTE")
            if nxt == "/":
                self.pos += 1
                return self._token("TRIM_UPPER" if ch == "<" else "TRIM_LOWER")
            return self._token("LSS" if ch == "<" else "GTR")
        if "0" <= ch <= "9" or (ch == "." and "0" <= self._peek() <= "9" and self._peek() != ""):
            self.pos -= 1
            return self._number_or_duration()
        if ch in "\"'":
            return self._string(ch)
        if ch == "`":
            return self._raw_string()
        if _is_alpha(ch) or ch == ":":
            if not self.bracket_open:
                self.pos -= 1
                return self._keyword_or_identifier()
            if ch == ":":
                if self.got_colon:
                    raise self._error(f"unexpected colon {go_quote_rune(ch)}")
                self.got_colon = True
                return self._token("COLON")
            tok = self._duration_keyword()
            if tok is not None:
                return tok
            raise self._error(f"unexpected character: {go_quote_rune(ch)}, expected ':'")
        if ch == "(":
            self.paren_depth += 1
            return self._token("LEFT_PAREN")
        if ch == ")":
            tok = self._token("RIGHT_PAREN")
            self.paren_depth -= 1
            if self.paren_depth < 0:
                raise self._error(f"unexpected right parenthesis {go_quote_rune(ch)}")
            return tok
        if ch == "{":
            self.brace_open = True
            return self._token("LEFT_BRACE")
        if ch == "[":
            if self.bracket_open:
                raise self._error(f"unexpected left bracket {go_quote_rune(ch)}")
            self.got_colon = False
            tok = self._token("LEFT_BRACKET")
            self._skip_spaces()
            self.bracket_open = True
            self.in_duration_expr = True
            return tok
        if ch == "]":
            if not self.bracket_open:
                raise self._error(f"unexpected right bracket {go_quote_rune(ch)}")
            self.bracket_open = False
            return self._token("RIGHT_BRACKET")
        raise self._error(f"unexpected character: {go_quote_rune(ch)}")

    def _inside_braces(self) -> Token | None:
        if self.text.startswith("#", self.pos):
            return self._comment()
        ch = self._next()
        if ch == "":
            raise self._error("unexpected end of input inside braces")
        if ch in _SPACE:
            self._skip_spaces()
            return None
        if _is_alpha(ch):
            while _is_alnum(self._peek()) and self._peek():
                self.pos += 1
            return self._token("IDENTIFIER")
        if ch == ",":
            return self._token("COMMA")
        if ch in "\"'":
            return self._string(ch)
        if ch == "`":
            return self._raw_string()
        if ch == "=":
            if self._peek() == "~":
                self.pos += 1
                return self._token("EQL_REGEX")
            return self._token("EQL")
        if ch == "!":
            nxt = self._next()
            if nxt == "~":
                return self._token("NEQ_REGEX")
            if nxt == "=":
                return self._token("NEQ")
            bad = go_quote_rune(nxt or chr(0xFFFD))
            raise self._error(f"unexpected character after '!' inside braces: {bad}")
        if ch == "{":
            raise self._error(f"unexpected left brace {go_quote_rune(ch)}")
        if ch == "}":
            self.brace_open = False
            return self._token("RIGHT_BRACE")
        raise self._error(f"unexpected character inside braces: {go_quote_rune(ch)}")

    def _duration_expr(self) -> Token | None:
        ch = self._next()
        if ch == "":
            raise self._error("unexpected end of input in duration expression")
        if ch == "]":
            self.bracket_open = False
            self.got_colon = False
            self.in_duration_expr = False
            return self._token("RIGHT_BRACKET")
        if ch == ":":
            tok = self._token("COLON")
            if not self.got_duration:
                raise self._error("unexpected colon before duration in duration expression")
            if self.got_colon:
                raise self._error("unexpected repeated colon in duration expression")
            self.got_colon = True
            return tok
        if ch == "(":
            self.paren_depth += 1
            return self._token("LEFT_PAREN")
        if ch == ")":
            tok = self._token("RIGHT_PAREN")
            self.paren_depth -= 1
            if self.paren_depth < 0:
                raise self._error(f"unexpected right parenthesis {go_quote_rune(ch)}")
            return tok
        if ch in _SPACE:
            self._skip_spaces()
            return None
        single = {"+": "ADD", "-": "SUB", "*": "MUL", "/": "DIV", "%": "MOD", "^": "POW", ",": "COMMA"}
        if ch in single:
            return self._token(single[ch])
        if ch.lower() in "srm":  # first letters of step, range, max_of, min_of
            tok = self._duration_keyword()
            if tok is not None:
                return tok
            raise self._error(f"unexpected character in duration expression: {go_quote_rune(ch)}")
        if "0" <= ch <= "9" or (ch == "." and "0" <= self._peek() <= "9" and self._peek() != ""):
            self.pos -= 1
            self.got_duration = True
            self.in_duration_expr = False  # Prometheus continues in its statement state
            return self._number_or_duration()
        raise self._error(f"unexpected character in duration expression: {go_quote_rune(ch)}")

    def _duration_keyword(self) -> Token | None:
        """After the first letter: `step`, `range`, `max_of` or `min_of` (any case)."""
        if not _is_alpha(self.text[self.pos - 1]):
            return None
        while _is_alpha(self._peek()) and self._peek():
            self.pos += 1
        word = self.text[self.start : self.pos].lower()
        if word in DURATION_KEYWORDS:
            return self._token(DURATION_KEYWORDS[word])
        return None

    # -- words, numbers, strings -----------------------------------------------------------
    def _keyword_or_identifier(self) -> Token:
        while (ch := self._peek()) and (_is_alnum(ch) or ch == ":"):
            self.pos += 1
        word = self.text[self.start : self.pos]
        kind = WORDS.get(word.lower())
        if kind is not None:
            if kind in ("FILL", "FILL_LEFT", "FILL_RIGHT") and not self._followed_by_paren():
                return self._token("IDENTIFIER")
            return self._token(kind)
        return self._token("METRIC_IDENTIFIER" if ":" in word else "IDENTIFIER")

    def _followed_by_paren(self) -> bool:
        i = self.pos
        while i < len(self.text) and self.text[i] in _SPACE:
            i += 1
        return i < len(self.text) and self.text[i] == "("

    def _number_or_duration(self) -> Token:
        if self._scan_number():
            return self._token("NUMBER")
        if self._accept_duration_rest():
            self.pos -= 1
            return self._token("DURATION")
        raise self._error(f"bad number or duration syntax: {go_quote(self.text[self.start:self.pos])}")

    def _accept(self, valid: str) -> bool:
        ch = self._peek()
        if ch and ch in valid:
            self.pos += 1
            return True
        return False

    def _accept_duration_rest(self) -> bool:
        if not self._accept("smhdwy"):
            return False
        self._accept("s")
        while self._accept(_DIGITS):
            while self._accept(_DIGITS):
                pass
            if not self._accept("smhdw"):
                return False
            self._accept("s")
        ch = self._next()
        if ch == "":
            self.pos += 1  # mirror Go's backup() after reading EOF
            return True
        return not _is_alnum(ch)

    def _scan_number(self) -> bool:
        initial = self.pos
        digits = _DIGITS
        if self._accept("0") and self._accept("xX"):
            self._accept("_")
            digits = _HEX
        self._accept(".")
        self._accept(digits)
        dot = exponent = False
        valid = digits + "._eE"
        while (ch := self._peek()) and ch in valid:
            if ch == ".":
                if dot:
                    self.pos += 1
                    return False
                self.pos += 1
                dot = True
                if self._accept("_."):
                    return False
                if digits is _HEX:
                    return False
                continue
            if ch in "eE":
                if exponent:
                    self.pos += 1
                    return False
                self.pos += 1
                exponent = True
                self._accept("+-")
                if self._accept("._eE") or self._peek() == "":
                    return False
                continue
            if ch == "_":
                self.pos += 1
                if self._accept("._eE") or self._peek() == "":
                    return False
                continue
            while (c := self._peek()) and c in digits:
                self.pos += 1
        if self.pos == initial:
            return False
        nxt = self._peek()
        return not (nxt and _is_alnum(nxt))

    def _string(self, quote: str) -> Token:
        text, n = self.text, len(self.text)
        while True:
            if self.pos >= n:
                raise self._error("unterminated quoted string")
            ch = text[self.pos]
            self.pos += 1
            if ch == "\\":
                self._escape(quote)
            elif ch == "\n":
                raise self._error("unterminated quoted string")
            elif ch == quote:
                return self._token("STRING")
            elif ch == "\ufffd" or 0xD800 <= ord(ch) <= 0xDFFF:
                raise self._error("invalid UTF-8 rune")

    def _escape(self, quote: str) -> None:
        ch = self._next()
        if ch == "":
            raise self._error("escape sequence not terminated")
        if ch in "abfnrtv\\" or ch == quote:
            return
        if ch in "01234567":
            count, base, limit = 3, 8, 255
        elif ch == "x":
            ch, count, base, limit = self._next(), 2, 16, 255
        elif ch == "u":
            ch, count, base, limit = self._next(), 4, 16, 0x10FFFF
        elif ch == "U":
            ch, count, base, limit = self._next(), 8, 16, 0x10FFFF
        else:
            raise self._error(f"unknown escape sequence {go_rune_u(ch)}")
        value = 0
        while count > 0:
            digit = int(ch, 16) if ch and ch in _HEX else 16
            if digit >= base:
                if ch == "":
                    raise self._error("escape sequence not terminated")
                raise self._error(f"illegal character {go_rune_u(ch)} in escape sequence")
            value = value * base + digit
            count -= 1
            if count > 0:
                ch = self._next()
        if value > limit or 0xD800 <= value < 0xE000:
            raise self._error("escape sequence is an invalid Unicode code point")

    def _raw_string(self) -> Token:
        end = self.text.find("`", self.pos)
        body = self.text[self.pos : end if end >= 0 else len(self.text)]
        if any(c == "\ufffd" or 0xD800 <= ord(c) <= 0xDFFF for c in body):
            raise self._error("invalid UTF-8 rune")
        if end < 0:
            self.pos = len(self.text)
            raise self._error("unterminated raw string")
        self.pos = end + 1
        return self._token("STRING")


def tokenize(text: str) -> Iterator[Token]:
    """All tokens of `text` (raises LexError at the first lexing error)."""
    return Lexer(text).tokens()
