"""Rendezvous (highest-random-weight) placement of segments on workers.

The weight of worker `w` for segment `(org, segment_id)` is the first 8 bytes (big-endian,
unsigned) of BLAKE2b-64 over `"{org}\\x00{segment_id}\\x00{w}"`. A segment goes to the worker
with the highest weight; the rest of the ranking is its fallback order for retries. The hash is
stable across processes and releases (no Python `hash()`), so the same inputs give the same
placement anywhere. Adding a worker moves only the segments it now wins (about 1/(N+1) of them);
removing one moves only its own segments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence


def weight(org: str, segment_id: int, worker: str) -> int:
    digest = hashlib.blake2b(f"{org}\x00{segment_id}\x00{worker}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rank_workers(org: str, segment_id: int, workers: Iterable[str]) -> list[str]:
    """Workers in preference order for one segment (ties broken by worker id)."""
    return sorted(workers, key=lambda w: (-weight(org, segment_id, w), w))


def assign(org: str, segment_ids: Iterable[int], workers: Sequence[str]) -> dict[str, list[int]]:
    """Segment ids per preferred worker; an empty worker list is an error."""
    if not workers:
        raise ValueError("no workers to place segments on")
    placement: dict[str, list[int]] = {}
    for segment_id in segment_ids:
        placement.setdefault(rank_workers(org, segment_id, workers)[0], []).append(segment_id)
    return placement
