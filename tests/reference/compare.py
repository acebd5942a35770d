"""`assert_same_result(ours, reference)`: fletch's answer against Prometheus's, with a readable diff."""

from __future__ import annotations

import math

from fletch.promqltest import Result
from fletch.promqltest.result import format_labels

MAX_SHOWN = 8


def same_value(a: float, b: float, rel: float, abs_tol: float) -> bool:
    """Equal within `rel` relative (or `abs_tol` absolute, for values near 0); NaN equals NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def result_diff(ours: Result, reference: Result, rel: float = 1e-9, abs_tol: float = 1e-12,
                ordered: bool = False) -> list[str]:
    """Every difference (type, errors, series sets, timestamps, values); empty when the same."""
    if ours.error is not None or reference.error is not None:
        if ours.error is not None and reference.error is not None:
            return []
        return [f"error: ours={ours.error!r} reference={reference.error!r}"]
    if ours.type != reference.type:
        return [f"result type: ours={ours.type} reference={reference.type}"]
    if ours.type == "scalar":
        a, b = float(ours.scalar or 0.0), float(reference.scalar or 0.0)
        return [] if same_value(a, b, rel, abs_tol) else [f"scalar: ours={a!r} reference={b!r}"]
    if ours.type == "string":
        return [] if ours.string == reference.string else [f"string: ours={ours.string!r} "
                                                           f"reference={reference.string!r}"]
    problems: list[str] = []
    mine = {tuple(sorted(s.labels.items())): s for s in ours.series}
    theirs = {tuple(sorted(s.labels.items())): s for s in reference.series}
    if len(mine) != len(ours.series):
        problems.append("ours has duplicate label sets")
    for key in sorted(theirs.keys() - mine.keys()):
        problems.append(f"missing series {format_labels(dict(key))} ({len(theirs[key].points)} points)")
    for key in sorted(mine.keys() - theirs.keys()):
        problems.append(f"extra series {format_labels(dict(key))} ({len(mine[key].points)} points)")
    if ordered and not problems:
        order = [tuple(sorted(s.labels.items())) for s in ours.series]
        if order != [tuple(sorted(s.labels.items())) for s in reference.series]:
            problems.append("series order differs")
    for key in sorted(mine.keys() & theirs.keys()):
        problems += _point_diff(format_labels(dict(key)), mine[key].points, theirs[key].points, rel, abs_tol)
    return problems


def _point_diff(name: str, ours: list[tuple[int, float]], ref: list[tuple[int, float]], rel: float,
                abs_tol: float) -> list[str]:
    a, b = dict(ours), dict(ref)
    out = []
    for t in sorted(b.keys() - a.keys()):
        out.append(f"{name}: missing point t={t} (reference {b[t]!r})")
    for t in sorted(a.keys() - b.keys()):
        out.append(f"{name}: extra point t={t} (ours {a[t]!r})")
    for t in sorted(a.keys() & b.keys()):
        if not same_value(a[t], b[t], rel, abs_tol):
            err = abs(a[t] - b[t]) / max(abs(a[t]), abs(b[t])) if a[t] != b[t] else 0.0
            out.append(f"{name}: t={t} ours={a[t]!r} reference={b[t]!r} (relative error {err:.3g})")
    return out


def assert_same_result(ours: Result, reference: Result, rel: float = 1e-9, abs_tol: float = 1e-12,
                       ordered: bool = False, context: str = "") -> None:
    """Raise AssertionError listing the differences (at most a few shown, with the total)."""
    problems = result_diff(ours, reference, rel, abs_tol, ordered)
    if problems:
        shown = "\n  ".join(problems[:MAX_SHOWN])
        more = f"\n  ... and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
        head = f"{context}: " if context else ""
        raise AssertionError(f"{head}{len(problems)} difference(s) from the reference:\n  {shown}{more}")
