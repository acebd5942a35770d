"""Request parameters from the query string and, for POST, a urlencoded form (as Prometheus)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from query_api.params import MAX_TIME_MS, MIN_TIME_MS, ParamError, parse_time


@dataclass
class Params:
    values: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[-1] if found else None

    def getlist(self, name: str) -> list[str]:
        return list(self.values.get(name, []))

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None or value == "":
            raise ParamError(f'invalid parameter "{name}": missing')
        return value

    def time_or(self, name: str, default: int) -> int:
        """Prometheus's `parseTimeParam`: its message names the parameter twice."""
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            return parse_time(value, name)
        except ParamError as err:
            detail = str(err).removeprefix(f'invalid parameter "{name}": ')
            prefix = f"invalid parameter \"{name}\": Invalid time value for '{name}'"
            raise ParamError(f"{prefix}: {detail}") from None

    def range_or_all(self) -> tuple[int, int]:
        """`start`/`end` of metadata calls; absent means all of time, as in Prometheus."""
        return self.time_or("start", MIN_TIME_MS), self.time_or("end", MAX_TIME_MS)

    def limit(self) -> int:
        """`limit`: 0 or absent disables it."""
        text = self.get("limit")
        if text in (None, ""):
            return 0
        try:
            value = int(text)
        except ValueError:
            raise ParamError(f'invalid parameter "limit": cannot parse "{text}" to a valid limit') from None
        if value < 0:
            raise ParamError('invalid parameter "limit": limit must be non-negative')
        return value


async def read_params(request: Request) -> Params:
    params = Params()
    for key, value in request.query_params.multi_items():
        params.values.setdefault(key, []).append(value)
    if request.method == "POST":
        form = await request.form()
        for key, item in form.multi_items():
            params.values.setdefault(key, []).append(str(item))
    return params
