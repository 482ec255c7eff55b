"""One read of everything the status server shows, taken from the store in one go.

The page and /metrics both render from a `Snapshot`, so a request reads the store once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.jobs.risk_check import EQUITY_MARKS_KEY
from bot.ops.notify.journal_map import FLUSH_KINDS, REGIME_PIVOT_KINDS
from bot.ops.notify.journal_tail import journal_counts
from bot.ops.status import status_view
from bot.ops.web.series import EquityPoint, current_equity, load_series
from bot.services.context import Context
from bot.state.store import HeartbeatView, JournalView, Store

RECENT_DECISIONS = 25


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


def _latest(store: Store, kinds: frozenset[str]) -> JournalView | None:
    rows = [row for kind in sorted(kinds) for row in store.recent_journal(1, kind=kind)]
    return max(rows, key=lambda row: row.id, default=None)


def take_snapshot(ctx: Context, now: datetime) -> Snapshot:
    """Read the store (blocking I/O: call it off the event loop)."""
    store = ctx.store
    marks = json.loads(store.get_value(EQUITY_MARKS_KEY) or "{}")
    current = current_equity(store)
    pivot = _latest(store, REGIME_PIVOT_KINDS)
    flush = _latest(store, FLUSH_KINDS)
    return Snapshot(
        at=now,
        view=status_view(ctx.settings, store, now),
        heartbeat=store.heartbeat(ctx.name),
        equity=current[1] if current else None,
        cash=current[2] if current else None,
        equity_peak=Decimal(marks["peak"]) if "peak" in marks else None,
        equity_day_start=Decimal(marks["day_start"]) if "day_start" in marks else None,
        series=load_series(store),
        journal_counts=journal_counts(store),
        recent=store.recent_journal(RECENT_DECISIONS),
        regime=(pivot.data.get("regime") if pivot else None),
        regime_pivot_at=pivot.at if pivot else None,
        last_flush_at=flush.at if flush else None,
    )
