"""The catalog's record of one segment file."""

from __future__ import annotations

from dataclasses import dataclass

from lake.schema import object_key


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """One immutable Parquet file: series of one org inside one UTC hour.

    `start_ts` and `end_ts` are the first and last sample times in the file (inclusive, ms).
    """

    org: str
    segment_id: int
    instance_num: int
    collector: str
    dateint: int
    hour: int
    kind: str
    frequency_ms: int
    start_ts: int
    end_ts: int
    record_count: int
    file_size: int
    metric_names: tuple[str, ...]
    label_names: tuple[str, ...]
    published: bool = True
    created_at: int = 0

    @property
    def key(self) -> str:
        return object_key(self.org, self.collector, self.dateint, self.hour, self.kind, self.segment_id)
