import math
import struct

import pytest

from fletch.promqltest.values import (
    GO_NAN,
    SeqValue,
    SeriesDescError,
    expand,
    parse_go_number,
    parse_series_desc,
    parse_values,
)
from lake.schema import STALE_NAN_BITS


def bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def floats(text: str) -> list[float | None]:
    return [None if v.omitted else v.value for v in parse_values(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("1 2 3", [1, 2, 3]),
    ("0+10x3", [0, 10, 20, 30]),            # N+1 samples
    ("1-1x5", [1, 0, -1, -2, -3, -4]),
    ("5x2", [5, 5, 5]),
    ("0x3", [0, 0, 0, 0]),                  # no hex in series values: 0 repeated
    ("Inf -Inf", [math.inf, -math.inf]),
    ("-2+0.5x2", [-2, -1.5, -1]),
    ("_ 1 _x2 2", [None, 1, None, None, 2]),  # _xN is N omitted, not N+1
    ("1e3 .5 010 1_000", [1000, 0.5, 8, 1000]),  # Prometheus's lexer: 010 is octal
])
def test_value_notation(text: str, expected: list[float | None]) -> None:
    assert floats(text) == expected


def test_increments_accumulate_like_prometheus() -> None:
    # v, v+d, (v+d)+d, ...: float accumulation, not v + i*d
    values = floats("0+0.1x6")
    assert values[6] == 0.1 + 0.1 + 0.1 + 0.1 + 0.1 + 0.1 == 0.6
    assert values[6] != 6 * 0.1


def test_special_values_keep_their_bits() -> None:
    stale, nan, inf, minf = (v.value for v in parse_values("stale NaN Inf -Inf"))
    assert bits(stale) == STALE_NAN_BITS
    assert bits(nan) == bits(GO_NAN) != STALE_NAN_BITS
    assert (inf, minf) == (math.inf, -math.inf)


def test_histograms_are_kept_opaque() -> None:
    values = parse_values("1 {{schema:1 sum:3 count:22 buckets:[5 10 7]}} {{count:1}}+{{count:2}}x2")
    assert [v.histogram is not None for v in values] == [False, True, True, True, True]
    assert values[1].histogram == "{{schema:1 sum:3 count:22 buckets:[5 10 7]}}"


def test_labels_forms() -> None:
    assert parse_series_desc('foo{a="b", c=\'d\'} 1')[0] == {"__name__": "foo", "a": "b", "c": "d"}
    assert parse_series_desc('{__name__="x", "a.b"="c\\n"} 1')[0] == {"__name__": "x", "a.b": "c\n"}
    assert parse_series_desc('{"utf8.name", job="j"} 1')[0] == {"__name__": "utf8.name", "job": "j"}
    assert parse_series_desc("{} 3")[0] == {}
    assert parse_series_desc('m{job="{count:2, (1,2]:3}"} 2') == (
        {"__name__": "m", "job": "{count:2, (1,2]:3}"}, [SeqValue(2.0)])


@pytest.mark.parametrize("line", ["foo 1+2", "foo 1x", "foo bar", 'foo{a=b} 1', "foo 1.2.3", "foo -stale"])
def test_invalid_series_lines(line: str) -> None:
    with pytest.raises(SeriesDescError):
        parse_series_desc(line)


def test_expand_places_sample_i_at_i_times_interval() -> None:
    values = parse_values("1 _ 3 stale")
    got = expand(values, 60_000)
    assert [t for t, _ in got] == [0, 120_000, 180_000]
    assert got[1][1].value == 3


@pytest.mark.parametrize(("text", "value"), [
    ("3", 3.0), ("-1", -1.0), ("0x10", 16.0), ("010", 8.0), ("1e3", 1000.0), ("+Inf", math.inf),
    ("-inf", -math.inf), ("0.25", 0.25)])
def test_scalar_numbers(text: str, value: float) -> None:
    assert parse_go_number(text) == value


@pytest.mark.parametrize("text", ["foo", "{} 1", "1e400", "1_0.5"])
def test_not_scalar_numbers(text: str) -> None:
    with pytest.raises(ValueError):
        parse_go_number(text)
