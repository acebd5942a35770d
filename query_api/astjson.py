"""`/api/v1/parse_query`: the AST as the JSON tree Prometheus's UI reads (its `translateAST`).

Fields that only newer Prometheus features fill (anchored/smoothed selectors, fill values,
aligned subqueries) are left out: fletch's parser has no such nodes.
"""

from __future__ import annotations

from typing import Any

from planner import ast
from planner.functions import FUNCTIONS
from planner.printer import format_float


def ast_json(node: ast.Expr | None) -> Any:
    match node:
        case None:
            return None
        case ast.AggregateExpr():
            return {"type": "aggregation", "op": node.op, "expr": ast_json(node.expr),
                    "param": ast_json(node.param), "grouping": list(node.grouping),
                    "without": node.without}
        case ast.BinaryExpr():
            m = node.matching
            vectors = all(side.type is ast.ValueType.VECTOR for side in (node.lhs, node.rhs))
            matching = ({"card": m.card.value, "labels": list(m.labels), "on": m.on,
                         "include": list(m.include)} if vectors else None)
            return {"type": "binaryExpr", "op": node.op, "lhs": ast_json(node.lhs),
                    "rhs": ast_json(node.rhs), "matching": matching, "bool": node.return_bool}
        case ast.Call():
            spec = FUNCTIONS[node.func]
            return {"type": "call", "func": {"name": spec.name,
                                             "argTypes": [t.value for t in spec.arg_types],
                                             "variadic": spec.variadic,
                                             "returnType": spec.return_type.value},
                    "args": [ast_json(arg) for arg in node.args]}
        case ast.MatrixSelector():
            return {"type": "matrixSelector", "range": node.range, **_selector(node.selector)}
        case ast.SubqueryExpr():
            return {"type": "subquery", "expr": ast_json(node.expr), "range": node.range,
                    "offset": node.offset, "step": node.step, **_at(node.at)}
        case ast.NumberLiteral():
            return {"type": "numberLiteral", "val": format_float(node.value)}
        case ast.ParenExpr():
            return {"type": "parenExpr", "expr": ast_json(node.expr)}
        case ast.StringLiteral():
            return {"type": "stringLiteral", "val": node.value}
        case ast.UnaryExpr():
            return {"type": "unaryExpr", "op": node.op, "expr": ast_json(node.expr)}
        case ast.VectorSelector():
            return {"type": "vectorSelector", **_selector(node)}
    raise AssertionError(f"unhandled node {type(node)}")


def _selector(node: ast.VectorSelector) -> dict[str, Any]:
    return {"name": node.name, "offset": node.offset,
            "matchers": [{"name": m.name, "value": m.value, "type": m.op.value} for m in node.all_matchers],
            **_at(node.at)}


def _at(at: ast.At) -> dict[str, Any]:
    if at in ("start", "end"):
        return {"timestamp": None, "startOrEnd": at}
    return {"timestamp": at, "startOrEnd": None}
