"""`topk`, `bottomk`, `limitk`, `limit_ratio` and `count_values`: aggregations whose output series
are input series (or new value-labelled series) rather than one series per group.

Selection runs on the [groups, steps, members] layout of `aggregate._members`: one stable sort
along the member axis ranks every group at every step at once. Where values tie at the k-th
place, the earlier series (in input order) is kept; Prometheus keeps whichever its heap holds.
"""

from __future__ import annotations

import numpy as np

from planner.ast import PosRange
from planner.errors import ExecutionError, QueryError
from planner.printer import format_float
from query_api.engine import annotations as notes
from query_api.engine.grouping import group_labels
from query_api.engine.hashing import ratio_offset
from query_api.engine.values import Annotations, Labels, Scalar, String, Value, Vector

_MIN_INT64 = float(-(2**63))
_MAX_INT64 = float(2**63 - 1)


def scalar_param(param: Value | None, op: str) -> np.ndarray:
    if not isinstance(param, Scalar):
        raise QueryError(f"expected a scalar parameter for {op}")
    return param.values


def k_values(param: Value | None, op: str, series: int) -> np.ndarray | None:
    """Per-step k for topk/bottomk/limitk (None: no step selects anything), after
    Prometheus's parameter checks."""
    raw = scalar_param(param, op)
    if not len(raw):
        return None
    top = np.max(raw)  # NaN if any is NaN, like Go's math.Max chain
    if top < 1:
        return None
    if np.isnan(raw).any():
        raise ExecutionError("Parameter value is NaN")
    low = float(np.min(raw))
    if low <= _MIN_INT64:
        raise ExecutionError(f"Scalar value {notes.go_g(low)} underflows int64")
    if float(top) >= _MAX_INT64:
        raise ExecutionError(f"Scalar value {notes.go_g(float(top))} overflows int64")
    return np.minimum(np.trunc(raw), series)


def ratio_values(param: Value | None, annotations: Annotations | None,
                 param_pos: PosRange | None) -> np.ndarray | None:
    raw = scalar_param(param, "limit_ratio")
    if not len(raw):
        return None
    top, low = np.max(raw), np.min(raw)
    if top == 0 and low == 0:
        return None
    if np.isnan(raw).any():
        raise ExecutionError("Ratio value is NaN")
    if annotations is not None:
        if top > 1:
            annotations.warn(notes.invalid_ratio(float(top), 1.0, param_pos))
        if low < -1:
            annotations.warn(notes.invalid_ratio(float(low), -1.0, param_pos))
    return np.clip(raw, -1.0, 1.0)


def _ranks(values: np.ndarray, valid: np.ndarray, op: str) -> np.ndarray:
    """Each member's rank within its group at each step (valid members first)."""
    if op == "limitk":
        return np.where(valid, np.cumsum(valid, axis=-1) - 1, values.shape[-1])
    nan = np.isnan(values)
    tier = np.where(valid, np.where(nan, 1, 0), 2)
    key = np.where(nan | ~valid, 0.0, -values if op == "topk" else values)
    order = np.lexsort((key, tier), axis=-1)
    ranks = np.empty(order.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(order.shape[-1]), order.shape), axis=-1)
    return ranks


def select_k(op: str, vector: Vector, ids: np.ndarray, values: np.ndarray, valid: np.ndarray,
             position: np.ndarray, k: np.ndarray) -> Vector:
    """topk/bottomk/limitk: each group's first k members by rank at every step. An instant
    result is ordered by group, then rank (descending for topk, ascending for bottomk)."""
    ranks = _ranks(values, valid, op)
    chosen = valid & (ranks < k[None, :, None])
    present = chosen[ids, :, position] & vector.present
    return _keep(vector, present, ids, ranks[ids, :, position])


def select_ratio(vector: Vector, ratio: np.ndarray) -> Vector:
    offsets = np.array([ratio_offset(labels) for labels in vector.labels])[:, None]
    r = ratio[None, :]
    take = ((r >= 0) & (offsets < r)) | ((r < 0) & (offsets >= 1.0 + r))
    return _keep(vector, vector.present & take & (r != 0), None, None)


def _keep(vector: Vector, present: np.ndarray, ids: np.ndarray | None, ranks: np.ndarray | None) -> Vector:
    rows = np.flatnonzero(present.any(axis=1))
    if ids is not None and ranks is not None and vector.steps == 1:
        rows = rows[np.lexsort((ranks[rows, 0], ids[rows]))]
    return Vector([vector.labels[i] for i in rows], vector.values[rows], present[rows],
                  None, vector.drop_name)


def count_values(vector: Vector, param: Value | None, grouping: tuple[str, ...], without: bool) -> Vector:
    """One series per group and distinct value (formatted as Go's FormatFloat 'f', -1)."""
    if not isinstance(param, String):
        raise QueryError("expected a string parameter for count_values")
    label = param.value
    if not label or "\ufffd" in label or not _valid_utf8(label):
        raise ExecutionError(f"invalid label name {_quote(label)}")
    steps = vector.steps
    series, columns = np.nonzero(vector.present)
    if not len(series):
        return Vector.empty(steps)
    # The output key is the series' group without the value label, plus the value label (which
    # `by` always keeps and `without (..., label)` drops).
    keep_value = not without or label not in grouping
    base_index: dict[Labels, int] = {}
    base = np.array([base_index.setdefault(group_labels(tuple(i for i in lb if i[0] != label),
                                                        grouping, without), len(base_index))
                     for lb in vector.labels], dtype=np.int64)
    values = vector.values[series, columns]
    bits = np.where(np.isnan(values), np.float64(np.nan), values).view(np.uint64)
    unique_bits, code = np.unique(bits, return_inverse=True)
    if not keep_value:
        code = np.zeros_like(code)
    outputs, out = np.unique(base[series] * len(unique_bits) + code, return_inverse=True)
    bases = list(base_index)
    labels: list[Labels] = []
    for key in outputs:
        b, c = divmod(int(key), len(unique_bits))
        text = format_float(float(unique_bits[c:c + 1].view(np.float64)[0]))
        labels.append(tuple(sorted((*bases[b], (label, text)))) if keep_value else bases[b])
    counts = np.bincount(out * steps + columns, minlength=len(outputs) * steps).reshape(len(outputs), steps)
    return Vector(labels, counts.astype(np.float64), counts > 0)


def _valid_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _quote(text: str) -> str:
    """Go's strconv.Quote for the common cases; undecodable bytes (kept by the parser as
    surrogate escapes) come out as `\\xNN`."""
    out = []
    for char in text:
        if 0xDC80 <= ord(char) <= 0xDCFF:
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif char in '"\\':
            out.append("\\" + char)
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
