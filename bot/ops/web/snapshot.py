"""One read of everything the status server shows, taken from the store in one go.

The page and /metrics both render from a `Snapshot`, so a request reads the store once. The
page's trading record (closed trades, profit, account, price charts) comes from the same read
models as `qtbot trades` and `qtbot profit`, so the page and the terminal agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.ops.notify.journal_map import FLUSH_KINDS, REGIME_PIVOT_KINDS
from bot.ops.notify.journal_tail import journal_counts
from bot.ops.profit import known_prices, profit_view
from bot.ops.status import status_view
from bot.ops.trades import closed_trades, trade_dict
from bot.ops.web.chart_data import price_charts
from bot.ops.web.chart_svg import PriceChart
from bot.services.context import Context
from bot.state.equity_series import EquityPoint
from bot.state.runtime_state import RuntimeState
from bot.state.store import HeartbeatView, JournalView, Store

RECENT_DECISIONS = 25
RECENT_TRADES = 30


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    view: dict[str, Any]  # bot.ops.status.status_view: positions, open orders, blocks, heartbeat
    heartbeat: HeartbeatView | None
    equity: Decimal | None
    cash: Decimal | None
    equity_peak: Decimal | None
    equity_day_start: Decimal | None
    series: list[EquityPoint]
    journal_counts: dict[tuple[str, str], int]
    recent: list[JournalView]
    regime: str | None
    regime_pivot_at: datetime | None
    last_flush_at: datetime | None
    # Newest first, at most RECENT_TRADES (bot.ops.trades.trade_dict rows).
    trades: list[dict[str, Any]] = field(default_factory=list)
    # bot.ops.profit.profit_view: totals, per symbol, buy-and-hold, account (cash, equity).
    profit: dict[str, Any] = field(default_factory=dict)
    charts: list[PriceChart] = field(default_factory=list)


def _latest(store: Store, kinds: frozenset[str]) -> JournalView | None:
    rows = [row for kind in sorted(kinds) for row in store.recent_journal(1, kind=kind)]
    return max(rows, key=lambda row: row.id, default=None)


def take_snapshot(ctx: Context, now: datetime) -> Snapshot:
    """Read the store (blocking I/O: call it off the event loop)."""
    store = ctx.store
    marks = RuntimeState(store).equity_marks()
    current = store.current_equity()
    pivot = _latest(store, REGIME_PIVOT_KINDS)
    flush = _latest(store, FLUSH_KINDS)
    view = status_view(ctx.settings, store, now)
    trades = closed_trades(store)
    prices = known_prices(store)
    return Snapshot(
        at=now,
        view=view,
        heartbeat=store.heartbeat(ctx.name),
        equity=current.equity if current else None,
        cash=current.cash if current else None,
        equity_peak=marks.equity_peak if marks else None,
        equity_day_start=marks.equity_day_start if marks else None,
        series=store.equity_series(),
        journal_counts=journal_counts(store),
        recent=store.recent_journal(RECENT_DECISIONS),
        regime=(pivot.data.get("regime") if pivot else None),
        regime_pivot_at=pivot.at if pivot else None,
        last_flush_at=flush.at if flush else None,
        trades=[trade_dict(t) for t in reversed(trades[-RECENT_TRADES:])],
        profit=profit_view(ctx.settings, store, now, trades=trades, prices=prices),
        charts=price_charts(store, now, view["positions"], prices),
    )
