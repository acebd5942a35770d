"""PromQL abstract syntax tree: frozen, slotted, hashable nodes.

Every node has `pos`, a (start, end) character range into the query text. Positions do not
take part in equality or hashing, so `parse(format(e)) == e` holds although the text moved.
Times are int milliseconds. `str(node)` prints canonical PromQL (see `planner.printer`).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

PosRange = tuple[int, int]
NO_POS: PosRange = (0, 0)
At = int | Literal["start", "end"] | None  # @ <ms>, @ start(), @ end(), or none


class ValueType(Enum):
    NONE = "none"
    SCALAR = "scalar"
    VECTOR = "vector"
    MATRIX = "matrix"
    STRING = "string"

    @property
    def documented(self) -> str:
        """The name Prometheus uses in error messages."""
        return _DOCUMENTED[self]


_DOCUMENTED = {
    ValueType.NONE: "none",
    ValueType.SCALAR: "scalar",
    ValueType.VECTOR: "instant vector",
    ValueType.MATRIX: "range vector",
    ValueType.STRING: "string",
}


class MatchOp(Enum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NRE = "!~"


class Card(Enum):
    ONE_TO_ONE = "one-to-one"
    MANY_TO_ONE = "many-to-one"
    ONE_TO_MANY = "one-to-many"
    MANY_TO_MANY = "many-to-many"


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: MatchOp
    value: str

    def matches(self, value: str) -> bool:
        """Whether a label value (the empty string for an absent label) satisfies the matcher."""
        from planner.matching import matcher_matches

        return matcher_matches(self, value)

    def __str__(self) -> str:
        from planner.printer import format_matcher

        return format_matcher(self)


class Expr:
    """Base of all expression nodes."""

    __slots__ = ()
    pos: PosRange

    @property
    def type(self) -> ValueType:
        raise NotImplementedError

    def __str__(self) -> str:
        from planner.printer import to_string

        return to_string(self)


def _float_key(value: float) -> bytes:
    # NaN equals NaN (any payload) and 0.0 differs from -0.0: what a round trip must keep.
    return b"nan" if math.isnan(value) else struct.pack(">d", value)


@dataclass(frozen=True, slots=True, eq=False)
class NumberLiteral(Expr):
    value: float
    duration: bool = False  # written as a duration (`5m`): printed as one
    pos: PosRange = field(default=NO_POS, compare=False)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NumberLiteral)
            and _float_key(self.value) == _float_key(other.value)
            and self.duration == other.duration
        )

    def __hash__(self) -> int:
        return hash((NumberLiteral, _float_key(self.value), self.duration))

    @property
    def type(self) -> ValueType:
        return ValueType.SCALAR


@dataclass(frozen=True, slots=True)
class StringLiteral(Expr):
    value: str
    pos: PosRange = field(default=NO_POS, compare=False)

    @property
    def type(self) -> ValueType:
        return ValueType.STRING


@dataclass(frozen=True, slots=True)
class VectorSelector(Expr):
    """`name{matchers} @ at offset offset`.

    `name` is the metric name written outside the braces ("" when none); `matchers` are the
    ones written inside, in source order. `all_matchers` adds `__name__="name"` at the end.
    Equality ignores the order of the matchers (they are a conjunction).
    """

    name: str
    matchers: tuple[Matcher, ...] = field(default=(), compare=False)
    offset: int = 0  # ms; negative looks into the future
    at: At = None
    pos: PosRange = field(default=NO_POS, compare=False)
    _matcher_key: tuple[tuple[str, str, str], ...] = field(init=False, repr=False, default=())

    def __post_init__(self) -> None:
        key = tuple(sorted((m.name, m.op.value, m.value) for m in self.matchers))
        object.__setattr__(self, "_matcher_key", key)

    @property
    def all_matchers(self) -> tuple[Matcher, ...]:
        if not self.name:
            return self.matchers
        return (*self.matchers, Matcher("__name__", MatchOp.EQ, self.name))

    @property
    def metric_name(self) -> str | None:
        """The metric name if an equality matcher pins it, else None."""
        for m in self.all_matchers:
            if m.name == "__name__" and m.op is MatchOp.EQ:
                return m.value
        return None

    @property
    def type(self) -> ValueType:
        return ValueType.VECTOR


@dataclass(frozen=True, slots=True)
class MatrixSelector(Expr):
    """`selector[range]`; offset and @ live on the inner selector, as in Prometheus."""

    selector: VectorSelector
    range: int  # ms
    pos: PosRange = field(default=NO_POS, compare=False)

    @property
    def type(self) -> ValueType:
        return ValueType.MATRIX


@dataclass(frozen=True, slots=True)
class SubqueryExpr(Expr):
    """`expr[range:step] @ at offset offset`; `step` 0 means the default step."""

    expr: Expr
    range: int  # ms
    step: int = 0  # ms
    offset: int = 0
    at: At = None
    pos: PosRange = field(default=NO_POS, compare=False)

    @property
    def type(self) -> ValueType:
        return ValueType.MATRIX


@dataclass(frozen=True, slots=True)
class ParenExpr(Expr):
    expr: Expr
    pos: PosRange = field(default=NO_POS, compare=False)
    _type: ValueType = field(init=False, repr=False, compare=False, default=ValueType.NONE)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_type", self.expr.type)

    @property
    def type(self) -> ValueType:
        return self._type


@dataclass(frozen=True, slots=True)
class UnaryExpr(Expr):
    op: Literal["+", "-"]
    expr: Expr
    pos: PosRange = field(default=NO_POS, compare=False)
    _type: ValueType = field(init=False, repr=False, compare=False, default=ValueType.NONE)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_type", self.expr.type)

    @property
    def type(self) -> ValueType:
        return self._type


@dataclass(frozen=True, slots=True)
class VectorMatching:
    """`on`/`ignoring (labels)` and `group_left`/`group_right (include)` as written.

    `card` is what the source says (set operators are made many-to-many by
    `planner.check.effective_matching`).
    """

    card: Card = Card.ONE_TO_ONE
    labels: tuple[str, ...] = ()
    on: bool = False
    include: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BinaryExpr(Expr):
    op: str  # "+", "-", "*", "/", "%", "^", "atan2", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless"
    lhs: Expr
    rhs: Expr
    return_bool: bool = False
    matching: VectorMatching = field(default_factory=VectorMatching)
    pos: PosRange = field(default=NO_POS, compare=False)
    _type: ValueType = field(init=False, repr=False, compare=False, default=ValueType.NONE)

    def __post_init__(self) -> None:
        scalar = self.lhs.type is ValueType.SCALAR and self.rhs.type is ValueType.SCALAR
        object.__setattr__(self, "_type", ValueType.SCALAR if scalar else ValueType.VECTOR)

    @property
    def type(self) -> ValueType:
        return self._type


@dataclass(frozen=True, slots=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...] = ()
    pos: PosRange = field(default=NO_POS, compare=False)

    @property
    def type(self) -> ValueType:
        from planner.functions import FUNCTIONS

        spec = FUNCTIONS.get(self.func)
        return spec.return_type if spec else ValueType.NONE


@dataclass(frozen=True, slots=True)
class AggregateExpr(Expr):
    op: str  # "sum", "topk", ...
    expr: Expr
    param: Expr | None = None
    grouping: tuple[str, ...] = ()
    without: bool = False
    pos: PosRange = field(default=NO_POS, compare=False)

    @property
    def type(self) -> ValueType:
        return ValueType.VECTOR


Node = (NumberLiteral | StringLiteral | VectorSelector | MatrixSelector | SubqueryExpr | ParenExpr
        | UnaryExpr | BinaryExpr | Call | AggregateExpr)


def children(node: Expr) -> tuple[Expr, ...]:
    """Direct sub-expressions, in source order."""
    match node:
        case AggregateExpr(expr=e, param=p):
            return (p, e) if p is not None else (e,)
        case BinaryExpr(lhs=lhs, rhs=rhs):
            return (lhs, rhs)
        case Call(args=args):
            return args
        case SubqueryExpr(expr=e) | ParenExpr(expr=e) | UnaryExpr(expr=e):
            return (e,)
        case MatrixSelector(selector=s):
            return (s,)
        case NumberLiteral() | StringLiteral() | VectorSelector():
            return ()
    raise AssertionError(f"unhandled node {type(node)}")


def walk(node: Expr) -> Iterator[Expr]:
    """Pre-order traversal of every node."""
    yield node
    for child in children(node):
        yield from walk(child)
