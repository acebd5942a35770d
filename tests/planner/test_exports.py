"""The public surface of `planner` is its `__all__`; changing it is a deliberate act."""

from __future__ import annotations

import planner


def test_exported_members() -> None:
    assert set(planner.__all__) >= {
        "AGGREGATIONS", "BINOPS", "FUNCTIONS", "AggregateExpr", "BinaryExpr", "Call", "Evaluation", "Expr",
        "FletchError", "Leaf", "MatchOp", "Matcher", "MatrixSelector", "NotSupported", "NumberLiteral",
        "ParenExpr", "ParseError", "QueryError", "QueryPlan", "StringLiteral", "SubqueryExpr", "UnaryExpr",
        "ValueType", "VectorMatching", "VectorSelector", "format", "parse", "plan", "to_string"}
    for name in planner.__all__:
        assert hasattr(planner, name), name
