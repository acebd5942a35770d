"""`fletch promql format` and `fletch promql explain`."""

from __future__ import annotations

import io
import json

import pytest

from fletch.cli import main

Capture = pytest.CaptureFixture[str]


def run(argv: list[str], stdin: str, monkeypatch: pytest.MonkeyPatch,
        capsys: Capture) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_format_writes_one_json_line_per_input(monkeypatch: pytest.MonkeyPatch,
                                               capsys: Capture) -> None:
    stdin = 'sum by(job) (rate(x{a="b"}[5m]))\nfoo{\n\n1 == 1\n'
    code, out, _ = run(["promql", "format"], stdin, monkeypatch, capsys)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines == [
        {"ok": True, "formatted": 'sum by (job) (rate(x{a="b"}[5m]))'},
        {"ok": False, "error": "1:5: parse error: unexpected end of input inside braces"},
        {"ok": False, "error": "unknown position: parse error: no expression found in input"},
        {"ok": False, "error": "1:3: parse error: comparisons between scalars must use BOOL modifier"},
    ]


def test_explain_prints_leaves_and_edges(monkeypatch: pytest.MonkeyPatch,
                                         capsys: Capture) -> None:
    code, out, _ = run(["promql", "explain", "rate(foo[5m]) + bar offset 1m", "--time", "600"], "",
                       monkeypatch, capsys)
    assert code == 0
    assert "leaves: 2" in out
    assert "template: partials  fields: count,first,increase,last" in out
    assert "bucket edges (2): 300000 600000" in out
    assert "bucket edges (2): 240000 540000" in out


def test_explain_json_for_a_range_query(monkeypatch: pytest.MonkeyPatch,
                                        capsys: Capture) -> None:
    argv = ["promql", "explain", "quantile_over_time(0.9, foo[2m])", "--start", "0", "--end", "300",
            "--step", "1m", "--json", "--approximate"]
    code, out, _ = run(argv, "", monkeypatch, capsys)
    assert code == 0
    (leaf,) = json.loads(out)["leaves"]
    assert leaf["template"] == "sketch"
    assert leaf["edges"] == [-120000, -60000, 0, 60000, 120000, 180000, 240000, 300000]


def test_explain_reports_parse_errors(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    code, _, err = run(["promql", "explain", "foo{"], "", monkeypatch, capsys)
    assert code == 2
    assert err.strip() == "fletch: 1:5: parse error: unexpected end of input inside braces"


def test_explain_needs_a_complete_range(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    code, _, err = run(["promql", "explain", "foo", "--start", "0"], "", monkeypatch, capsys)
    assert code == 2 and "--start, --end and --step" in err
