"""`--html`: one self-contained page (no script, nothing fetched), the figures of `--json`,
SVG charts whose axes are right, and a bad path refused before the replay."""

from __future__ import annotations

import json
import math
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from bot.backtest.html_report import render_html, write_html
from bot.backtest.runner import BacktestResult
from bot.backtest.svg_chart import Line, line_chart, time_ticks, value_ticks
from bot.cli.backtest import backtest_command
from bot.config.settings import Settings
from tests.unit.backtest.kit import START, hand_run
from tests.unit.backtest.test_cli_commands import _csv
from tests.unit.backtest.test_hand_scenario import BARS


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    return hand_run(BARS)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [v or "" for k, v in attrs if k in ("src", "href")]


def test_page_is_self_contained_and_carries_the_figures(result: BacktestResult) -> None:
    page = render_html(result)
    tags = _Tags()
    tags.feed(page)
    assert "script" not in tags.tags and "link" not in tags.tags and tags.links == []
    assert "http://" not in page and "https://" not in page and "@import" not in page
    assert tags.tags.count("svg") == 2  # equity (log) and drawdown
    assert 'name="viewport"' in page  # phones scale the page, not a desktop layout
    for needle in ("win rate", "50.0%", "profit factor", "+39.5%", "Per pair", "2024"):
        assert needle in page, needle
    assert page == render_html(result)  # no wall-clock value: equal runs, equal bytes


def test_write_html_creates_the_file_and_its_folder(result: BacktestResult, tmp_path: Path) -> None:
    target = write_html(result, tmp_path / "new" / "report.html")
    assert target.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_log_axis_ticks_are_round_and_inside_the_range() -> None:
    assert value_ticks(700, 35_000, log=True) == [1000, 2000, 5000, 10_000, 20_000]
    assert value_ticks(90, 110_000, log=True) == [100, 1000, 10_000, 100_000]  # decades only
    assert value_ticks(-76.8, 0, log=False) == [-60, -40, -20, 0]  # steps of 1, 2, 2.5, 5
    # A range too narrow for 1-2-5 steps (a short run) gets even steps on the log axis too.
    assert value_ticks(950, 1500, log=True) == [1000, 1200, 1400]
    # 2024-01-01 to 2028-12-30: a tick at each January 1st, the first day's included.
    ticks = time_ticks(START_MS, START_MS + 5 * 365 * DAY_MS)
    assert [label for _, label in ticks] == ["2024", "2025", "2026", "2027", "2028"]
    three_weeks = time_ticks(START_MS, START_MS + 20 * DAY_MS)
    assert [label for _, label in three_weeks] == ["Jan 1", "Jan 8", "Jan 15"]
    assert [label for _, label in time_ticks(START_MS + DAY_MS, START_MS + 800 * DAY_MS)] == [
        "2025",
        "2026",
    ]


START_MS = int(START.timestamp() * 1000)
DAY_MS = 86_400_000


def test_log_chart_places_points_by_their_logarithm() -> None:
    times = START_MS + DAY_MS * np.arange(3, dtype=np.int64)
    svg = line_chart([Line("s", "#000", times, np.array([100.0, 1000.0, 10_000.0]))], "t", log=True)
    points = svg.split('<polyline points="')[1].split('"')[0].split()
    ys = [float(p.split(",")[1]) for p in points]
    # Equal ratios are equal steps on a log axis.
    assert math.isclose(ys[0] - ys[1], ys[1] - ys[2], rel_tol=1e-2)
    empty = line_chart([Line("s", "#000", times[:0], np.array([]))], "t", log=True)
    assert "no data" in empty
    wiped_out = np.array([10.0, 0.0, 0.0])  # nothing positive after the start: drawn linear
    assert "<polyline" in line_chart([Line("s", "#000", times, wiped_out - 10)], "t", log=True)


def test_cli_writes_the_page_beside_the_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    closes = [60000 + 1500 * i for i in range(20)] + [88000 - 4000 * i for i in range(10)]
    candles = _csv(tmp_path / "BTC_USDT-1d.csv", closes)
    page = tmp_path / "report.html"
    status = backtest_command(
        Settings(), [candles], None, json_output=True, html=page, progress=False
    )
    captured = capsys.readouterr()
    assert status == 0
    summary = json.loads(captured.out)  # stdout stays the JSON alone
    assert f"wrote {page}" in captured.err
    assert summary["trade_stats"]["closed_trips"] >= 0 and page.stat().st_size > 1000


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("", "is a directory", id="a_directory"),
        pytest.param("file.txt/report.html", "is a file, not a directory", id="under_a_file"),
    ],
)
def test_cli_refuses_an_html_path_that_cannot_be_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, message: str
) -> None:
    (tmp_path / "file.txt").write_text("x")
    candles = _csv(tmp_path / "BTC_USDT-1d.csv", [100.0, 101.0, 102.0])
    status = backtest_command(Settings(), [candles], None, html=tmp_path / name, progress=False)
    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""  # refused before the replay: no summary printed
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("qtbot: --html") and message in line
