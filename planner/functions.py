"""Tables keyed by name: PromQL functions, aggregation operators and binary operators.

`FUNCTIONS` holds Prometheus 3.x's signatures (`promql/parser/functions.go`) plus the flags that
cut across functions: `at_unsafe` (Prometheus's AtModifierUnsafeFunctions), `keeps_metric_name`,
`removes_counter_resets`, and for functions that take a range vector the pushdown
`template` (`partials` or `raw`) and the partial fields a worker must compute for the leaf.
`sketch` is chosen by the planner only when the caller asks for approximate results.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from planner.ast import ValueType

Template = Literal["partials", "raw", "sketch"]
S, V, M, STR = ValueType.SCALAR, ValueType.VECTOR, ValueType.MATRIX, ValueType.STRING

# The mergeable partial fields a worker computes per (series, bucket); see ARCHITECTURE.md §4.
PARTIAL_FIELDS = ("count", "sum", "min", "max", "first", "last", "prev_last", "increase", "resets",
                  "changes", "moments")
INSTANT_SELECTOR_FIELDS = frozenset({"last"})


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    name: str
    arg_types: tuple[ValueType, ...]
    return_type: ValueType = V
    variadic: int = 0  # 0: exactly arg_types; n > 0: up to n more of the last type; -1: any number
    experimental: bool = False
    at_unsafe: bool = False
    keeps_metric_name: bool = False
    removes_counter_resets: bool = False
    template: Template | None = None  # for functions over a range vector
    fields: frozenset[str] = frozenset()

    @property
    def min_args(self) -> int:
        return len(self.arg_types) - (1 if self.variadic else 0)

    @property
    def max_args(self) -> int | None:
        if self.variadic < 0:
            return None
        return len(self.arg_types) + (self.variadic - 1 if self.variadic else 0)

    def arg_type(self, index: int) -> ValueType:
        return self.arg_types[min(index, len(self.arg_types) - 1)]


def _f(name: str, args: tuple[ValueType, ...], ret: ValueType = V, **flags: object) -> FunctionSpec:
    return FunctionSpec(name, args, ret, **flags)  # type: ignore[arg-type]


def _over_time(name: str, fields: set[str] | None, **flags: object) -> FunctionSpec:
    template: Template = "partials" if fields else "raw"
    return _f(name, (M,), template=template, fields=frozenset(fields or ()), **flags)


_MATH = ("abs", "ceil", "exp", "floor", "ln", "log10", "log2", "sgn", "sqrt", "acos", "acosh", "asin",
         "asinh", "atan", "atanh", "cos", "cosh", "sin", "sinh", "tan", "tanh", "deg", "rad")
_DATE = ("days_in_month", "day_of_month", "day_of_week", "day_of_year", "hour", "minute", "month", "year")
_HISTOGRAM = ("histogram_avg", "histogram_count", "histogram_sum", "histogram_stddev", "histogram_stdvar")

_SPECS: list[FunctionSpec] = [
    *(_f(n, (V,)) for n in _MATH),
    *(_f(n, (V,), variadic=1, at_unsafe=True) for n in _DATE),
    *(_f(n, (V,)) for n in _HISTOGRAM),
    _f("absent", (V,)),
    _f("clamp", (V, S, S)),
    _f("clamp_max", (V, S)),
    _f("clamp_min", (V, S)),
    _f("histogram_fraction", (S, S, V)),
    _f("histogram_quantile", (S, V)),
    _f("histogram_quantiles", (V, STR, S, S), variadic=9, experimental=True),
    _f("info", (V, V), variadic=1, experimental=True),
    _f("label_join", (V, STR, STR, STR), variadic=-1, keeps_metric_name=True),
    _f("label_replace", (V, STR, STR, STR, STR), keeps_metric_name=True),
    _f("pi", (), S),
    _f("round", (V, S), variadic=1),
    _f("scalar", (V,), S),
    _f("sort", (V,), keeps_metric_name=True),
    _f("sort_desc", (V,), keeps_metric_name=True),
    _f("sort_by_label", (V, STR), variadic=-1, experimental=True, keeps_metric_name=True),
    _f("sort_by_label_desc", (V, STR), variadic=-1, experimental=True, keeps_metric_name=True),
    _f("start_timestamp", (V,), experimental=True),
    _f("time", (), S, at_unsafe=True),
    _f("timestamp", (V,), at_unsafe=True),
    _f("vector", (S,)),
    # Query-context functions (experimental, used by duration expressions).
    *(_f(n, (), S, experimental=True, at_unsafe=True) for n in ("start", "end", "step", "range")),
    _f("max_of", (S, S), S, experimental=True),
    _f("min_of", (S, S), S, experimental=True),
    # Functions over a range vector, with the partial fields their leaves need.
    _over_time("rate", {"count", "first", "last", "increase"}, removes_counter_resets=True),
    _over_time("increase", {"count", "first", "last", "increase"}, removes_counter_resets=True),
    _over_time("delta", {"count", "first", "last"}),
    _over_time("irate", {"count", "last", "prev_last"}, removes_counter_resets=True),
    _over_time("idelta", {"count", "last", "prev_last"}),
    _over_time("resets", {"count", "first", "last", "resets"}),
    _over_time("changes", {"count", "first", "last", "changes"}),
    # Regression and deviations are computed from raw samples, bit-for-bit as Prometheus does
    # (the moment partials workers compute would lose precision to cancellation).
    _over_time("deriv", None),
    _f("predict_linear", (M, S), at_unsafe=True, template="raw"),
    _over_time("avg_over_time", {"count", "sum"}),
    _over_time("sum_over_time", {"sum"}),
    _over_time("count_over_time", {"count"}),
    _over_time("min_over_time", {"min"}),
    _over_time("max_over_time", {"max"}),
    _over_time("last_over_time", {"last"}, keeps_metric_name=True),
    _over_time("first_over_time", {"first"}, keeps_metric_name=True),
    _over_time("present_over_time", {"count"}),
    _over_time("absent_over_time", {"count"}),
    _over_time("stddev_over_time", None),
    _over_time("stdvar_over_time", None),
    _over_time("ts_of_first_over_time", {"first"}, experimental=True),
    _over_time("ts_of_last_over_time", {"last"}, experimental=True),
    _over_time("ts_of_min_over_time", None, experimental=True),
    _over_time("ts_of_max_over_time", None, experimental=True),
    _over_time("mad_over_time", None, experimental=True),
    _f("quantile_over_time", (S, M), template="raw"),
    _f("double_exponential_smoothing", (M, S, S), experimental=True, template="raw"),
]

FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})


@dataclass(frozen=True, slots=True)
class AggregationSpec:
    name: str
    param_type: ValueType | None = None
    experimental: bool = False


AGGREGATIONS: Mapping[str, AggregationSpec] = MappingProxyType({
    spec.name: spec for spec in (
        AggregationSpec("sum"), AggregationSpec("avg"), AggregationSpec("count"), AggregationSpec("min"),
        AggregationSpec("max"), AggregationSpec("group"), AggregationSpec("stddev"),
        AggregationSpec("stdvar"), AggregationSpec("topk", S), AggregationSpec("bottomk", S),
        AggregationSpec("quantile", S), AggregationSpec("count_values", STR),
        AggregationSpec("limitk", S, experimental=True), AggregationSpec("limit_ratio", S, experimental=True),
    )
})

BinOpKind = Literal["arithmetic", "comparison", "set", "trim"]


@dataclass(frozen=True, slots=True)
class BinOpSpec:
    op: str
    precedence: int  # higher binds tighter
    kind: BinOpKind
    right_assoc: bool = False


BINOPS: Mapping[str, BinOpSpec] = MappingProxyType({
    spec.op: spec for spec in (
        BinOpSpec("or", 1, "set"), BinOpSpec("and", 2, "set"), BinOpSpec("unless", 2, "set"),
        *(BinOpSpec(op, 3, "comparison") for op in ("==", "!=", ">", "<", ">=", "<=")),
        BinOpSpec("</", 3, "trim"), BinOpSpec(">/", 3, "trim"),
        BinOpSpec("+", 4, "arithmetic"), BinOpSpec("-", 4, "arithmetic"),
        *(BinOpSpec(op, 5, "arithmetic") for op in ("*", "/", "%", "atan2")),
        BinOpSpec("^", 7, "arithmetic", right_assoc=True),
    )
})
UNARY_PRECEDENCE = 6  # unary +/- bind tighter than * but looser than ^
