"""A Python client for scripts: PromQL results as Arrow tables over the Flight gateway.

    import fletch.client
    with fletch.client.connect("grpc://127.0.0.1:8815", org="acme") as db:
        table = db.query_range("sum by (job) (rate(http_requests_total[5m]))",
                               "2024-01-01T00:00:00Z", "2024-01-01T06:00:00Z", "1m")
        frame = table.to_pandas()          # where pandas is installed

Times are epoch seconds, RFC 3339 strings or aware `datetime`s; steps are seconds, Prometheus
durations (`"30s"`) or `timedelta`s. The table's shape is described in
`query_api/flight_results.py`. Errors arrive as `QueryFailed` with Prometheus's `error_type`.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.flight as fl

Time = float | int | str | datetime
Step = float | int | str | timedelta


class QueryFailed(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class Client:
    def __init__(self, url: str, *, token: str | None = None, username: str | None = None,
                 password: str | None = None, org: str | None = None,
                 tls_root_certs: bytes | None = None, timeout: float | None = None) -> None:
        location = url if "://" in url else f"grpc://{url}"
        kwargs: dict[str, Any] = {"tls_root_certs": tls_root_certs} if tls_root_certs else {}
        self._flight = fl.FlightClient(location, **kwargs)
        headers: list[tuple[bytes, bytes]] = []
        if username is not None:
            headers.append(self._flight.authenticate_basic_token(username, password or ""))
        elif token is not None:
            headers.append((b"authorization", f"Bearer {token}".encode()))
        if org:
            headers.append((b"x-scope-orgid", org.encode()))
        self._options = fl.FlightCallOptions(headers=headers, timeout=timeout)

    def query_range(self, query: str, start: Time, end: Time, step: Step, *,
                    labels: str = "columns") -> pa.Table:
        return self._get({"query": query, "start": _time(start), "end": _time(end), "step": _step(step),
                          "labels": labels})

    def query(self, query: str, time: Time | None = None, *, labels: str = "columns") -> pa.Table:
        command: dict[str, Any] = {"query": query, "labels": labels}
        if time is not None:
            command["time"] = _time(time)
        return self._get(command)

    def _get(self, command: dict[str, Any]) -> pa.Table:
        ticket = fl.Ticket(json.dumps(command).encode())
        try:
            return self._flight.do_get(ticket, self._options).read_all()
        except fl.FlightError as err:
            detail = _detail(err)
            raise QueryFailed(detail.get("errorType", "internal"),
                              detail.get("error", str(err).splitlines()[0])) from None

    def close(self) -> None:
        self._flight.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def connect(url: str, **kwargs: Any) -> Client:
    """A client for the gateway at `url` (`grpc://host:8815`, `grpc+tls://...`, or `host:port`)."""
    return Client(url, **kwargs)


def _time(value: Time) -> float | str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return value.timestamp()
    return value


def _step(value: Step) -> float | str:
    return value.total_seconds() if isinstance(value, timedelta) else value


def _detail(err: fl.FlightError) -> dict[str, str]:
    try:
        detail = json.loads(err.extra_info or b"{}")
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


__all__ = ["Client", "QueryFailed", "connect"]
