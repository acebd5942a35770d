"""Straightforward Python versions of what the worker computes, for comparison."""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from collections.abc import Sequence

from lake.schema import series_id
from planner.tickets import Matcher
from tests.flight_worker.lakedata import Row


def matches(labels: dict[str, str], matchers: Sequence[Matcher]) -> bool:
    for m in matchers:
        value = labels.get(m.name) or ""
        ok = {"=": value == m.value, "!=": value != m.value,
              "=~": re.fullmatch(f"(?s:{m.value})", value) is not None,
              "!~": re.fullmatch(f"(?s:{m.value})", value) is None}[m.op]
        if not ok:
            return False
    return True


def bucket_end(ts: int, edges: Sequence[int]) -> int | None:
    for a, b in itertools.pairwise(edges):
        if a < ts <= b:
            return b
    return None


def partials(rows: list[Row], matchers: Sequence[Matcher], edges: Sequence[int],
             window: tuple[int, int], ref_ts: int) -> dict[tuple[int, int], dict]:
    groups: dict[tuple[int, int], list[Row]] = defaultdict(list)
    for row in rows:
        if not (window[0] < row.ts <= window[1]) or not matches(row.labels, matchers):
            continue
        end = bucket_end(row.ts, edges)
        if end is not None:
            groups[(series_id(row.labels), end)].append(row)
    out = {}
    for key, group in groups.items():
        group.sort(key=lambda r: r.ts)
        stale = [r.ts for r in group if r.stale]
        s = [r for r in group if not r.stale]
        p: dict = {"count": len(s), "last_stale_ts": max(stale) if stale else None}
        out[key] = p
        if not s:
            continue
        vals = [r.value for r in s]
        finite = [v for v in vals if not math.isnan(v)]
        resets = changes = 0
        reset_sum = 0.0
        for a, b in itertools.pairwise(vals):
            if b < a:
                resets += 1
                reset_sum += a
            if not (a == b or (math.isnan(a) and math.isnan(b))):
                changes += 1
        t = [(r.ts - ref_ts) / 1000 for r in s]
        mean = math.fsum(vals) / len(vals)
        p.update({
            "sum": math.fsum(vals) if not any(math.isnan(v) for v in vals) else math.nan,
            "min": min(finite) if finite else math.nan, "max": max(finite) if finite else math.nan,
            "first_ts": s[0].ts, "first_value": vals[0], "last_ts": s[-1].ts, "last_value": vals[-1],
            "prev_ts": s[-2].ts if len(s) > 1 else None, "prev_value": vals[-2] if len(s) > 1 else None,
            "resets": resets, "changes": changes, "reset_sum": reset_sum,
            "increase": vals[-1] - vals[0] + reset_sum,
            "sum_t": math.fsum(t), "sum_t2": math.fsum(x * x for x in t),
            "sum_tv": math.fsum(x * v for x, v in zip(t, vals, strict=True)),
            "m2": math.fsum((v - mean) ** 2 for v in vals),
        })
    return out
