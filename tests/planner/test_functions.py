"""Every function's signature (Prometheus 3.x functions.go), arity and type errors, and the
cross-cutting flags the planner relies on."""

from __future__ import annotations

import re

import pytest

from planner import FUNCTIONS, ParseError, parse
from planner.ast import Call, ValueType, walk
from planner.functions import AGGREGATIONS, BINOPS, PARTIAL_FIELDS
from tests.planner.corpus import CORPUS_DIR, eval_cases

# name: "argument types[+n optional | ... any number]->return type"
SIGNATURES = {
    "abs": "V->V",
    "absent": "V->V",
    "absent_over_time": "M->V",
    "acos": "V->V",
    "acosh": "V->V",
    "asin": "V->V",
    "asinh": "V->V",
    "atan": "V->V",
    "atanh": "V->V",
    "avg_over_time": "M->V",
    "ceil": "V->V",
    "changes": "M->V",
    "clamp": "V,S,S->V",
    "clamp_max": "V,S->V",
    "clamp_min": "V,S->V",
    "cos": "V->V",
    "cosh": "V->V",
    "count_over_time": "M->V",
    "day_of_month": "V+1->V",
    "day_of_week": "V+1->V",
    "day_of_year": "V+1->V",
    "days_in_month": "V+1->V",
    "deg": "V->V",
    "delta": "M->V",
    "deriv": "M->V",
    "double_exponential_smoothing": "M,S,S->V",
    "end": "->S",
    "exp": "V->V",
    "first_over_time": "M->V",
    "floor": "V->V",
    "histogram_avg": "V->V",
    "histogram_count": "V->V",
    "histogram_fraction": "S,S,V->V",
    "histogram_quantile": "S,V->V",
    "histogram_quantiles": "V,STR,S,S+9->V",
    "histogram_stddev": "V->V",
    "histogram_stdvar": "V->V",
    "histogram_sum": "V->V",
    "hour": "V+1->V",
    "idelta": "M->V",
    "increase": "M->V",
    "info": "V,V+1->V",
    "irate": "M->V",
    "label_join": "V,STR,STR,STR...->V",
    "label_replace": "V,STR,STR,STR,STR->V",
    "last_over_time": "M->V",
    "ln": "V->V",
    "log10": "V->V",
    "log2": "V->V",
    "mad_over_time": "M->V",
    "max_of": "S,S->S",
    "max_over_time": "M->V",
    "min_of": "S,S->S",
    "min_over_time": "M->V",
    "minute": "V+1->V",
    "month": "V+1->V",
    "pi": "->S",
    "predict_linear": "M,S->V",
    "present_over_time": "M->V",
    "quantile_over_time": "S,M->V",
    "rad": "V->V",
    "range": "->S",
    "rate": "M->V",
    "resets": "M->V",
    "round": "V,S+1->V",
    "scalar": "V->S",
    "sgn": "V->V",
    "sin": "V->V",
    "sinh": "V->V",
    "sort": "V->V",
    "sort_by_label": "V,STR...->V",
    "sort_by_label_desc": "V,STR...->V",
    "sort_desc": "V->V",
    "sqrt": "V->V",
    "start": "->S",
    "start_timestamp": "V->V",
    "stddev_over_time": "M->V",
    "stdvar_over_time": "M->V",
    "step": "->S",
    "sum_over_time": "M->V",
    "tan": "V->V",
    "tanh": "V->V",
    "time": "->S",
    "timestamp": "V->V",
    "ts_of_first_over_time": "M->V",
    "ts_of_last_over_time": "M->V",
    "ts_of_max_over_time": "M->V",
    "ts_of_min_over_time": "M->V",
    "vector": "S->V",
    "year": "V+1->V",
}

_CODE = {"S": ValueType.SCALAR, "V": ValueType.VECTOR, "M": ValueType.MATRIX, "STR": ValueType.STRING}
_SAMPLE_ARG = {ValueType.SCALAR: "1", ValueType.VECTOR: "m", ValueType.MATRIX: "m[5m]",
               ValueType.STRING: '"a"'}
_WRONG_ARG = {ValueType.SCALAR: '"a"', ValueType.VECTOR: "1", ValueType.MATRIX: "m", ValueType.STRING: "1"}


