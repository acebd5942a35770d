"""`GET /api/v1/status/workers`: the current membership and each worker's health.

With a `WorkerView` (what `fletch.fleet.build_fleet` makes) the answer is its `status()`: the
discovery's name and snapshot version, and per worker its location, state (`active`,
`cooling_down` after a recent failure, `draining`), source and call counters. A fleet built
from a plain callable shows its workers as `active` with no health.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from query_api import promapi
from query_api.discovery import WorkerView
from query_api.evaluate import Fleet


def workers_status(fleet: Fleet) -> dict[str, Any]:
    if isinstance(fleet.workers, WorkerView):
        return fleet.workers.status()
    return {"discovery": "static", "version": 0, "updated_at": None,
            "workers": [{"location": w, "state": "active", "source": "", "health": None}
                        for w in fleet.workers()]}


def status_router(fleet: Fleet) -> APIRouter:
    router = APIRouter()

    @router.get("/api/v1/status/workers")
    async def workers() -> JSONResponse:
        return JSONResponse(promapi.success(workers_status(fleet)))

    return router
