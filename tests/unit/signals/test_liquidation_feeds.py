"""Liquidation feeds with a fake ccxt-like client: reconnects, backoff, polling, sink."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from bot.feeds.liquidation_sources import (
    Backoff,
    FeedSpec,
    LiquidationWatcher,
    MemoryLiquidationSink,
    make_ccxt_pro_client,
    run_feed,
)
from bot.signals.liquidation_feeds import FEED_CAPABILITIES, FeedMode
from bot.signals.liquidations import LiquidatedSide, LiquidationEvent
from tests.unit.signals.data_paths import FIXTURES

UNIFIED = json.loads((FIXTURES / "liquidations" / "ccxt_unified.json").read_text())
BINANCE_LONG = UNIFIED["binance"][0]


def binance_liq(timestamp: int, price: float = 100.0) -> dict[str, Any]:
    return {**BINANCE_LONG, "timestamp": timestamp, "price": price}


class FakeClient:
    """Replays a script of results; an Exception in the script is raised, then the next."""

    def __init__(self, exchange: str, script: Sequence[Any], stop: asyncio.Event) -> None:
        self.id = exchange
        self.script = list(script)
        self.stop = stop
        self.calls: list[tuple[str, Any]] = []
        self.closed = False
        self.markets: dict[str, Any] = {}

    async def _next(self, name: str, arg: Any) -> list[dict[str, Any]]:
        self.calls.append((name, arg))
        await asyncio.sleep(0)
        if not self.script:
            self.stop.set()
            return []
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        return list(item)

    async def watch_liquidations_for_symbols(self, symbols: list[str]) -> list[dict[str, Any]]:
        return await self._next("watch_for_symbols", tuple(symbols))

    async def watch_liquidations(self, symbol: str) -> list[dict[str, Any]]:
        return await self._next("watch", symbol)

    async def fetch_liquidations(
        self, symbol: str, since: int | None, limit: int
    ) -> list[dict[str, Any]]:
        return await self._next("fetch", (symbol, since))

    async def close(self) -> None:
        self.closed = True


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout=5))


def test_dropped_connections_reconnect_with_backoff_reset_after_a_message() -> None:
    async def scenario() -> tuple[list[LiquidationEvent], list[float], FakeClient]:
        stop = asyncio.Event()
        client = FakeClient(
            "binance",
            [
                ConnectionResetError("socket closed"),
                TimeoutError("no pong"),
                [binance_liq(1_760_130_903_120)],
                OSError("network unreachable"),
                [binance_liq(1_760_130_903_120), binance_liq(1_760_130_904_000, 99.0)],
            ],
            stop,
        )
        sleeps = Sleeps()
        watcher = LiquidationWatcher(
            [FeedSpec("binance")], MemoryLiquidationSink(), lambda _: client, sleep=sleeps
        )
        await watcher.run(stop)
        assert isinstance(watcher.sink, MemoryLiquidationSink)
        return watcher.sink.events, sleeps.delays, client

    events, delays, client = run(scenario())
    assert delays == [1.0, 2.0, 1.0]
    assert len(events) == 2  # the repeated push is dropped
    assert all(e.liquidated_side is LiquidatedSide.LONG for e in events)
    assert client.calls[0] == ("watch_for_symbols", ())  # all-market stream
    assert client.closed


def test_backoff_is_exponential_and_capped() -> None:
    backoff = Backoff(initial_s=1, factor=2, max_s=30)
    assert [backoff.delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def test_bybit_runs_one_watch_per_symbol() -> None:
    async def scenario() -> FakeClient:
        stop = asyncio.Event()
        client = FakeClient("bybit", [[], []], stop)
        watcher = LiquidationWatcher(
            [FeedSpec("bybit", ("BTC/USDT:USDT", "ETH/USDT:USDT"))],
            MemoryLiquidationSink(),
            lambda _: client,
            sleep=Sleeps(),
        )
        await watcher.run(stop)
        return client

    client = run(scenario())
    watched = {arg for name, arg in client.calls if name == "watch"}
    assert watched == {"BTC/USDT:USDT", "ETH/USDT:USDT"}


def test_rest_polling_asks_only_for_newer_records() -> None:
    gate = UNIFIED["gate"][0]

    async def scenario() -> tuple[FakeClient, list[float], list[LiquidationEvent]]:
        stop = asyncio.Event()
        client = FakeClient("gate", [[gate], [], RuntimeError("502"), [gate]], stop)
        client.markets = {"BTC/USDT:USDT": {"contractSize": 0.0001, "inverse": False}}
        sleeps = Sleeps()
        received: list[LiquidationEvent] = []
        spec = FeedSpec("gate", ("BTC/USDT:USDT",), poll_interval_s=30)
        await run_feed(client, spec, received.extend, stop, Backoff(), sleeps)
        return client, sleeps.delays, received

    client, delays, received = run(scenario())
    sinces = [arg[1] for name, arg in client.calls if name == "fetch"]
    assert sinces[0] is None
    assert all(s == gate["timestamp"] + 1 for s in sinces[1:])
    assert delays == [30, 30, 1.0, 30]
    assert received[0].liquidated_side is LiquidatedSide.SHORT
    assert received[0].quote_notional == Decimal("463.155")


def test_malformed_item_is_skipped_and_the_rest_kept() -> None:
    bad = {**BINANCE_LONG, "side": None}

    async def scenario() -> list[LiquidationEvent]:
        stop = asyncio.Event()
        client = FakeClient("binance", [[bad, binance_liq(1_760_130_905_000)]], stop)
        received: list[LiquidationEvent] = []
        await run_feed(client, FeedSpec("binance"), received.extend, stop, sleep=Sleeps())
        return received

    assert len(run(scenario())) == 1


def test_sink_failure_does_not_stop_the_feed() -> None:
    class BrokenSink:
        def __init__(self) -> None:
            self.calls = 0

        def write(self, events: Sequence[LiquidationEvent]) -> None:
            self.calls += 1
            raise RuntimeError("database is locked")

    async def scenario() -> tuple[BrokenSink, FakeClient]:
        stop = asyncio.Event()
        client = FakeClient("binance", [[binance_liq(1_000)], [binance_liq(2_000)]], stop)
        sink = BrokenSink()
        watcher = LiquidationWatcher([FeedSpec("binance")], sink, lambda _: client, sleep=Sleeps())
        await watcher.run(stop)
        return sink, client

    sink, client = run(scenario())
    assert sink.calls == 2 and len(client.calls) == 3


def test_stop_interrupts_a_long_backoff_pause() -> None:
    async def scenario() -> None:
        stop = asyncio.Event()
        client = FakeClient("binance", [ConnectionError("down")] * 3, stop)
        task = asyncio.create_task(
            run_feed(client, FeedSpec("binance"), lambda _: None, stop, Backoff(initial_s=60))
        )
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=1)

    run(scenario())


def test_stop_ends_a_watch_that_never_returns() -> None:
    class SilentClient(FakeClient):
        async def watch_liquidations_for_symbols(self, symbols: list[str]) -> list[Any]:
            await asyncio.Event().wait()  # a quiet stream
            return []

    async def scenario() -> None:
        stop = asyncio.Event()
        client = SilentClient("binance", [], stop)
        watcher = LiquidationWatcher(
            [FeedSpec("binance")], MemoryLiquidationSink(), lambda _: client
        )
        task = asyncio.create_task(watcher.run(stop))
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=1)
        assert client.closed

    run(scenario())


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        pytest.param(FeedSpec("bybit"), "list symbols", id="bybit_has_no_all_market_stream"),
        pytest.param(FeedSpec("kraken", ("BTC/USD",)), "no public liquidation", id="kraken"),
    ],
)
def test_unsupported_feed_is_refused_at_construction(spec: FeedSpec, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        LiquidationWatcher([spec], MemoryLiquidationSink(), lambda _: None)


def test_capability_table_agrees_with_installed_ccxt() -> None:
    async def check() -> None:
        for exchange, capability in FEED_CAPABILITIES.items():
            client = make_ccxt_pro_client(exchange)
            try:
                has = client.has
                for mode in capability.modes:
                    if mode is FeedMode.REST_POLL:
                        assert has.get("fetchLiquidations") is True, exchange
                    elif mode is FeedMode.WS_PER_SYMBOL:
                        assert has.get("watchLiquidations") is True, exchange
                    else:
                        assert has.get("watchLiquidationsForSymbols") is True, exchange
            finally:
                await client.close()

    run(check())
