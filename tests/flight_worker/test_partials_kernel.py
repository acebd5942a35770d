"""`lake.partials.reduce_runs`: the lockstep path (runs of a few distinct lengths, any order)
agrees with the `reduceat` path (any runs, row order) on every field."""

from __future__ import annotations

import numpy as np
import pytest

from lake import partials as P

SPECIAL = np.array([1.0, 2.0, np.nan, np.inf, -np.inf, 1e100, -1e100, 0.5, -0.0, 3.0])


def _rows(seed: int, special: bool) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 3000))
    sid = np.sort(rng.integers(0, 20, n))
    ts = np.zeros(n, np.int64)
    for s in np.unique(sid):
        rows = sid == s
        ts[rows] = np.sort(rng.choice(100_000, int(rows.sum()), replace=False)) * 100
    bucket = ts // int(rng.choice([1000, 15_000, 60_000, 600_000]))
    v = rng.choice(SPECIAL, n) if special else rng.random(n) * 100
    return sid, bucket, ts, v


@pytest.mark.parametrize("seed", range(24))
def test_lockstep_matches_reduceat(seed: int) -> None:
    sid, bucket, ts, v = _rows(seed, special=seed % 3 == 0)
    starts, count = P.run_bounds(sid, bucket, ts)
    perm = np.random.default_rng(seed).permutation(len(starts))
    with np.errstate(all="ignore"):
        expected = P._reduceat_runs(sid, bucket, ts, v, 12_345, starts, count)
    in_rows = P.reduce_runs(sid, bucket, ts, v, 12_345, (starts, count))
    shuffled = P.reduce_runs(sid, bucket, ts, v, 12_345, (starts[perm], count[perm]))
    assert set(in_rows) == set(expected)
    for name, want in expected.items():
        for got, order in ((in_rows[name], slice(None)), (shuffled[name], perm)):
            assert got.dtype == want.dtype, name
            if want.dtype.kind == "f":  # sums may differ in the last bits (reduceat adds pairwise)
                np.testing.assert_allclose(got, want[order], rtol=1e-12, atol=1e-12, err_msg=name)
            else:
                np.testing.assert_array_equal(got, want[order], err_msg=name)


def test_long_runs_use_reduceat_in_any_order() -> None:
    n = 2 * (P.LOCKSTEP_POSITIONS + 10)
    sid = np.repeat(np.array([1, 2]), n // 2)
    ts = np.tile(np.arange(n // 2, dtype=np.int64), 2)
    v = np.arange(n, dtype=np.float64)
    starts, count = P.run_bounds(sid, np.zeros(n, np.int64), ts)
    runs = P.reduce_runs(sid, np.zeros(n, np.int64), ts, v, 0, (starts[::-1], count[::-1]))
    assert runs["sid"].tolist() == [2, 1]
    assert runs["count"].tolist() == [n // 2, n // 2]
    assert runs["sum"].tolist() == [v[n // 2:].sum(), v[:n // 2].sum()]
