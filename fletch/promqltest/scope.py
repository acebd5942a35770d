"""Which files and evals fletch runs, and why the others are skipped.

Per `../shared/conformance/promqltest/README.md`: whole files that need native histograms or
experimental features are out of scope, and so is any eval in an in-scope file whose data or
expected result is a native histogram (`{{...}}`, or the NHCB series `load_with_nhcb` creates).
Files not named here (fletch's own cases) are in scope.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

IN_SCOPE_FILES = ("aggregators", "at_modifier", "collision", "functions", "histograms", "limit", "literals",
                  "name_label_dropping", "operators", "range_queries", "selectors", "staleness", "subquery",
                  "trig_functions")
OUT_OF_SCOPE_FILES = {
    "native_histograms": "native histograms",
    "extended_vectors": "experimental: anchored/smoothed range selectors",
    "fill-modifier": "experimental: binary operator fill modifiers",
    "duration_expression": "experimental: duration expressions",
    "info": "experimental: info() function",
    "type_and_unit": "experimental: type and unit labels",
    "start_timestamps": "experimental: start timestamps",
}

SKIP_FILE = "file out of scope ({})"
SKIP_HISTOGRAM_EXPECTED = "native histogram in expected result"
SKIP_HISTOGRAM_DATA = "native histogram data ({})"
SKIP_HISTOGRAM_MAYBE = "selector without metric name while native histogram series are loaded"

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_WORD = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_NHCB_SUFFIXES = ("_bucket", "_count", "_sum")


def corpus_dir() -> Path:
    """Prometheus's test files: `$FLETCH_PROMQLTEST_DIR`, else `../shared/conformance/promqltest`
    beside the repository (read in place, never copied into it)."""
    env = os.environ.get("FLETCH_PROMQLTEST_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "conformance" / "promqltest"


def in_scope_paths(folder: Path | None = None) -> list[Path]:
    folder = folder or corpus_dir()
    return [folder / f"{name}.test" for name in IN_SCOPE_FILES]


def file_skip_reason(name: str) -> str | None:
    reason = OUT_OF_SCOPE_FILES.get(name)
    return SKIP_FILE.format(reason) if reason else None


def nhcb_base_name(metric: str) -> str | None:
    """The native-histogram series name `load_with_nhcb` derives from a classic histogram series."""
    for suffix in _NHCB_SUFFIXES:
        if metric.endswith(suffix) and len(metric) > len(suffix):
            return metric[: -len(suffix)]
    return None


def histogram_skip_reason(expr: str, histogram_series: list[dict[str, str]]) -> str | None:
    """Why an eval reads native histogram series: a selector of it matches one of them.

    Uses fletch's PromQL parser; if it cannot parse the expression, falls back to a textual
    judgement (`textual_histogram_skip_reason`).
    """
    if not histogram_series:
        return None
    from planner.ast import VectorSelector, walk
    from planner.errors import ParseError
    from planner.parse import parse_unchecked

    try:
        tree = parse_unchecked(expr)
    except ParseError:
        return textual_histogram_skip_reason(expr, {s.get("__name__", "") for s in histogram_series})
    hit: set[str] = set()
    for node in walk(tree):
        if isinstance(node, VectorSelector):
            for series in histogram_series:
                if all(m.matches(series.get(m.name, "")) for m in node.all_matchers):
                    hit.add(series.get("__name__", ""))
    return SKIP_HISTOGRAM_DATA.format(", ".join(sorted(hit))) if hit else None


def textual_histogram_skip_reason(expr: str, histogram_names: set[str]) -> str | None:
    """Why an eval may read native histogram series, judged from the text of its expression.

    Names are the words and string literals of the expression; a selector written without a
    metric name (`{job="x"}`) or with a non-equality `__name__` matcher might select them too.
    """
    if not histogram_names:
        return None
    strings = [m.group()[1:-1] for m in _STRING.finditer(expr)]
    bare = _STRING.sub('""', expr)
    hit = sorted((set(_WORD.findall(bare)) | set(strings)) & histogram_names)
    if hit:
        return SKIP_HISTOGRAM_DATA.format(", ".join(hit))
    if re.search(r"__name__\s*(!=|=~|!~)", bare):
        return SKIP_HISTOGRAM_MAYBE
    for brace in re.finditer(r"\{([^}]*)\}", bare):
        before = bare[: brace.start()].rstrip()
        named = before and re.match(r"[a-zA-Z0-9_:]", before[-1])
        if not named and not re.search(r"__name__\s*=(?![=~])", brace.group(1)):
            return SKIP_HISTOGRAM_MAYBE
    return None
