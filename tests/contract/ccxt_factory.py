"""The "ccxt_emulator" venue of the contract suite: `CcxtExchange` over real HTTP against the
loopback Binance emulator (tests/emulator), in testnet mode with `rest_url` pointing at it.

Emulator matching happens when the book is scripted, so `advance()` has nothing left to do.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal

from exchanges.ccxt.adapter import CcxtExchange
from exchanges.retry import RetryPolicy
from tests.contract.harness import START_BTC, START_USDT
from tests.emulator import EmulatorHandle, start_emulator

FAST_RETRIES = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.5)


@dataclass
class EmulatorHarness:
    adapter: CcxtExchange
    emulator: EmulatorHandle

    async def set_market(
        self,
        symbol: str,
        bid: Decimal,
        ask: Decimal,
        depth: Decimal = Decimal("1"),
        levels: int = 5,
    ) -> None:
        await asyncio.to_thread(
            self.emulator.set_market,
            symbol,
            bid,
            ask,
            levels=levels,
            qty=depth,
            gap=Decimal(1),
            last=bid,
        )

    async def advance(self) -> None:
        """Nothing to do: the emulator fills resting orders as soon as the book crosses them."""


def build_adapter(emulator: EmulatorHandle, **overrides: object) -> CcxtExchange:
    """A binance-testnet adapter aimed at `emulator`, with short timeouts and fast retries."""
    options: dict[str, object] = {
        "rest_url": emulator.url,
        "timeout": 2.0,
        "enable_rate_limit": False,
        "retry_policy": FAST_RETRIES,
    }
    options.update(overrides)
    adapter = CcxtExchange(
        "binance",
        "testnet",
        emulator.api_key,
        emulator.api_secret,
        **options,  # type: ignore[arg-type]
    )
    # ccxt sleeps 250 ms on close for TLS shutdown; plain loopback HTTP has none to wait for.
    adapter.client.timeout_on_exit = 0
    return adapter


@asynccontextmanager
async def open_harness() -> AsyncIterator[EmulatorHarness]:
    emulator = await asyncio.to_thread(start_emulator)
    try:
        await asyncio.to_thread(
            emulator.set_balances, USDT=START_USDT, BTC=START_BTC, ETH="0", SOL="0"
        )
        adapter = build_adapter(emulator)
        try:
            yield EmulatorHarness(adapter=adapter, emulator=emulator)
        finally:
            await adapter.close()
    finally:
        await asyncio.to_thread(emulator.stop)
