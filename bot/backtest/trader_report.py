"""The figures a trader reads beyond the headline performance, computed once from a finished
backtest (never inside `run_backtest`: a sweep of thousands of trials needs only the headline).

Definitions: `trade_stats` (trips, pairs), `calendar_returns` (months, years, drawdowns),
`metrics` (exposure and the headline figures).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.backtest.calendar_returns import DrawdownEpisode, drawdown_episode, period_returns
from bot.backtest.candles import to_ms
from bot.backtest.runner import BacktestResult
from bot.backtest.trade_stats import PairStats, TradeStats, TradeView, pair_stats, trade_stats


@dataclass(frozen=True)
class TraderReport:
    trades: TradeStats
    pairs: tuple[PairStats, ...]
    monthly: dict[str, dict[str, float]]  # "strategy"/"buy_and_hold" -> {"2024-01": return}
    yearly: dict[str, dict[str, float]]  # "strategy"/"buy_and_hold" -> {"2024": return}
    drawdowns: dict[str, DrawdownEpisode]  # "strategy"/"buy_and_hold"


def trader_report(result: BacktestResult) -> TraderReport:
    curve, cash, start_ms = result.curve, float(result.cash), to_ms(result.start)
    lines = {"strategy": curve.strategy, "buy_and_hold": curve.buy_hold}
    return TraderReport(
        trades=trade_stats(result.trips),
        pairs=tuple(pair_stats(result.series, result.fills, result.trips, start_ms, curve.times)),
        monthly={k: period_returns(curve.times, v, cash, "M") for k, v in lines.items()},
        yearly={k: period_returns(curve.times, v, cash, "Y") for k, v in lines.items()},
        drawdowns={k: drawdown_episode(start_ms, curve.times, v, cash) for k, v in lines.items()},
    )


def _num(value: float | None, digits: int = 8) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, digits)


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _trade_dict(trade: TradeView | None) -> dict[str, Any] | None:
    if trade is None:
        return None
    return {
        "symbol": trade.symbol,
        "opened": _time(trade.opened),
        "closed": _time(trade.closed),
        "net_pnl": _num(trade.pnl),
        "return": _num(trade.ret),
        "days": _num(trade.days, 4),
        "exits": list(trade.exits),
    }


def trade_stats_dict(stats: TradeStats) -> dict[str, Any]:
    """JSON form; floats rounded to 8 digits, profit_factor null when infinite or undefined."""
    return {
        "closed_trips": stats.closed_trips,
        "open_trips": stats.open_trips,
        "wins": stats.wins,
        "losses": stats.losses,
        "win_rate": _num(stats.win_rate),
        "gross_profit": _num(stats.gross_profit),
        "gross_loss": _num(stats.gross_loss),
        "profit_factor": _num(stats.profit_factor),
        "avg_win": _num(stats.avg_win),
        "avg_loss": _num(stats.avg_loss),
        "avg_win_return": _num(stats.avg_win_return),
        "avg_loss_return": _num(stats.avg_loss_return),
        "payoff_ratio": _num(stats.payoff_ratio),
        "expectancy": _num(stats.expectancy),
        "avg_holding_days": _num(stats.avg_holding_days, 4),
        "best_trade": _trade_dict(stats.best),
        "worst_trade": _trade_dict(stats.worst),
    }


def _drawdown_dict(episode: DrawdownEpisode) -> dict[str, Any]:
    return {
        "max_drawdown": _num(episode.depth),
        "peak": _time(episode.peak),
        "trough": _time(episode.trough),
        "recovered": _time(episode.recovered),
        "longest_days": _num(episode.longest_days, 4),
    }


def _returns(by_period: dict[str, float]) -> dict[str, float | None]:
    return {period: _num(value) for period, value in by_period.items()}


def report_dict(report: TraderReport) -> dict[str, Any]:
    """The keys `--json` adds to the summary: trade_stats, pairs, monthly_returns,
    yearly_returns, drawdowns."""
    return {
        "trade_stats": trade_stats_dict(report.trades),
        "pairs": {
            p.symbol: {
                "net_pnl": _num(p.pnl),
                "fees": _num(p.fees),
                "exposure": _num(p.exposure),
                "price_change": _num(p.price_change),
                **trade_stats_dict(p.trades),
            }
            for p in report.pairs
        },
        "monthly_returns": {k: _returns(v) for k, v in report.monthly.items()},
        "yearly_returns": {k: _returns(v) for k, v in report.yearly.items()},
        "drawdowns": {k: _drawdown_dict(v) for k, v in report.drawdowns.items()},
    }
