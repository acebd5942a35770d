"""Values flowing through evaluation, each for one block of evaluation steps."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

Labels = tuple[tuple[str, str], ...]  # sorted by name; `__name__` included when present
NAME = "__name__"


def make_labels(mapping: dict[str, str]) -> Labels:
    return tuple(sorted((k, v) for k, v in mapping.items() if v))


def without_name(labels: Labels) -> Labels:
    return tuple(item for item in labels if item[0] != NAME)


def label_value(labels: Labels, name: str) -> str:
    for key, value in labels:
        if key == name:
            return value
    return ""


@dataclass
class Vector:
    """An instant vector at every step: `values[s, t]` is defined where `present[s, t]`."""

    labels: list[Labels]
    values: np.ndarray
    present: np.ndarray
    # Sample timestamps (ms) for vectors straight from a selector, for `timestamp()`.
    sample_ts: np.ndarray | None = None
    # Series whose `__name__` PromQL drops at the end (Prometheus 3 delays the drop).
    drop_name: bool = False

    @classmethod
    def empty(cls, steps: int) -> Vector:
        return cls([], np.zeros((0, steps)), np.zeros((0, steps), dtype=bool))

    @property
    def steps(self) -> int:
        return self.values.shape[1]

    def select(self, rows: np.ndarray) -> Vector:
        return Vector([self.labels[i] for i in rows], self.values[rows], self.present[rows],
                      None if self.sample_ts is None else self.sample_ts[rows], self.drop_name)


@dataclass
class Matrix:
    """A range vector as a query result (an instant query of `x[5m]` or a subquery):
    per series, its sample times (ms) and values."""

    labels: list[Labels]
    timestamps: list[np.ndarray]
    values: list[np.ndarray]


@dataclass
class Scalar:
    values: np.ndarray  # one per step


@dataclass
class String:
    value: str


@dataclass
class Annotations:
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def info(self, message: str) -> None:
        if message not in self.infos:
            self.infos.append(message)


Value = Vector | Matrix | Scalar | String
