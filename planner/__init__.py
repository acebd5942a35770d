"""planner: PromQL text -> AST -> QueryPlan. Pure: no network, no files.

    parse(text) -> Expr            parse and type-check (raises ParseError)
    to_string(expr) -> str         Prometheus's one-line canonical form
    format(expr) -> str            what /api/v1/format_query returns (Pretty)
    plan(expr, evaluation) -> QueryPlan   leaves, templates and bucket edges
"""

from planner.ast import (
    AggregateExpr,
    BinaryExpr,
    Call,
    Expr,
    Matcher,
    MatchOp,
    MatrixSelector,
    NumberLiteral,
    ParenExpr,
    StringLiteral,
    SubqueryExpr,
    UnaryExpr,
    ValueType,
    VectorMatching,
    VectorSelector,
)
from planner.errors import FletchError, NotSupported, ParseError, QueryError
from planner.functions import AGGREGATIONS, BINOPS, FUNCTIONS
from planner.parse import parse
from planner.plan import Evaluation, Grid, Leaf, QueryPlan, plan
from planner.printer import format, to_string

__all__ = [
    "AGGREGATIONS",
    "BINOPS",
    "FUNCTIONS",
    "AggregateExpr",
    "BinaryExpr",
    "Call",
    "Evaluation",
    "Expr",
    "FletchError",
    "Grid",
    "Leaf",
    "MatchOp",
    "Matcher",
    "MatrixSelector",
    "NotSupported",
    "NumberLiteral",
    "ParenExpr",
    "ParseError",
    "QueryError",
    "QueryPlan",
    "StringLiteral",
    "SubqueryExpr",
    "UnaryExpr",
    "ValueType",
    "VectorMatching",
    "VectorSelector",
    "format",
    "parse",
    "plan",
    "to_string",
]
