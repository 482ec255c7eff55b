"""The live flush job registers a larger cascade inside the cool-down of a smaller flush."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.feeds.live import LiveSignals
from bot.jobs.signals import liquidation_check
from bot.services.context import Context
from bot.signals.liquidations import LiquidatedSide, LiquidationEvent
from bot.state.runtime_state import RuntimeState
from bot.state.signals_repo import StoreLiquidationSink
from bot.state.store import Store

NOW = datetime(2025, 10, 10, 20, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def _event(at: datetime, usd: float, n: int = 0) -> LiquidationEvent:
    return LiquidationEvent(
        time=at,
        exchange="binance",
        symbol="BTC/USDT:USDT",
        liquidated_side=LiquidatedSide.LONG,
        quote_notional=Decimal(str(usd)),
        event_id=f"e{at.timestamp()}-{n}",
    )


@pytest.mark.parametrize(("multiple", "fires"), [(2.0, True), (None, False)])
def test_the_cascade_after_a_run_up_flush_registers_live(
    tmp_path: Path, multiple: float | None, fires: bool
) -> None:
    settings = Settings(signals={"fed_source": "file", "flush_escalation_multiple": multiple})
    store = Store.open(f"sqlite:///{tmp_path / 'q.sqlite'}")
    ctx = Context(settings=settings, store=store, clock=None, started_at=NOW)  # type: ignore[arg-type]
    sink = StoreLiquidationSink(store)
    start = NOW - timedelta(days=31)
    sink.write([_event(start + h * HOUR, 4_000_000 / 24) for h in range(24 * 30)])
    # The run-up: 51M USD of longs in the hours before 20:00 (as on 2025-10-10).
    sink.write([_event(NOW - (h + 1) * HOUR, 51_000_000 / 8) for h in range(8)])
    asyncio.run(liquidation_check(ctx, NOW))
    first = RuntimeState(store).last_flush()
    assert first is not None and first["long_notional"] == pytest.approx(51e6)
    # The cascade hours later: 236M in 20:00-24:00, inside the 72 h cool-down.
    sink.write([_event(NOW + h * HOUR, 236_000_000 / 4, n=1) for h in range(4)])
    asyncio.run(liquidation_check(ctx, NOW + 4 * HOUR))
    last = RuntimeState(store).last_flush()
    assert last is not None
    kinds = [e.kind for e in store.recent_journal(50)]
    if fires:
        assert last["time"] == (NOW + 4 * HOUR).isoformat() and kinds.count("flush") == 2
        assert last["long_notional"] == pytest.approx(287e6)
        assert "whose cool-down it breaks" in last["reason"]
        view = LiveSignals.from_settings(settings, store).flush("BTC/USDT", NOW + 5 * HOUR)
        assert view is not None and view.at == NOW + 4 * HOUR
    else:
        assert last == first and kinds.count("flush") == 1
    store.close()
