"""The PNG report: equity on a log scale beside buy-and-hold, the key figures, returns by month
(`test_cli_commands.py` checks that `--plot` writes the PNG)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display in tests
import matplotlib.pyplot as plt

from bot.backtest.plot import draw_report
from tests.unit.backtest.kit import hand_run
from tests.unit.backtest.test_hand_scenario import BARS


def test_png_has_log_equity_key_figures_and_monthly_heatmap() -> None:
    result = hand_run(BARS)
    fig = draw_report(result)
    try:
        price, equity, drawdown, months = fig.axes
        assert price.get_yscale() == "log" and equity.get_yscale() == "log"
        assert drawdown.get_yscale() == "linear"
        assert [line.get_label() for line in equity.get_lines()] == ["strategy", "buy & hold"]
        assert "win rate 50.0% of 2 closed trips" in equity.get_title(loc="left")
        assert [t.get_text() for t in months.get_yticklabels()] == ["2024"]
        (january,) = months.texts  # twenty days of January 2024: one cell
        assert january.get_text() == f"{result.strategy.total_return * 100:+.1f}"
    finally:
        plt.close(fig)
