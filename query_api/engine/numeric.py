"""Prometheus's floating-point recurrences (compensated sums, means, variance, quantiles), run in
lockstep along the last axis of [..., K] arrays so every group or window advances at once."""

from __future__ import annotations

import numpy as np


def kahan_inc(increment: np.ndarray, total: np.ndarray, compensation: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Prometheus's kahanSumInc (Neumaier's variant)."""
    with np.errstate(invalid="ignore", over="ignore"):
        new_total = total + increment
        bigger = np.abs(total) >= np.abs(increment)
        delta = np.where(bigger, (total - new_total) + increment, (increment - new_total) + total)
        return new_total, np.where(np.isinf(new_total), 0.0, compensation + delta)


def kahan_sum(values: np.ndarray, valid: np.ndarray, carried: np.ndarray | None = None) -> np.ndarray:
    """Compensated sums along the last axis; `carried` adds compensation the values already had
    (bucket partials carry theirs in `sum_c`)."""
    total = np.zeros(values.shape[:-1])
    compensation = np.zeros(values.shape[:-1])
    for k in range(values.shape[-1]):
        step = valid[..., k]
        new_total, new_compensation = kahan_inc(np.where(step, values[..., k], 0.0), total, compensation)
        total = np.where(step, new_total, total)
        compensation = np.where(step, new_compensation, compensation)
    if carried is not None:
        compensation = compensation + np.where(valid, carried, 0.0).sum(axis=-1)
    with np.errstate(invalid="ignore"):
        return total + compensation


def mean(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Prometheus's avg: a compensated sum divided by the count, switching to an incremental
    mean for the rest of the values once the sum would overflow."""
    shape = values.shape[:-1]
    count, total, compensation, running = (np.zeros(shape) for _ in range(4))
    incremental = np.zeros(shape, dtype=bool)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for k in range(values.shape[-1]):
            step = valid[..., k]
            value = np.where(step, values[..., k], 0.0)
            count = np.where(step, count + 1, count)
            new_total, new_c = kahan_inc(value, total, compensation)
            switch = step & ~incremental & np.isinf(new_total) & (count > 1)
            summing = step & ~incremental & ~switch
            total = np.where(summing, new_total, total)
            compensation = np.where(summing, new_c, compensation)
            running = np.where(switch, total / (count - 1), running)
            compensation = np.where(switch, compensation / (count - 1), compensation)
            incremental |= switch
            q = (count - 1) / np.maximum(count, 1)
            new_mean, new_mc = kahan_inc(value / np.maximum(count, 1), q * running, q * compensation)
            update = step & incremental
            running = np.where(update, new_mean, running)
            compensation = np.where(update, new_mc, compensation)
        summed = total / count + compensation / count
        return np.where(incremental, running + compensation, summed)


def variance(values: np.ndarray, valid: np.ndarray, compensate_aux: bool,
             compensate_mean: bool = True) -> np.ndarray:
    """Welford's recurrence with a compensated mean, as Prometheus's stdvar_over_time (which also
    compensates the accumulated squares). The stddev/stdvar aggregation compensates neither."""
    shape = values.shape[:-1]
    count, mean_, mean_c, aux, aux_c = (np.zeros(shape) for _ in range(5))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        for k in range(values.shape[-1]):
            step = valid[..., k]
            value = values[..., k]
            new_count = count + 1
            delta = value - (mean_ + mean_c)
            if compensate_mean:
                new_mean, new_mean_c = kahan_inc(delta / new_count, mean_, mean_c)
            else:
                new_mean, new_mean_c = mean_ + delta / new_count, mean_c
            square = delta * (value - (new_mean + new_mean_c))
            if compensate_aux:
                new_aux, new_aux_c = kahan_inc(square, aux, aux_c)
            else:
                new_aux, new_aux_c = aux + square, aux_c
            count = np.where(step, new_count, count)
            mean_, mean_c = np.where(step, new_mean, mean_), np.where(step, new_mean_c, mean_c)
            aux, aux_c = np.where(step, new_aux, aux), np.where(step, new_aux_c, aux_c)
        return (aux + aux_c) / count


def quantile(values: np.ndarray, valid: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Prometheus's quantile: NaN sorts first, linear interpolation at rank q*(n-1)."""
    n = valid.sum(axis=-1)
    if values.shape[-1] == 0:
        return np.full(n.shape, np.nan)
    key = np.where(valid, np.where(np.isnan(values), -np.inf, values), np.inf)
    nan_first = np.where(valid & np.isnan(values), 0, 1)
    order = np.lexsort((key, nan_first), axis=-1) if key.ndim == 1 else _lexsort_last(key, nan_first)
    ordered = np.take_along_axis(values, order, axis=-1)
    q = np.broadcast_to(q, n.shape)
    with np.errstate(invalid="ignore"):
        rank = np.nan_to_num(q * (n - 1), nan=0.0, posinf=0.0, neginf=0.0)
        low = np.clip(np.floor(rank), 0, np.maximum(n - 1, 0)).astype(np.int64)
        high = np.minimum(low + 1, np.maximum(n - 1, 0))
        weight = rank - np.floor(rank)
        lo_v = np.take_along_axis(ordered, low[..., None], axis=-1)[..., 0]
        hi_v = np.take_along_axis(ordered, high[..., None], axis=-1)[..., 0]
        result = lo_v * (1 - weight) + hi_v * weight
    result = np.where(q < 0, -np.inf, np.where(q > 1, np.inf, result))
    return np.where(np.isnan(q) | (n == 0), np.nan, result)


def _lexsort_last(key: np.ndarray, primary: np.ndarray) -> np.ndarray:
    # Sort by key, then stably by primary, along the last axis.
    by_key = np.argsort(key, axis=-1, kind="stable")
    by_primary = np.argsort(np.take_along_axis(primary, by_key, axis=-1), axis=-1, kind="stable")
    return np.take_along_axis(by_key, by_primary, axis=-1)
