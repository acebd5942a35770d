"""Prometheus's `labels.Labels.Hash()` (xxhash64 over the stringlabels encoding), which
`limit_ratio` turns into a per-series sampling offset. Per series, not per sample."""

from __future__ import annotations

import struct

from query_api.engine.values import Labels

_MASK = (1 << 64) - 1
_P1 = 11400714785074694791
_P2 = 14029467366897019727
_P3 = 1609587929392839161
_P4 = 9650029242287828579
_P5 = 2870177450012600261


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _MASK


def _round(acc: int, lane: int) -> int:
    acc = (acc + lane * _P2) & _MASK
    return (_rotl(acc, 31) * _P1) & _MASK


def _merge(acc: int, value: int) -> int:
    acc ^= _round(0, value)
    return (acc * _P1 + _P4) & _MASK


def xxh64(data: bytes, seed: int = 0) -> int:
    length = len(data)
    offset = 0
    if length >= 32:
        v1 = (seed + _P1 + _P2) & _MASK
        v2 = (seed + _P2) & _MASK
        v3 = seed
        v4 = (seed - _P1) & _MASK
        while offset + 32 <= length:
            a, b, c, d = struct.unpack_from("<4Q", data, offset)
            v1, v2, v3, v4 = _round(v1, a), _round(v2, b), _round(v3, c), _round(v4, d)
            offset += 32
        acc = (_rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)) & _MASK
        for v in (v1, v2, v3, v4):
            acc = _merge(acc, v)
    else:
        acc = (seed + _P5) & _MASK
    acc = (acc + length) & _MASK
    while offset + 8 <= length:
        (lane,) = struct.unpack_from("<Q", data, offset)
        acc ^= _round(0, lane)
        acc = (_rotl(acc, 27) * _P1 + _P4) & _MASK
        offset += 8
    if offset + 4 <= length:
        (lane,) = struct.unpack_from("<I", data, offset)
        acc ^= (lane * _P1) & _MASK
        acc = (_rotl(acc, 23) * _P2 + _P3) & _MASK
        offset += 4
    while offset < length:
        acc ^= (data[offset] * _P5) & _MASK
        acc = (_rotl(acc, 11) * _P1) & _MASK
        offset += 1
    acc ^= acc >> 33
    acc = (acc * _P2) & _MASK
    acc ^= acc >> 29
    acc = (acc * _P3) & _MASK
    acc ^= acc >> 32
    return acc


def _encode_string(text: str) -> bytes:
    raw = text.encode()
    size = len(raw)
    if size < 255:
        return bytes([size]) + raw
    return bytes([255, size & 0xFF, (size >> 8) & 0xFF, (size >> 16) & 0xFF]) + raw


def labels_hash(labels: Labels) -> int:
    """`labels.Labels.Hash()` of Prometheus's default (stringlabels) build."""
    return xxh64(b"".join(_encode_string(name) + _encode_string(value) for name, value in labels))


def ratio_offset(labels: Labels) -> float:
    """`HashRatioSampler.SampleOffset`: the hash as a fraction of MaxUint64, in [0, 1]."""
    return float(labels_hash(labels)) / float(_MASK)
