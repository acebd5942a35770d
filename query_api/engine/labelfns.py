"""Functions that rewrite or order series by their labels: `label_replace`, `label_join`,
`sort`, `sort_desc`, `sort_by_label`, `sort_by_label_desc`. Work is per series, never per sample."""

from __future__ import annotations

import functools
import re

import numpy as np

from planner.errors import ExecutionError
from planner.matching import compile_regex
from query_api.engine import annotations as notes
from query_api.engine.values import Labels, Vector

_NAME_CHAR = re.compile(r"[\w]", re.UNICODE)


def valid_label_name(name: str) -> bool:
    """Prometheus 3's UTF-8 label names: any non-empty valid UTF-8 string."""
    if not name:
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\ufffd" not in name


def _set(labels: Labels, name: str, value: str) -> Labels:
    mapping = dict(labels)
    if value:
        mapping[name] = value
    else:
        mapping.pop(name, None)
    return tuple(sorted(mapping.items()))


def expand(template: str, match: re.Match[str]) -> str:
    """Go's `regexp.Expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`; a name is as long as
    possible (`$1x` is `${1x}`), and unknown or unmatched groups expand to nothing."""
    out: list[str] = []
    i, n = 0, len(template)
    while i < n:
        dollar = template.find("$", i)
        if dollar < 0:
            out.append(template[i:])
            break
        out.append(template[i:dollar])
        i = dollar + 1
        if i < n and template[i] == "$":
            out.append("$")
            i += 1
            continue
        brace = i < n and template[i] == "{"
        j = i + 1 if brace else i
        k = j
        while k < n and _NAME_CHAR.match(template[k]):
            k += 1
        name = template[j:k]
        if not name or (brace and (k >= n or template[k] != "}")):
            out.append("$")
            continue
        i = k + 1 if brace else k
        out.append(_group(match, name))
    return "".join(out)


def _group(match: re.Match[str], name: str) -> str:
    if name.isdigit() and name.isascii():
        index = int(name)
        value = match.group(index) if index <= (match.re.groups or 0) else None
    else:
        value = match.groupdict().get(name)
    return value or ""


def label_replace(vector: Vector, dst: str, replacement: str, src: str, regex: str) -> Vector:
    try:
        compiled = compile_regex(regex)
    except ValueError:
        compiled = None
    if compiled is None:
        raise ExecutionError(f"invalid regular expression in label_replace(): {regex}")
    if not valid_label_name(dst):
        raise ExecutionError(f"invalid destination label name in label_replace(): {dst}")
    labels: list[Labels] = []
    for series in vector.labels:
        match = compiled.match(dict(series).get(src, ""))
        labels.append(series if match is None else _set(series, dst, expand(replacement, match)))
    return merge_same_labels(Vector(labels, vector.values, vector.present, None, vector.drop_name))


def label_join(vector: Vector, dst: str, separator: str, sources: list[str]) -> Vector:
    for src in sources:
        if not valid_label_name(src):
            raise ExecutionError(f"invalid source label name in label_join(): {src}")
    if not valid_label_name(dst):
        raise ExecutionError(f"invalid destination label name in label_join(): {dst}")
    labels = []
    for series in vector.labels:
        mapping = dict(series)
        labels.append(_set(series, dst, separator.join(mapping.get(src, "") for src in sources)))
    return merge_same_labels(Vector(labels, vector.values, vector.present, None, vector.drop_name))


def merge_same_labels(vector: Vector) -> Vector:
    """Prometheus's mergeSeriesWithSameLabelset: series that now share a label set become one,
    unless two of them have a point at the same step."""
    rows: dict[Labels, list[int]] = {}
    for i, labels in enumerate(vector.labels):
        rows.setdefault(labels, []).append(i)
    if len(rows) == len(vector.labels):
        return vector
    keep: list[int] = []
    values, present = vector.values.copy(), vector.present.copy()
    for group in rows.values():
        first = group[0]
        if len(group) > 1:
            if (vector.present[group].sum(axis=0) > 1).any():
                raise ExecutionError("vector cannot contain metrics with the same labelset")
            for other in group[1:]:
                values[first] = np.where(vector.present[other], vector.values[other], values[first])
                present[first] |= vector.present[other]
        keep.append(first)
    return Vector([vector.labels[i] for i in keep], values[keep], present[keep], None, vector.drop_name)


def natural_less(a: str, b: str) -> bool:
    """facette/natsort's Compare (what Prometheus's sort_by_label uses), over bytes."""
    x, y = a.encode(), b.encode()
    i = j = 0
    while True:
        if i >= len(x):
            return j < len(y)
        if j >= len(y):
            return False
        av, bv = x[i], y[j]
        if _digit(av) and _digit(bv):
            i, run_a, av = _number(x, i, av)
            j, run_b, bv = _number(y, j, bv)
            if run_a != run_b:
                return run_b > run_a
            if x[i:i + run_a] != y[j:j + run_b]:
                return x[i:i + run_a] < y[j:j + run_b]
            i += run_a
            j += run_b
            continue
        if av != bv:
            return av < bv
        i += 1
        j += 1


def _digit(byte: int) -> bool:
    return 48 <= byte <= 57


def _number(text: bytes, pos: int, current: int) -> tuple[int, int, int]:
    """Skip leading zeros (keeping the last digit) and measure the digit run, as natsort does."""
    run = 1
    while pos + run < len(text):
        nxt = text[pos + run]
        if current == 48:
            pos += 1
            current = nxt
            continue
        if _digit(nxt):
            run += 1
        else:
            break
    return pos, run, current


def _compare_natural(a: str, b: str) -> int:
    if a == b:
        return 0
    return -1 if natural_less(a, b) else 1


def sort_by_label(vector: Vector, names: list[str], descending: bool) -> Vector:
    def compare(i: int, j: int) -> int:
        a, b = dict(vector.labels[i]), dict(vector.labels[j])
        for name in names:
            result = _compare_natural(a.get(name, ""), b.get(name, ""))
            if result:
                return -result if descending else result
        full = (vector.labels[i] > vector.labels[j]) - (vector.labels[i] < vector.labels[j])
        return -full if descending else full

    order = sorted(range(len(vector.labels)), key=functools.cmp_to_key(compare))
    return vector.select(np.array(order, dtype=np.int64))


def sort_by_value(vector: Vector, descending: bool) -> Vector:
    """sort/sort_desc of an instant result: NaN last either way, ties in input order."""
    if vector.steps != 1 or not vector.labels:
        return vector
    values = vector.values[:, 0]
    nan = np.isnan(values)
    key = np.where(nan, 0.0, -values if descending else values)
    order = np.lexsort((key, nan))
    return vector.select(order)


def sort_warning(call_times: np.ndarray, pos: tuple[int, int]) -> str | None:
    return notes.sort_in_range_query(pos) if len(call_times) > 1 else None
