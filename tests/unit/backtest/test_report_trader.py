"""The trader's figures of the twenty-day hand scenario (`test_hand_scenario.py`), worked out
by hand, in `--json` and in the terminal summary."""

from __future__ import annotations

import csv
import io
import json
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bot.backtest.export import write_outputs
from bot.backtest.report import print_summary, summary_dict, summary_json
from bot.backtest.runner import BacktestResult
from tests.unit.backtest.kit import hand_run
from tests.unit.backtest.test_hand_scenario import BARS

SECOND_SIZE = (Decimal(1000) / Decimal(135)).quantize(Decimal("0.00000001"), ROUND_DOWN)
WIN = 395.0  # 2.5 at 120 + 2.5 at 150 + 5 at 144 - 1000
LOSS = float(SECOND_SIZE * (Decimal("114.75") - Decimal(135)))  # about -150
FINAL = 1000 + WIN + LOSS


@pytest.fixture(scope="module")
def result() -> BacktestResult:
    return hand_run(BARS)


def _strict(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_trade_stats_in_json(result: BacktestResult) -> None:
    stats = _strict(summary_json(result))["trade_stats"]
    assert (stats["closed_trips"], stats["open_trips"]) == (2, 0)
    assert (stats["wins"], stats["losses"], stats["win_rate"]) == (1, 1, 0.5)
    assert stats["gross_profit"] == pytest.approx(WIN)
    assert stats["gross_loss"] == pytest.approx(-LOSS)
    assert stats["profit_factor"] == pytest.approx(WIN / -LOSS)
    assert stats["avg_win"] == pytest.approx(WIN) and stats["avg_loss"] == pytest.approx(LOSS)
    assert stats["avg_win_return"] == pytest.approx(WIN / 1000)
    assert stats["avg_loss_return"] == pytest.approx((114.75 - 135) / 135)
    assert stats["expectancy"] == pytest.approx((WIN + LOSS) / 2)
    assert stats["best_trade"]["return"] == pytest.approx(0.395)
    assert stats["best_trade"]["opened"].startswith("2024-01-01")
    assert stats["worst_trade"]["return"] == pytest.approx(-0.15)
    assert stats["worst_trade"]["exits"] == ["stop_loss"]


def test_pairs_months_and_drawdowns_in_json(result: BacktestResult) -> None:
    summary = summary_dict(result)
    pair = summary["pairs"]["BTC/USDT"]
    assert pair["net_pnl"] == pytest.approx(FINAL - 1000)
    assert pair["exposure"] == pytest.approx(9 / 20)  # one pair: the strategy's exposure
    assert pair["exposure"] == summary["strategy"]["exposure"]
    assert pair["price_change"] == pytest.approx(112 / 100 - 1)
    assert pair["win_rate"] == 0.5
    # Twenty days of January 2024.
    assert summary["monthly_returns"] == {
        "strategy": {"2024-01": pytest.approx(FINAL / 1000 - 1)},
        "buy_and_hold": {"2024-01": pytest.approx(1120 / 1000 - 1)},
    }
    assert summary["yearly_returns"]["strategy"] == {"2024": pytest.approx(FINAL / 1000 - 1)}
    worst = summary["drawdowns"]["strategy"]
    assert worst["max_drawdown"] == summary["strategy"]["max_drawdown"]
    assert summary["drawdowns"]["buy_and_hold"]["max_drawdown"] == pytest.approx(
        summary["buy_and_hold"]["max_drawdown"]
    )


def test_existing_keys_keep_their_meaning(result: BacktestResult) -> None:
    summary = summary_dict(result)
    assert summary["round_trips"] == 2 and summary["fills"] == len(result.fills)
    assert isinstance(summary["trades"], list)  # still the fills, not the trade statistics
    assert set(summary["strategy"]) == set(summary["buy_and_hold"])
    assert summary["strategy"]["final_equity"] == pytest.approx(FINAL)
    lean = summary_dict(result, details=False)
    assert "trade_stats" in lean and "trades" not in lean


def test_out_dir_has_the_monthly_and_pair_tables(result: BacktestResult, tmp_path: Path) -> None:
    write_outputs(result, tmp_path)
    with (tmp_path / "monthly_returns.csv").open() as handle:
        (month,) = list(csv.DictReader(handle))
    assert month["month"] == "2024-01"
    assert float(month["strategy"]) == pytest.approx(FINAL / 1000 - 1)
    assert float(month["buy_and_hold"]) == pytest.approx(0.12)
    with (tmp_path / "pairs.csv").open() as handle:
        (pair,) = list(csv.DictReader(handle))
    assert (pair["pair"], pair["closed_trips"], pair["win_rate"]) == ("BTC/USDT", "2", "0.5")
    assert float(pair["net_pnl"]) == pytest.approx(FINAL - 1000)


def test_terminal_summary_shows_the_trader_tables(result: BacktestResult) -> None:
    out = io.StringIO()
    print_summary(result, Console(file=out, width=160, color_system=None))
    text = out.getvalue()
    for needle in (
        "win rate",
        "50.0% (1 won, 1 lost)",
        f"{WIN / -LOSS:.2f}",  # profit factor
        "+39.5% (395.00) BTC/USDT 2024-01-01",  # best trade
        "Per pair",
        "Strategy returns by month",
        "worst drawdown, strategy",
    ):
        assert needle in text, needle
    # The headline figures come after the long list of round trips, so they end on screen.
    assert text.index("Round trips") < text.index("total return") < text.index("Per pair")
