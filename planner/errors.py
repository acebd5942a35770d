"""The exceptions fletch raises, each carrying the Prometheus API `errorType` it maps to.

    FletchError                      base of everything fletch raises on purpose
    ├── QueryError                   the query itself is wrong or cannot run     (bad_data)
    │   ├── ParseError               syntax and type errors, with positions      (bad_data)
    │   ├── NotSupported             valid PromQL that fletch does not evaluate  (bad_data)
    │   └── LimitExceeded            a query limit (samples, points, ...)        (execution)
    ├── ExecutionError               evaluation failed                           (execution)
    │   ├── WorkerUnavailable        no worker could serve a fragment            (unavailable)
    │   ├── WorkerFailed             a worker answered with an error             (execution)
    │   ├── QueryTimeout             the query ran out of time                   (timeout)
    │   └── QueryCanceled            the client went away / cancelled            (canceled)
    └── InternalError                a bug: an invariant did not hold            (internal)

`ParseError` keeps every error Prometheus's parser would report (`errors`), in order; its
message is the first one, formatted exactly as Prometheus does
(`1:4: parse error: unexpected end of input inside braces`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PosRange = tuple[int, int]


class FletchError(Exception):
    """Base class; `error_type` is the Prometheus HTTP API `errorType`."""

    error_type = "internal"


class QueryError(FletchError):
    error_type = "bad_data"


class NotSupported(QueryError):
    """Valid PromQL that fletch does not (yet) evaluate; `reason` says what."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LimitExceeded(QueryError):
    error_type = "execution"


class ExecutionError(FletchError):
    error_type = "execution"


class WorkerUnavailable(ExecutionError):
    error_type = "unavailable"


class WorkerFailed(ExecutionError):
    error_type = "execution"


class QueryTimeout(ExecutionError):
    error_type = "timeout"


class QueryCanceled(ExecutionError):
    error_type = "canceled"


class InternalError(FletchError):
    error_type = "internal"


@dataclass(frozen=True, slots=True)
class ErrorItem:
    """One parse or type error: `pos` is a (start, end) character range into `query`."""

    pos: PosRange
    message: str
    query: str

    def line_col(self) -> str:
        """Prometheus's `line:col` of the start (1-based; columns count UTF-8 bytes)."""
        if not self.query:
            return "unknown position"
        start = self.pos[0]
        if start < 0 or start > len(self.query):
            return "invalid position"
        before = self.query[:start]
        line = before.count("\n") + 1
        last = before.rfind("\n")
        col = len(_utf8(before[last + 1 :])) + 1
        return f"{line}:{col}"

    def __str__(self) -> str:
        return f"{self.line_col()}: parse error: {self.message}"


def _utf8(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")  # bytes read from a non-UTF-8 source
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


class ParseError(QueryError):
    """A query Prometheus would reject at parse time (syntax or types)."""

    def __init__(self, errors: Sequence[ErrorItem]) -> None:
        if not errors:
            raise ValueError("ParseError needs at least one error")
        self.errors: tuple[ErrorItem, ...] = tuple(errors)
        super().__init__(str(self.errors[0]))

    @property
    def pos(self) -> PosRange:
        return self.errors[0].pos

    @property
    def message(self) -> str:
        """The first error without its position prefix."""
        return self.errors[0].message
