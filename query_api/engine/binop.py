"""Binary operators: scalar/scalar, vector/scalar and vector/vector with one-to-one matching."""

from __future__ import annotations

import numpy as np

from planner.ast import Card, VectorMatching
from planner.errors import ExecutionError, NotSupported
from query_api.engine.values import Labels, Scalar, Vector, without_name

COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
SET_OPERATORS = {"and", "or", "unless"}


def apply(op: str, lhs: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        if op == "+":
            return lhs + rhs
        if op == "-":
            return lhs - rhs
        if op == "*":
            return lhs * rhs
        if op == "/":
            return lhs / rhs
        if op == "%":
            return np.fmod(lhs, rhs)
        if op == "^":
            return np.power(lhs, rhs)
        if op == "atan2":
            return np.arctan2(lhs, rhs)
        if op == "==":
            return (lhs == rhs).astype(np.float64)
        if op == "!=":
            return (lhs != rhs).astype(np.float64)
        if op == ">":
            return (lhs > rhs).astype(np.float64)
        if op == "<":
            return (lhs < rhs).astype(np.float64)
        if op == ">=":
            return (lhs >= rhs).astype(np.float64)
        if op == "<=":
            return (lhs <= rhs).astype(np.float64)
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


def _result_labels(labels: Labels, op: str, matching: VectorMatching, return_bool: bool) -> Labels:
    if op not in COMPARISONS or return_bool:
        labels = without_name(labels)
    if matching.on:
        keep = set(matching.labels)
        return tuple(item for item in labels if item[0] in keep)
    drop = set(matching.labels)
    return tuple(item for item in labels if item[0] not in drop)


def vector_vector(op: str, lhs: Vector, rhs: Vector, matching: VectorMatching, return_bool: bool) -> Vector:
    if op in SET_OPERATORS:
        return _set_operation(op, lhs, rhs, matching)
    if matching.card is not Card.ONE_TO_ONE:
        raise NotSupported("group_left/group_right matching is not supported yet")
    steps = lhs.steps
    right_rows: dict[Labels, list[int]] = {}
    for i, labels in enumerate(rhs.labels):
        right_rows.setdefault(_match_key(labels, matching), []).append(i)
    _check_unique(rhs, right_rows, "right")
    left_rows: dict[Labels, list[int]] = {}
    for i, labels in enumerate(lhs.labels):
        left_rows.setdefault(_match_key(labels, matching), []).append(i)

    out_labels: list[Labels] = []
    out_values: list[np.ndarray] = []
    out_present: list[np.ndarray] = []
    result_index: dict[Labels, int] = {}
    for key, lefts in left_rows.items():
        rights = right_rows.get(key)
        if not rights:
            continue
        right_value, right_present = _collapse(rhs, rights)
        if len(lefts) > 1 and ((lhs.present[lefts] & right_present).sum(axis=0) > 1).any():
            raise ExecutionError("multiple matches for labels: many-to-one matching must be explicit "
                                 "(group_left/group_right)")
        for left in lefts:
            present = lhs.present[left] & right_present
            if not present.any():
                continue
            result = apply(op, lhs.values[left], right_value)
            if op in COMPARISONS and not return_bool:
                present = present & (result == 1.0)
                result = lhs.values[left]
            labels = _result_labels(lhs.labels[left], op, matching, return_bool)
            row = result_index.get(labels)
            if row is None:
                result_index[labels] = len(out_labels)
                out_labels.append(labels)
                out_values.append(np.where(present, result, 0.0))
                out_present.append(present)
            else:
                if (out_present[row] & present).any():
                    raise ExecutionError("multiple matches for labels: many-to-one matching must be "
                                         "explicit (group_left/group_right)")
                out_values[row] = np.where(present, result, out_values[row])
                out_present[row] = out_present[row] | present
    if not out_labels:
        return Vector.empty(steps)
    return Vector(out_labels, np.vstack(out_values), np.vstack(out_present))


def _collapse(vector: Vector, rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
    if len(rows) == 1:
        return vector.values[rows[0]], vector.present[rows[0]]
    present = vector.present[rows]
    values = np.where(present, vector.values[rows], 0.0).sum(axis=0)
    return values, present.any(axis=0)


def _check_unique(vector: Vector, rows_by_key: dict[Labels, list[int]], side: str) -> None:
    for key, rows in rows_by_key.items():
        if len(rows) > 1 and (vector.present[rows].sum(axis=0) > 1).any():
            shown = "{" + ", ".join(f'{k}="{v}"' for k, v in key) + "}"
            raise ExecutionError(f"found duplicate series for the match group {shown} on the {side} "
                                 "hand-side of the operation; many-to-many matching not allowed: "
                                 "matching labels must be unique on one side")


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
