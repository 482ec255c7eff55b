"""The daemon's jobs in-process over real HTTP against the loopback Binance emulator, with the
exchange stop on: the store, the composition root, the ccxt adapter and the jobs are the
daemon's own; the test calls the jobs with the times it chooses instead of a scheduler."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from bot.config.settings import Settings
from bot.jobs.risk_check import risk_check
from bot.ops.status import status_view
from bot.orders.intents import OrderIntent, OrderRecord
from bot.orders.protective_stop import KIND
from bot.runtime.compose import compose
from bot.services.clock import SystemClock
from bot.services.context import JobContext
from bot.state.store import Store
from bot.strategy.inputs import MemoryPriceHistory, Signals
from bot.strategy.params import StrategyParams
from exchanges.base import OrderType, Side
from tests.contract.ccxt_factory import build_adapter
from tests.emulator import EmulatorHandle
from tests.integration.emulator_client import call

BTC = "BTC/USDT"
T = TypeVar("T")
# Pinned, not defaults: the hard stop (20 % below entry) is the stop until the last tier.
RISK = {
    "stop_loss_pct": 20,
    "trailing_stop_pct": 15,
    "trailing_arm_after_tiers": None,
    "exchange_stop": True,
    "exchange_stop_min_interval_seconds": 60,
    "check_seconds": 60,
}


@dataclass
class StopBench:
    """One store and one adapter on `emulator`; `now` moves only when the test says so."""

    ctx: JobContext
    emulator: EmulatorHandle
    now: datetime

    @property
    def orders(self) -> Any:
        return self.ctx.services.orders

    def later(self, seconds: float = 60) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    async def tick(self, seconds: float = 60) -> None:
        """One risk check, `seconds` after the previous moment."""
        await risk_check(self.ctx, self.later(seconds))

    async def buy(self, amount: str, cause: str = "plan:p1|tranche:1") -> OrderRecord:
        record: OrderRecord = await self.orders.submit(
            OrderIntent(
                cause=cause,
                kind="tranche",
                symbol=BTC,
                side=Side.BUY,
                type=OrderType.MARKET,
                amount=Decimal(amount),
                reason="test tranche",
            ),
            self.now,
        )
        return record

    async def market(self, bid: str, qty: str = "5") -> None:
        """Move the emulator's book (resting orders the new book crosses fill)."""
        ask = str(Decimal(bid) + Decimal("0.5"))
        await asyncio.to_thread(self.emulator.set_market, "BTCUSDT", bid, ask, qty=qty, last=bid)

    def stops(self) -> list[OrderRecord]:
        return [r for r in self.orders.repo.all(BTC) if r.kind == KIND]

    def venue_stops(self) -> list[dict[str, Any]]:
        """The stop-loss-limit orders the venue lists as open (its own view)."""
        status, rows = call(self.emulator, "GET", "/api/v3/openOrders", {"symbol": "BTCUSDT"})
        assert status == 200, rows
        return [r for r in rows if r["type"] == "STOP_LOSS_LIMIT"]

    def venue_sells(self) -> list[dict[str, Any]]:
        """Every sell order the venue has seen (any state), in order."""
        return [o for o in self.emulator.state()["orders"] if o["side"] == "SELL"]

    def cancel_by_hand(self, client_order_id: str) -> None:
        status, body = call(
            self.emulator,
            "DELETE",
            "/api/v3/order",
            {"symbol": "BTCUSDT", "origClientOrderId": client_order_id},
        )
        assert status == 200, body

    def journal(self, kind: str) -> list[Any]:
        return [e for e in self.ctx.store.recent_journal(500) if e.kind == kind]

    def status(self, at: datetime | None = None) -> dict[str, Any]:
        return status_view(self.ctx.settings, self.ctx.store, at or self.now)

    def sent_twice(self) -> list[str]:
        creates = self.emulator.state()["order_creates"]
        return sorted(cid for cid, n in creates.items() if n > 1)


def open_bench(
    tmp_path: Path,
    emulator: EmulatorHandle,
    *,
    signals: Signals | None = None,
    strategy: StrategyParams | None = None,
    **risk: Any,
) -> StopBench:
    emulator.set_balances(USDT="10000", BTC="0", ETH="0", SOL="0")
    emulator.set_market("BTCUSDT", "50000", "50000.5", qty="5")
    settings = Settings(risk={**RISK, **risk}, exchange={"id": "binance"})
    ctx = compose(
        settings,
        store=Store.open(f"sqlite:///{tmp_path / 'bot.sqlite'}"),
        clock=SystemClock(),
        exchange=build_adapter(emulator),
        price_history=MemoryPriceHistory(),
        signals=signals,
        strategy_params=strategy,
    )
    return StopBench(ctx, emulator, datetime.now(UTC))


def run(
    tmp_path: Path,
    emulator: EmulatorHandle,
    scenario: Callable[[StopBench], Awaitable[T]],
    **options: Any,
) -> T:
    bench = open_bench(tmp_path, emulator, **options)

    async def main() -> T:
        try:
            return await scenario(bench)
        finally:
            await bench.ctx.services.exchange.close()

    try:
        return asyncio.run(main())
    finally:
        bench.ctx.store.close()
