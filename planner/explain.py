"""Human- and machine-readable descriptions of a QueryPlan (`fletch promql explain`)."""

from __future__ import annotations

from typing import Any

from planner.durations import format_duration
from planner.plan import Leaf, QueryPlan
from planner.printer import to_string

MAX_EDGES_SHOWN = 12


def _dur(ms: int) -> str:
    return format_duration(ms) if ms >= 0 else "-" + format_duration(-ms)


def _at(at: object) -> str:
    if at is None:
        return "none"
    return f"{at}()" if isinstance(at, str) else f"{at} ms"


def leaf_to_dict(leaf: Leaf) -> dict[str, Any]:
    return {
        "id": leaf.id,
        "matchers": [[m.name, m.op.value, m.value] for m in leaf.matchers],
        "range_ms": leaf.range,
        "offset_ms": leaf.offset,
        "at": leaf.at,
        "function": leaf.function,
        "template": leaf.template,
        "fields": sorted(leaf.fields),
        "window_ms": leaf.window,
        "grid": {"start": leaf.grid.start, "end": leaf.grid.end, "step": leaf.grid.step},
        "subqueries": [{"range_ms": f.range, "step_ms": f.step, "offset_ms": f.offset, "at": f.at}
                       for f in leaf.subqueries],
        "edges": list(leaf.edges),
        "paths": [list(p) for p in leaf.paths],
    }


def plan_to_dict(plan: QueryPlan) -> dict[str, Any]:
    ev = plan.evaluation
    return {
        "expr": to_string(plan.expr),
        "evaluation": {"start": ev.start, "end": ev.end, "step": ev.step, "lookback": ev.lookback},
        "leaves": [leaf_to_dict(leaf) for leaf in plan.leaves],
    }


def describe(plan: QueryPlan) -> str:
    ev = plan.evaluation
    when = f"range {ev.start}..{ev.end} ms step {_dur(ev.step)}" if ev.step else f"instant at {ev.start} ms"
    lines = [f"query: {to_string(plan.expr)}", f"evaluation: {when}, lookback {_dur(ev.lookback)}",
             f"leaves: {len(plan.leaves)}"]
    for leaf in plan.leaves:
        rng = f"[{_dur(leaf.range)}]" if leaf.range else ""
        lines.append(f"leaf {leaf.id}  {leaf.selector_text}{rng}")
        lines.append(f"  consumer: {leaf.function or ('instant selector' if not leaf.range else 'none')}"
                     f"  template: {leaf.template}  fields: {','.join(sorted(leaf.fields)) or '-'}")
        subs = " ".join(f"[{_dur(f.range)}:{_dur(f.step) if f.step else ''}]"
                        + (f" offset {_dur(f.offset)}" if f.offset else "")
                        + (f" @ {_at(f.at)}" if f.at is not None else "") for f in leaf.subqueries)
        lines.append(f"  offset: {_dur(leaf.offset)}  @: {_at(leaf.at)}  subqueries: {subs or 'none'}")
        grid = leaf.grid
        step = f" step {_dur(grid.step)}" if grid.step else ""
        lines.append(f"  windows: {len(grid)} of {_dur(leaf.window)} ending {grid.start}..{grid.end}{step}")
        shown = " ".join(str(e) for e in leaf.edges[:MAX_EDGES_SHOWN])
        more = f" ... {leaf.edges[-1]}" if len(leaf.edges) > MAX_EDGES_SHOWN else ""
        lines.append(f"  bucket edges ({len(leaf.edges)}): {shown}{more}")
    return "\n".join(lines)
