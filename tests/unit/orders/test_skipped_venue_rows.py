"""`sync_fills` journals each venue row the adapter skipped once, across re-reads and restarts
(the readable fills of the same reply: tests/integration/test_malformed_trade_rows.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.execution.manager import VENUE_ROW_SKIPPED, OrderManager
from bot.state.store import Store
from exchanges.base import Fill, MalformedRow, Side, VenueRows

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
BAD = MalformedRow("trade", "BTC/USDT", "901", "55", "trade 901 without a positive amount")


@dataclass
class TradesOnly:
    """A venue whose trade list always carries one unreadable row beside `fills`."""

    fills: list[Fill] = field(default_factory=list)
    skipped: tuple[MalformedRow, ...] = (BAD,)
    name: str = "rows"

    async def fetch_my_trades(self, symbol: str, since: datetime | None = None) -> VenueRows[Fill]:
        return VenueRows(self.fills, self.skipped)


def _foreign_fill() -> Fill:
    return Fill(
        "900",
        None,
        "54",
        "BTC/USDT",
        Side.BUY,
        Decimal(1),
        Decimal(100),
        Decimal(0),
        "USDT",
        T0,
        is_maker=False,
    )


def test_a_skipped_row_is_journaled_once_across_syncs_and_restarts(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite'}")
    venue = TradesOnly([_foreign_fill()])

    async def syncs() -> None:
        for minutes in range(3):
            manager = OrderManager(store, venue, "binance")  # type: ignore[arg-type]
            await manager.sync_fills("BTC/USDT", T0 + timedelta(minutes=minutes))

    asyncio.run(syncs())
    venue.skipped = (BAD, MalformedRow("trade", "BTC/USDT", None, "56", "trade row without an id"))
    asyncio.run(syncs())
    entries = store.recent_journal(20, kind=VENUE_ROW_SKIPPED)
    assert [(e.data["venue_id"], e.data["venue_order_id"]) for e in reversed(entries)] == [
        ("901", "55"),
        (None, "56"),
    ]
    assert all(e.level == "warning" and e.symbol == "BTC/USDT" for e in entries)
    assert "without a positive amount" in entries[-1].message
    store.close()


def test_a_reply_of_only_unreadable_rows_still_journals_them(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'bot.sqlite'}")
    manager = OrderManager(store, TradesOnly(), "binance")  # type: ignore[arg-type]
    assert asyncio.run(manager.sync_fills("BTC/USDT", T0)) == []
    assert len(store.recent_journal(20, kind=VENUE_ROW_SKIPPED)) == 1
    store.close()
