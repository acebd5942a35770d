"""Binary operators: scalar/scalar, vector/scalar, vector/vector with one-to-one, many-to-one and
one-to-many matching, and the set operators."""

from __future__ import annotations

import numpy as np

from planner.ast import Card, VectorMatching
from planner.errors import ExecutionError, NotSupported
from query_api.engine.annotations import labels_string
from query_api.engine.values import Labels, Scalar, Vector, without_name

COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
SET_OPERATORS = {"and", "or", "unless"}


_ARITHMETIC = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "%": np.fmod,
               "^": np.power, "atan2": np.arctan2}
_COMPARE = {"==": np.equal, "!=": np.not_equal, ">": np.greater, "<": np.less, ">=": np.greater_equal,
            "<=": np.less_equal}


def apply(op: str, lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """A binary operator on float arrays; comparisons give 1.0 or 0.0."""
    with np.errstate(all="ignore"):
        if op in _ARITHMETIC:
            return _ARITHMETIC[op](lhs, rhs)
        if op in _COMPARE:
            return _COMPARE[op](lhs, rhs).astype(np.float64)
    raise NotSupported(f"binary operator {op!r} is not supported")


def scalar_scalar(op: str, lhs: Scalar, rhs: Scalar) -> Scalar:
    return Scalar(apply(op, lhs.values, rhs.values))


def vector_scalar(op: str, vector: Vector, scalar: np.ndarray, vector_left: bool,
                  return_bool: bool) -> Vector:
    lhs, rhs = (vector.values, scalar[None, :]) if vector_left else (scalar[None, :], vector.values)
    result = apply(op, lhs, rhs)
    if op in COMPARISONS and not return_bool:
        # A filter: keep the vector's own sample where the comparison holds.
        present = vector.present & (result == 1.0)
        return Vector(vector.labels, vector.values, present, vector.sample_ts, vector.drop_name)
    labels = [without_name(labels) for labels in vector.labels]
    return Vector(labels, result, vector.present.copy())


def _match_key(labels: Labels, matching: VectorMatching) -> Labels:
    if matching.on:
        keep = set(matching.labels)
        return tuple(item for item in labels if item[0] in keep)
    drop = {*matching.labels, "__name__"}
    return tuple(item for item in labels if item[0] not in drop)


def _result_labels(many: Labels, one: Labels, op: str, matching: VectorMatching, return_bool: bool) -> Labels:
    """Prometheus's resultMetric: the "many" side's labels, `__name__` dropped by arithmetic and
    `bool`, cut to the matching labels for one-to-one, `group_x (include)` labels copied from the
    "one" side (or deleted where it lacks them)."""
    labels = dict(many)
    if op not in COMPARISONS or return_bool:
        labels.pop("__name__", None)
    if matching.card is Card.ONE_TO_ONE:
        if matching.on:
            labels = {k: v for k, v in labels.items() if k in matching.labels}
        else:
            for name in matching.labels:
                labels.pop(name, None)
    if matching.include:
        one_labels = dict(one)
        for name in matching.include:
            value = one_labels.get(name, "")
            if value:
                labels[name] = value
            else:
                labels.pop(name, None)
    return tuple(sorted(labels.items()))


def vector_vector(op: str, lhs: Vector, rhs: Vector, matching: VectorMatching, return_bool: bool) -> Vector:
    """Vector/vector operators with one-to-one, many-to-one and one-to-many matching, every step
    at once: the "one" side is indexed by (signature, step), each "many" series looks its match up."""
    if op in SET_OPERATORS:
        return _set_operation(op, lhs, rhs, matching)
    steps = lhs.steps
    if not lhs.labels or not rhs.labels:
        return Vector.empty(steps)
    swapped = matching.card is Card.ONE_TO_MANY
    many, one = (rhs, lhs) if swapped else (lhs, rhs)
    signatures: dict[Labels, int] = {}
    many_sig = np.array([signatures.setdefault(_match_key(lb, matching), len(signatures))
                         for lb in many.labels], dtype=np.int64)
    one_sig = np.array([signatures.setdefault(_match_key(lb, matching), len(signatures))
                        for lb in one.labels], dtype=np.int64)
    both = many.present.any(axis=0) & one.present.any(axis=0)
    one_count = np.zeros((len(signatures), steps), dtype=np.int64)
    np.add.at(one_count, one_sig, one.present.astype(np.int64))
    duplicate = (one_count > 1) & both[None, :]
    if duplicate.any():
        _raise_duplicate(one, one_sig, duplicate, matching, "left" if swapped else "right")
    one_row = np.full((len(signatures), steps), -1, dtype=np.int64)
    series, columns = np.nonzero(one.present)
    one_row[one_sig[series], columns] = series
    match = one_row[many_sig]
    matched = many.present & (match >= 0)
    if not matched.any():
        return Vector.empty(steps)
    one_values = one.values[np.maximum(match, 0), np.arange(steps)[None, :]]
    left, right = (one_values, many.values) if swapped else (many.values, one_values)
    result = apply(op, left, right)
    if op in COMPARISONS and not return_bool:
        keep = matched & (result == 1.0)
        result = left
    else:
        keep = matched
    rows, columns = np.nonzero(matched)
    pairs, pair_of = _pairs(match, matched, rows, columns, len(one.labels))
    out_index: dict[Labels, int] = {}
    pair_labels = np.empty(len(pairs), dtype=np.int64)
    for p, pair in enumerate(pairs):
        m, o = divmod(int(pair), len(one.labels))
        labels = _result_labels(many.labels[m], one.labels[o], op, matching, return_bool)
        pair_labels[p] = out_index.setdefault(labels, len(out_index))
    _check_unique_matches(matching, many_sig, pairs // len(one.labels), pair_labels, pair_of, columns, steps)
    values = np.zeros((len(pairs), steps))
    present = np.zeros((len(pairs), steps), dtype=bool)
    values[pair_of, columns] = result[rows, columns]
    present[pair_of, columns] = keep[rows, columns]
    labels_of = list(out_index)
    return Vector([labels_of[i] for i in pair_labels], values, present)


def _pairs(match: np.ndarray, matched: np.ndarray, rows: np.ndarray, columns: np.ndarray,
           ones: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (many row, one row) pairs as `row * ones + one`, and each matched cell's pair.
    Usually a many series meets the same "one" series at every step: then no sort is needed."""
    high = np.where(matched, match, -1).max(axis=1)
    low = np.where(matched, match, ones).min(axis=1)
    hit = high >= 0
    if (high[hit] == low[hit]).all():
        row_pair = np.cumsum(hit) - 1
        return np.flatnonzero(hit) * ones + high[hit], row_pair[rows]
    return np.unique(rows * ones + match[rows, columns], return_inverse=True)


def _check_unique_matches(matching: VectorMatching, many_sig: np.ndarray, pair_row: np.ndarray,
                          pair_label: np.ndarray, pair_of: np.ndarray, columns: np.ndarray,
                          steps: int) -> None:
    """One-to-one: a signature matched twice at one step. Many-to-one: two matches of one
    signature gave the same result labels at one step. Only pairs that could collide (same
    signature, or same signature and labels) are checked step by step."""
    if matching.card is Card.ONE_TO_ONE:
        key = many_sig[pair_row]
        message = ("multiple matches for labels: many-to-one matching must be explicit "
                   "(group_left/group_right)")
    else:
        key = many_sig[pair_row] * (int(pair_label.max()) + 1) + pair_label
        message = "multiple matches for labels: grouping labels must ensure unique matches"
    _, group, sizes = np.unique(key, return_inverse=True, return_counts=True)
    suspect = sizes[group][pair_of] > 1
    if suspect.any():
        cells = group[pair_of[suspect]] * steps + columns[suspect]
        if np.bincount(cells).max() > 1:
            raise ExecutionError(message)


def _raise_duplicate(one: Vector, one_sig: np.ndarray, duplicate: np.ndarray, matching: VectorMatching,
                     side: str) -> None:
    step = int(np.flatnonzero(duplicate.any(axis=0))[0])
    first: dict[int, int] = {}
    for s in np.flatnonzero(one.present[:, step]):
        sig = int(one_sig[s])
        if sig not in first:
            first[sig] = int(s)
            continue
        pair = sorted((labels_string(one.labels[s]), labels_string(one.labels[first[sig]])))
        group = labels_string(_match_key(one.labels[s], matching))
        raise ExecutionError(f"found duplicate series for the match group {group} on the {side} "
                             f"hand-side of the operation: [{pair[0]}, {pair[1]}];many-to-many matching "
                             "not allowed: matching labels must be unique on one side")


def _set_operation(op: str, lhs: Vector, rhs: Vector, matching: VectorMatching) -> Vector:
    right_keys: dict[Labels, np.ndarray] = {}
    for i, labels in enumerate(rhs.labels):
        key = _match_key(labels, matching)
        right_keys[key] = right_keys.get(key, np.zeros(rhs.steps, dtype=bool)) | rhs.present[i]
    none = np.zeros(lhs.steps, dtype=bool)
    if op in ("and", "unless"):
        keep = np.zeros((0, lhs.steps), dtype=bool)
        if lhs.labels:
            keep = np.vstack([right_keys.get(_match_key(labels, matching), none) for labels in lhs.labels])
        mask = keep if op == "and" else ~keep
        return Vector(lhs.labels, lhs.values, lhs.present & mask, lhs.sample_ts, lhs.drop_name)
    left_keys: dict[Labels, np.ndarray] = {}
    for i, labels in enumerate(lhs.labels):
        key = _match_key(labels, matching)
        left_keys[key] = left_keys.get(key, np.zeros(lhs.steps, dtype=bool)) | lhs.present[i]
    extra_present = [rhs.present[i] & ~left_keys.get(_match_key(labels, matching), none)
                     for i, labels in enumerate(rhs.labels)]
    labels = lhs.labels + rhs.labels
    values = np.vstack([lhs.values, rhs.values]) if labels else np.zeros((0, lhs.steps))
    present = np.vstack([lhs.present, *extra_present]) if labels else np.zeros((0, lhs.steps), dtype=bool)
    return Vector(labels, values, present)
