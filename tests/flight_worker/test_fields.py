"""A partials ticket may name the fields it needs: only those (plus count and stale times) are
sent, with the same values as in a full answer."""

from __future__ import annotations

import time

import numpy as np
import pytest

from lake.partials import ALL_FIELDS
from planner.tickets import Ticket, TicketInvalid, decode, encode
from tests.flight_worker.lakedata import HOUR_MS, ORG, T0

EDGES = list(range(T0 - 60_000, T0 + 2 * HOUR_MS + 60_001, 60_000))


def test_only_the_named_fields_are_sent(worker) -> None:
    full = worker.get("partials", edges=EDGES)
    some = worker.get("partials", edges=EDGES, fields=("first_value", "reset_sum"))
    partial_columns = [c for c in some.column_names if c[2:] in ALL_FIELDS]
    assert partial_columns == ["__count", "__first_value", "__reset_sum", "__last_stale_ts"]
    assert some.num_rows == full.num_rows > 0
    for name in ("__series_id", "__bucket_end", *partial_columns):
        np.testing.assert_array_equal(some.column(name).to_numpy(), full.column(name).to_numpy(), name)


def test_unknown_fields_are_refused() -> None:
    ticket = Ticket(template="partials", org=ORG, segments=(), window=(0, 10), edges=(0, 10),
                    expires_at=int(time.time() * 1000) + 60_000, fields=("count", "bogus"))
    with pytest.raises(TicketInvalid, match="unknown partial field"):
        encode(ticket, "k")
    good = Ticket(template="partials", org=ORG, segments=(), window=(0, 10), edges=(0, 10),
                  expires_at=int(time.time() * 1000) + 60_000, fields=("count", "max"))
    assert decode(encode(good, "k"), "k").fields == ("count", "max")
