"""`backtest_command` and `thesis_command` as the CLI calls them: files in, output out."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from bot.backtest.candles import to_ms
from bot.backtest.export import FILES
from bot.cli.backtest import backtest_command, thesis_command
from bot.config.settings import Settings

# The shipped Fed data calls 2024-09-19 onwards neutral: plans may start.
START = datetime(2024, 10, 1, tzinfo=UTC)


def _csv(path: Path, closes: list[float], start: datetime = START) -> Path:
    lines = ["timestamp,open,high,low,close,volume"]
    previous = closes[0]
    for i, close in enumerate(closes):
        ts = to_ms(start + timedelta(days=i))
        lines.append(
            f"{ts},{previous},{max(previous, close) * 1.01},{min(previous, close) * 0.99},{close},1"
        )
        previous = close
    path.write_text("\n".join(lines) + "\n")
    return path


def test_backtest_json_plot_and_csvs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    closes = [60000 + 1500 * i for i in range(20)] + [88000 - 4000 * i for i in range(10)]
    candles = _csv(tmp_path / "BTC_USDT-1d.csv", closes)
    status = backtest_command(
        Settings(),
        [candles],
        None,
        json_output=True,
        plot=tmp_path / "run.png",
        out=tmp_path / "out",
        progress=False,
    )
    captured = capsys.readouterr()
    assert status == 0
    summary = json.loads(captured.out)  # stdout is the JSON alone
    assert summary["symbols"] == ["BTC/USDT"] and summary["bars"] == {"BTC/USDT": 30}
    assert summary["fills"] >= 1 and summary["trades"]
    assert set(summary["strategy"]) == set(summary["buy_and_hold"])
    assert (tmp_path / "run.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(FILES)
    trades = (tmp_path / "out" / "trades.csv").read_text().splitlines()
    assert trades[0].startswith("time,symbol,side") and len(trades) == summary["fills"] + 1


def test_backtest_rejects_a_file_without_a_symbol(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    candles = _csv(tmp_path / "prices.csv", [100.0, 101.0])
    assert backtest_command(Settings(), [candles], None, progress=False) == 2
    assert "BTC/USDT=" in capsys.readouterr().err


def test_thesis_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    early = START - timedelta(days=30)  # covers the September 2024 pivot
    candles = _csv(tmp_path / "BTC_USDT-1d.csv", [60000.0 + i for i in range(60)], early)
    fed = Path(__file__).resolve().parents[3] / "bot" / "data"
    buffer = io.StringIO()
    assert thesis_command([candles], fed, console=Console(file=buffer, width=200)) == 0
    text = buffer.getvalue()
    assert thesis_command([candles], fed, json_output=True) == 0
    report = json.loads(capsys.readouterr().out)
    # The classifier decides the exact day of the September 2024 turn toward easing.
    pivot = next(
        p for p in report["pivots"] if p["toward_easing"] and p["date"].startswith("2024-09")
    )
    assert pivot["verdict"] == "open"
    assert pivot["date"] in text and "Conclusion:" in text
    assert thesis_command([tmp_path / "missing_BTC_USDT.csv"], fed) == 2


def test_without_candles_the_shipped_daily_btc_and_eth_are_replayed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = backtest_command(
        Settings(),
        [],
        None,
        start=datetime(2024, 9, 1, tzinfo=UTC),
        end=datetime(2024, 12, 1, tzinfo=UTC),
        json_output=True,
        progress=False,
    )
    assert status == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["bars"] == {"BTC/USDT": 91, "ETH/USDT": 91}


def test_a_backtest_range_outside_the_data_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    candles = _csv(tmp_path / "BTC_USDT-1d.csv", [60000.0 + i for i in range(30)])
    status = backtest_command(
        Settings(), [candles], None, start=datetime(2030, 1, 1, tzinfo=UTC), progress=False
    )
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1
    assert err.startswith(f"qtbot: {candles}: no candles from 2030-01-01")
    assert "its candles run 2024-10-01 to 2024-10-30" in err


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        pytest.param({"symbols": "SOL/USDT"}, "cover BTC/USDT and ETH/USDT only", id="shipped"),
        pytest.param({"timeframe": "1h"}, "the shipped candles are daily", id="timeframe"),
        pytest.param({"datadir": Path("/nonexistent")}, "not a directory", id="datadir"),
    ],
)
def test_candle_choices_that_cannot_work_are_one_line(
    kwargs: dict[str, object], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert backtest_command(Settings(), [], None, progress=False, **kwargs) == 2  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err


def test_thesis_defaults_to_the_shipped_candles_and_fed_data(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert thesis_command([], None, json_output=True) == 0
    report = json.loads(capsys.readouterr().out)
    assert any(p["toward_easing"] and p["date"].startswith("2019-0") for p in report["pivots"])
