"""The thesis baseline on the real BTC/ETH daily candles in ../shared/data (skipped when absent).

The pivot dates are the classifier's (another part of the code decides them), so these tests pin
what does not depend on them: the base rates over every day, read here straight from the CSV,
and that the verdicts and the JSON follow from them."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from bot.backtest.forward_returns import add_months
from bot.backtest.thesis import ThesisReport
from bot.backtest.thesis_baseline import CLAIMS, WINDOW_CLAIM, percentile
from bot.cli.backtest import thesis_command, thesis_from_files
from tests.unit.signals.data_paths import shared_file

UP_12M = next(c for c in CLAIMS if c.months == 12)


def _files() -> tuple[Path, Path, Path]:
    btc, eth = shared_file("BTC_USDT-1d.csv"), shared_file("ETH_USDT-1d.csv")
    return btc, eth, shared_file("WALCL.csv").parent


@pytest.fixture(scope="module")
def report() -> ThesisReport:
    btc, eth, fed = _files()
    return thesis_from_files([btc, eth], fed)


def _closes(path: Path) -> list[tuple[date, float]]:
    """Daily closes read straight from the CSV (the daily file has one bar per UTC day)."""
    with path.open() as handle:
        return [
            (datetime.fromtimestamp(int(r["timestamp"]) / 1000, UTC).date(), float(r["close"]))
            for r in csv.DictReader(handle)
        ]


def _window_rose(rows: list[tuple[date, float]]) -> list[bool]:
    """For every close: did some close 6–18 months after the next day beat it? Complete windows
    only. Two pointers walking the rows, independent of the module's bisect-based code."""
    last_day = rows[-1][0]
    out: list[bool] = []
    lo = hi = 0
    for day, close in rows:
        start = day + timedelta(days=1)
        first, end = add_months(start, 6), add_months(start, 18)
        if end - timedelta(days=1) > last_day:
            break
        while rows[lo][0] < first:
            lo += 1
        while hi < len(rows) and rows[hi][0] < end:
            hi += 1
        out.append(max(c for _, c in rows[lo:hi]) > close)
    return out


def _returns_12m(rows: list[tuple[date, float]]) -> list[float]:
    by_day = dict(rows)
    out = []
    for day, close in rows:
        target = add_months(day + timedelta(days=1), 12) - timedelta(days=1)
        if target not in by_day:
            break
        out.append(by_day[target] / close - 1)
    return out


@pytest.mark.parametrize(
    ("asset", "file", "expected"),
    [
        pytest.param("BTC", "BTC_USDT-1d.csv", 0.895, id="btc_about_nine_days_in_ten"),
        pytest.param("ETH", "ETH_USDT-1d.csv", 0.83, id="eth"),
    ],
)
def test_rose_within_6_18_months_is_true_on_most_days(
    report: ThesisReport, asset: str, file: str, expected: float
) -> None:
    rows = _closes(shared_file(file))
    rose = _window_rose(rows)
    row = report.baseline.for_claim(WINDOW_CLAIM, asset)
    assert row is not None and row.base_rate is not None
    assert row.days == len(rose)
    assert row.base_rate == pytest.approx(sum(rose) / len(rose))
    assert row.base_rate == pytest.approx(expected, abs=0.01)
    # So the claim holding after the pivots is no evidence: the verdict says so.
    assert not row.supported
    assert row.verdict.startswith("not supported by this data")
    assert f"on {row.base_rate * 100:.0f}% of all {row.days} days" in row.verdict
    assert "so being true says little" in row.verdict


def test_pivot_percentiles_rank_them_among_every_day_read_from_the_csv(
    report: ThesisReport,
) -> None:
    every_day = sorted(_returns_12m(_closes(shared_file("BTC_USDT-1d.csv"))))
    row = report.baseline.for_claim(UP_12M, "BTC")
    assert row is not None and row.days == len(every_day)
    assert row.measured, "no pivot toward easing has a 12-month return in the shared data"
    for pivot in row.measured:
        assert pivot.value is not None
        assert pivot.percentile == pytest.approx(percentile(every_day, pivot.value))


def test_the_conclusion_no_longer_reads_held_as_proof(report: ThesisReport) -> None:
    assert report.tested >= 1
    assert "proves nothing" in report.conclusion
    assert "NOT supported by this data" in report.conclusion


def test_table_and_json_carry_the_same_figures(capsys: pytest.CaptureFixture[str]) -> None:
    btc, eth, fed = _files()
    buffer = io.StringIO()
    assert thesis_command([btc, eth], fed, console=Console(file=buffer, width=1000)) == 0
    text = buffer.getvalue()
    assert thesis_command([btc, eth], fed, json_output=True) == 0
    claims = json.loads(capsys.readouterr().out)["baseline"]["claims"]
    assert len(claims) == 2 * len(CLAIMS)
    assert "Verdict rule: supported only with at least 5 pivots" in text
    for claim in claims:
        assert f"- {claim['asset']}, {claim['text']} — {claim['verdict']}." in text
        for pivot in claim["pivots"]:
            if pivot["percentile"] is not None:
                value = pivot["value"] * 100
                shown = f"{value:+.0f}%" if abs(value) >= 1000 else f"{value:+.1f}%"
                assert f"{shown} p{pivot['percentile']:.0f}" in text
