"""Segment ids: unique, time-ordered int64s (creation milliseconds, then a 20-bit sequence)."""

from __future__ import annotations

import secrets
import threading
import time

_SEQUENCE_BITS = 20
_SEQUENCE_MASK = (1 << _SEQUENCE_BITS) - 1


class SegmentIdGenerator:
    """Ids that increase strictly within a process and are ordered by creation time across them.

    The low 20 bits start at a random offset per process, so two processes creating segments in
    the same millisecond collide only with negligible probability; the catalog's primary key on
    (org, segment_id) turns such a collision into an error rather than a lost file.
    """

    def __init__(self, clock_ms=lambda: time.time_ns() // 1_000_000) -> None:
        self._clock_ms = clock_ms
        self._lock = threading.Lock()
        self._last = 0
        self._offset = secrets.randbits(_SEQUENCE_BITS)

    def next_id(self) -> int:
        with self._lock:
            candidate = (self._clock_ms() << _SEQUENCE_BITS) | self._offset
            self._last = max(candidate, self._last + 1)
            return self._last


_default = SegmentIdGenerator()


def new_segment_id() -> int:
    return _default.next_id()


def segment_id_time_ms(segment_id: int) -> int:
    """The creation time encoded in a segment id."""
    return segment_id >> _SEQUENCE_BITS
