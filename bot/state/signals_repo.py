"""Signals in the store: FRED download snapshots (kv) and hourly liquidation bars."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from bot.signals.liquidations import LiquidationBar, LiquidationEvent
from bot.state.models import LiquidationBarRow
from bot.state.runtime_state import RuntimeState
from bot.state.store import Store

HOUR = timedelta(hours=1)
ALL_SYMBOLS = "*"


class KvSnapshotCache:
    """`SnapshotCache` for the FRED loader: the last good download of each series."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str) -> tuple[datetime, str] | None:
        text = RuntimeState(self.store).snapshot(key)
        if not text:
            return None
        data = json.loads(text)
        return datetime.fromisoformat(data["fetched_at"]), data["text"]

    def put(self, key: str, fetched_at: datetime, text: str) -> None:
        payload = json.dumps({"fetched_at": fetched_at.isoformat(), "text": text})
        RuntimeState(self.store).set_snapshot(key, payload, fetched_at)


def _hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class StoreLiquidationSink:
    """`LiquidationSink`: adds events (already de-duplicated) to their hourly bars."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def write(self, events: Sequence[LiquidationEvent]) -> None:
        totals: dict[tuple[datetime, str], list[float]] = {}
        for event in events:
            for symbol in (event.symbol, ALL_SYMBOLS):
                bucket = totals.setdefault((_hour(event.time), symbol), [0.0, 0.0, 0])
                long_side = event.liquidated_side == "long"
                bucket[0 if long_side else 1] += float(event.quote_notional)
                bucket[2] += 1
        with Session(self.store.engine) as session:
            for (start, symbol), (long_usd, short_usd, count) in totals.items():
                row = session.get(LiquidationBarRow, (start, symbol)) or LiquidationBarRow(
                    start=start, symbol=symbol
                )
                row.long_usd += long_usd
                row.short_usd += short_usd
                row.events += int(count)
                session.add(row)
            session.commit()

    def bars(self, symbol: str, since: datetime) -> list[LiquidationBar]:
        with Session(self.store.engine) as session:
            rows = session.exec(
                select(LiquidationBarRow)
                .where(LiquidationBarRow.symbol == symbol)
                .where(col(LiquidationBarRow.start) >= since)
                .order_by(col(LiquidationBarRow.start))
            ).all()
        return [LiquidationBar(r.start, HOUR, r.symbol, r.long_usd, r.short_usd) for r in rows]
