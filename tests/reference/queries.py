"""PromQL queries for side-by-side comparison with Prometheus, as data.

Each expression runs as an instant query at `INSTANT_MS` and as a range query over
`RANGE` (unless marked instant-only). All times, steps, ranges and offsets are whole seconds
(the data set's samples never are), so Prometheus 2.42 and 3.x agree on every window. Left out
on purpose, because 2.42 and 3.x differ or 2.42 lacks them: subqueries whose range is a multiple of
their step (their inner steps sit on window edges; the ones here use ranges like `10m30s`),
negative offsets (a flag in 2.42), regexes relying on `.` matching newlines,
`holt_winters`/`double_exponential_smoothing`, `mad_over_time`, `limitk`, native histograms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tests.reference.dataset import COUNTER, GAUGE, GAUGE_SPARSE, HISTOGRAM, HOUR_MS, START_MS

INSTANT_MS = START_MS + 2 * HOUR_MS
RANGE = (START_MS + HOUR_MS, START_MS + 2 * HOUR_MS + 30 * 60_000, 60_000)  # start, end, step (ms)
AT_SECONDS = (START_MS + HOUR_MS) // 1000

C, G, S, H = COUNTER, GAUGE, GAUGE_SPARSE, HISTOGRAM


@dataclass(frozen=True)
class Query:
    expr: str
    kind: Literal["instant", "range"]
    start_ms: int  # instant: the evaluation time
    end_ms: int = 0
    step_ms: int = 0
    topic: str = ""

    def __str__(self) -> str:
        if self.kind == "instant":
            return f"instant {self.expr} @ {self.start_ms}"
        return f"range {self.expr} [{self.start_ms}..{self.end_ms} step {self.step_ms}]"


# (topic, expression, instant only)
EXPRESSIONS: list[tuple[str, str, bool]] = [
    ("selector", C, False),
    ("selector =", f'{C}{{job="api"}}', False),
    ("selector != =", f'{C}{{job!="api", method="GET"}}', False),
    ("selector =~", f'{C}{{instance=~"a.*|c:9100"}}', False),
    ("selector !~", f'{C}{{instance!~"b.*"}}', False),
    ("lookback, series stopping and gap", S, False),
    ("offset", f"{G} offset 10m", False),
    ("@", f"{G} @ {AT_SECONDS}", False),
    ("@ and offset", f"{G} @ {AT_SECONDS} offset 5m", False),
    ("range selector", f'{C}{{job="db"}}[2m]', True),
    ("range selector offset", f"{S}[3m] offset 1m", True),
    ("rate", f"rate({C}[5m])", False),
    ("rate offset", f"rate({C}[5m] offset 30m)", False),
    ("increase", f"increase({C}[10m])", False),
    ("delta", f"delta({G}[5m])", False),
    ("irate", f"irate({C}[5m])", False),
    ("idelta", f"idelta({G}[2m])", False),
    ("avg_over_time", f"avg_over_time({G}[10m])", False),
    ("min_over_time", f"min_over_time({G}[10m])", False),
    ("max_over_time", f"max_over_time({G}[10m])", False),
    ("sum_over_time", f"sum_over_time({G}[10m])", False),
    ("count_over_time", f"count_over_time({S}[10m])", False),
    ("quantile_over_time", f"quantile_over_time(0.9, {G}[15m])", False),
    ("stddev_over_time", f"stddev_over_time({G}[10m])", False),
    ("stdvar_over_time", f"stdvar_over_time({G}[10m])", False),
    ("last_over_time", f"last_over_time({S}[10m])", False),
    ("present_over_time", f"present_over_time({S}[10m])", False),
    ("resets", f"resets({C}[30m])", False),
    ("changes", f"changes({G}[10m])", False),
    ("deriv", f"deriv({G}[10m])", False),
    ("predict_linear", f"predict_linear({G}[15m], 600)", False),
    ("timestamp", f"timestamp({G})", False),
    ("sum by", f"sum by (job) (rate({C}[5m]))", False),
    ("sum without", f"sum without (method, instance) (increase({C}[1h]))", False),
    ("avg without", f"avg without (instance) ({G})", False),
    ("min by", f"min by (job) ({G})", False),
    ("max", f"max({G})", False),
    ("count by", f"count by (method) ({C})", False),
    ("group by", f"group by (job) ({C})", False),
    ("stddev by", f"stddev by (job) ({G})", False),
    ("topk", f"topk(3, {G})", False),
    ("quantile", f"quantile(0.25, {G})", False),
    ("scalar arithmetic", f"{G} * 2 + 1", False),
    ("scalar on the left", f"100 - {G}", False),
    ("division and modulo", f"{G} / 3 % 7", False),
    ("power", f"2 ^ ({G} / 20)", False),
    ("comparison filter", f"{G} > 45", False),
    ("comparison bool", f"{G} > bool 45", False),
    ("vector/vector one-to-one", f"{H}_sum / {H}_count", False),
    ("one-to-one of rates", f"rate({H}_sum[5m]) / rate({H}_count[5m])", False),
    ("one-to-one ignoring",
     f'rate({C}{{method="GET"}}[5m]) / ignoring (method) rate({C}{{method="POST"}}[5m])', False),
    ("one-to-one on, offset", f"{G} - on (job, instance) {G} offset 5m", False),
    ("vector comparison", f"{G} >= on (job, instance) ({G} offset 5m)", False),
    ("set operator and", f'{C} and {C}{{method="GET"}}', False),
    ("set operator unless", f'{G} unless {G}{{job="db"}}', False),
    ("classic histogram_quantile",
     f"histogram_quantile(0.9, sum by (le, job) (rate({H}_bucket[5m])))", False),
    ("abs", f"abs({G} - 45)", False),
    ("ceil", f"ceil({G})", False),
    ("floor", f"floor({G})", False),
    ("round", f"round({G}, 0.5)", False),
    ("sqrt", f"sqrt({G})", False),
    ("exp", f"exp({G} / 10)", False),
    ("ln", f"ln({G})", False),
    ("log2", f"log2({G})", False),
    ("log10", f"log10({G})", False),
    ("clamp", f"clamp({G}, 42, 55)", False),
    ("clamp_min", f"clamp_min({G}, 45)", False),
    ("clamp_max", f"clamp_max({G}, 45)", False),
    ("sgn", f"sgn({G} - 45)", False),
    ("trig", f"sin({G}) + cos({G})", False),
    ("atan2", f"{G} atan2 on (job, instance) ({G} offset 1m)", False),
    ("scalar()", f"scalar(sum({G})) * 2", False),
    ("vector() and time()", "vector(time())", False),
    ("absent", f'absent({C}{{job="nope"}})', False),
    ("label_replace", f'label_replace({G}, "host", "$1", "instance", "(.*):.*")', False),
    # Functions, aggregators and matching modes beyond the basic query path (issue "All of PromQL").
    ("label_join", f'label_join({G}, "where", "/", "job", "instance")', False),
    ("bottomk", f"bottomk(2, {G})", False),
    ("topk by", f"topk by (job) (1, rate({C}[5m]))", False),
    ("count_values", f'count_values("value", round({G} / 5))', False),
    ("quantile by", f"quantile by (job) (0.9, {G})", False),
    ("stdvar", f"stdvar({G})", False),
    ("stddev without", f"stddev without (instance) (rate({C}[5m]))", False),
    ("avg of rates", f"avg by (method) (rate({C}[10m]))", False),
    ("sort_desc", f"sort_desc(sum by (job) ({G}))", True),
    ("group_left", f"rate({C}[5m]) * on (job, instance) group_left {G}", False),
    ("group_left with labels",
     f"sum by (job, method) (rate({C}[5m])) / on (job) group_left sum by (job) (rate({C}[5m]))", False),
    ("group_right", f"sum by (job) ({G}) / on (job) group_right sum by (job, instance) ({G})", False),
    ("set operator or", f'{G}{{job="db"}} or {G}{{job="api"}}', False),
    ("and on", f"{G} and on (job) (sum by (job) ({G}) > 120)", False),
    ("unless ignoring", f'{C} unless ignoring (method) {G}{{job="api"}}', False),
    ("bool on vectors", f"{G} > bool on (job, instance) ({G} offset 10m)", False),
    ("nested aggregation", f"max by (job) (sum by (job, instance) (rate({C}[5m])))", False),
    ("subquery max of rates", f"max_over_time(rate({C}[5m])[10m30s:1m])", False),
    ("subquery avg", f"avg_over_time({G}[15m30s:2m])", False),
    ("subquery of aggregation", f"min_over_time(sum by (job) ({G})[20m30s:1m])", False),
    ("subquery offset", f"max_over_time({G}[10m15s:30s] offset 5m)", False),
    ("@ start()", f"rate({C}[5m] @ start())", False),
    ("@ end()", f"{G} @ end()", False),
    ("day_of_week", "day_of_week()", False),
    ("hour of samples", f"hour(timestamp({G}))", False),
    ("minute", f"minute(timestamp({G}))", False),
    ("month and year", "month() + year()", False),
    ("days_in_month", "days_in_month()", False),
    ("absent_over_time", f'absent_over_time({S}{{job="none"}}[10m])', False),
    ("histogram_quantile by instance",
     f"histogram_quantile(0.5, sum by (le, instance) (rate({H}_bucket[10m])))", False),
    ("histogram_quantile of raw buckets", f"histogram_quantile(0.99, {H}_bucket)", False),
    ("count_over_time sparse", f"count_over_time({S}[25m])", False),
    ("scalar comparison bool", "time() > bool 1", False),
    ("unary minus", f"-{G}", False),
]


def all_queries() -> list[Query]:
    out: list[Query] = []
    for topic, expr, instant_only in EXPRESSIONS:
        out.append(Query(expr, "instant", INSTANT_MS, topic=topic))
        if not instant_only:
            out.append(Query(expr, "range", *RANGE, topic=topic))
    # the sparse gauge around its stop and inside its gap, where lookback decides
    for t in (START_MS + HOUR_MS + 10 * 60_000, START_MS + HOUR_MS + 23 * 60_000, START_MS + 95 * 60_000):
        out.append(Query(S, "instant", t, topic="lookback edge"))
    return out


QUERIES = all_queries()
