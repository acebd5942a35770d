"""The worker's failures, each with the Flight status it crosses the wire as.

Messages are written for clients: short, no server paths, no tracebacks.
"""

from __future__ import annotations


class WorkerError(Exception):
    """Base class; `status` names the gRPC code the server maps it to."""

    status = "INTERNAL"


class BadRequest(WorkerError):
    """The ticket is authentic but cannot be executed (bad regex, unknown column, ...)."""

    status = "INVALID_ARGUMENT"


class DataUnavailable(WorkerError):
    """A segment could not be read: missing or truncated object, unreachable store, no profile."""

    status = "UNAVAILABLE"


class Cancelled(WorkerError):
    """The client cancelled the call or its deadline passed."""

    status = "CANCELLED"