def _args(name: str, types: list[ValueType]) -> list[str]:
    args = [_SAMPLE_ARG[t] for t in types]
    if name == "info" and len(args) > 1:
        args[1] = '{a="b"}'
    return args


def test_table_matches_prometheus() -> None:
    assert set(FUNCTIONS) == set(SIGNATURES)
    for name, sig in SIGNATURES.items():
        spec = FUNCTIONS[name]
        match = re.fullmatch(r"([A-Z,]*?)(\.\.\.|\+\d+)?->([A-Z]+)", sig)
        assert match, sig
        args, variadic, ret = match.groups()
        assert spec.arg_types == tuple(_CODE[a] for a in args.split(",") if a), name
        assert spec.variadic == (0 if not variadic else -1 if variadic == "..." else int(variadic[1:])), name
        assert spec.return_type is _CODE[ret], name


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_signature(name: str) -> None:
    spec = FUNCTIONS[name]
    types = list(spec.arg_types)
    # all declared arguments
    call = parse(f"{name}({', '.join(_args(name, types))})")
    assert call.type is spec.return_type
    # only the required ones
    required = types[: spec.min_args]
    parse(f"{name}({', '.join(_args(name, required))})")
    # one too few
    if spec.min_args > 0:
        fewer = ", ".join(_args(name, types[: spec.min_args - 1]))
        kind = "at least " if spec.variadic else ""
        with pytest.raises(ParseError, match=re.escape(
                f'expected {kind}{spec.min_args} argument(s) in call to "{name}", got {spec.min_args - 1}')):
            parse(f"{name}({fewer})")
    # one too many
    if spec.max_args is not None:
        extra = [*types, *([types[-1]] * (spec.max_args - len(types) + 1))] if types else [ValueType.VECTOR]
        kind = "at most " if spec.variadic else ""
        with pytest.raises(ParseError, match=re.escape(
                f'expected {kind}{spec.max_args} argument(s) in call to "{name}", got {spec.max_args + 1}')):
            parse(f"{name}({', '.join(_args(name, extra))})")
    # a wrong type for every argument
    for index, want in enumerate(types):
        args = _args(name, types)
        args[index] = _WRONG_ARG[want]
        message = f"expected type {want.documented} in call to function"
        with pytest.raises(ParseError, match=re.escape(message)):
            parse(f"{name}({', '.join(args)})")


def test_range_functions_declare_their_pushdown() -> None:
    for spec in FUNCTIONS.values():
        takes_range = ValueType.MATRIX in spec.arg_types
        assert (spec.template is not None) == takes_range, spec.name
        assert spec.fields <= set(PARTIAL_FIELDS), spec.name
        if spec.template == "partials":
            assert spec.fields, spec.name
    assert FUNCTIONS["quantile_over_time"].template == "raw"
    assert FUNCTIONS["mad_over_time"].template == "raw"
    assert FUNCTIONS["double_exponential_smoothing"].template == "raw"
    assert FUNCTIONS["rate"].template == "partials"


def test_at_unsafe_functions_match_prometheus() -> None:
    unsafe = {name for name, spec in FUNCTIONS.items() if spec.at_unsafe}
    assert unsafe == {"days_in_month", "day_of_month", "day_of_week", "day_of_year", "end", "hour", "minute",
                      "month", "year", "predict_linear", "range", "start", "step", "time", "timestamp"}


def test_aggregation_and_operator_tables() -> None:
    assert {n for n, s in AGGREGATIONS.items() if s.param_type is not None} == {
        "topk", "bottomk", "quantile", "count_values", "limitk", "limit_ratio"}
    assert BINOPS["^"].right_assoc and not BINOPS["-"].right_assoc
    order = ["or", "and", "==", "+", "*", "^"]
    assert [BINOPS[o].precedence for o in order] == sorted(BINOPS[o].precedence for o in order)


@pytest.mark.skipif(not CORPUS_DIR.is_dir(), reason="promqltest corpus not available")
def test_functions_used_by_the_corpus() -> None:
    used = {node.func for case in eval_cases() for node in walk(parse(case.expr))
            if isinstance(node, Call)}
    assert used <= set(FUNCTIONS)
    assert len(used) > 60  # the corpus exercises most of the table
