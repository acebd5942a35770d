"""Catalog schema, as ordered migrations shared by SQLite and PostgreSQL."""

from __future__ import annotations

# (version, statements). Append new versions; never edit an applied one.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, (
        """CREATE TABLE segments (
            org TEXT NOT NULL,
            segment_id BIGINT NOT NULL,
            instance_num INTEGER NOT NULL,
            collector TEXT NOT NULL,
            dateint INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            kind TEXT NOT NULL,
            frequency_ms BIGINT NOT NULL,
            start_ts BIGINT NOT NULL,
            end_ts BIGINT NOT NULL,
            record_count BIGINT NOT NULL,
            file_size BIGINT NOT NULL,
            metric_names TEXT NOT NULL,
            label_names TEXT NOT NULL,
            published BOOLEAN NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (org, segment_id),
            CHECK (kind IN ('tbl', 'agg')),
            CHECK (start_ts <= end_ts)
        )""",
        "CREATE INDEX segments_by_time ON segments (org, kind, start_ts)",
        """CREATE TABLE segment_metrics (
            org TEXT NOT NULL,
            metric_name TEXT NOT NULL,
            segment_id BIGINT NOT NULL,
            PRIMARY KEY (org, metric_name, segment_id),
            FOREIGN KEY (org, segment_id) REFERENCES segments (org, segment_id) ON DELETE CASCADE
        )""",
        """CREATE TABLE metric_metadata (
            org TEXT NOT NULL,
            metric_name TEXT NOT NULL,
            type TEXT NOT NULL,
            help TEXT NOT NULL,
            unit TEXT NOT NULL,
            PRIMARY KEY (org, metric_name)
        )""",
    )),
)

LATEST_VERSION = MIGRATIONS[-1][0]
