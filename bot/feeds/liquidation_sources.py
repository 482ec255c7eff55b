"""Live liquidation feeds: ccxt.pro websockets where a venue has them, REST polling elsewhere.

What each venue offers (ccxt 4.5.90) is data in `FEED_CAPABILITIES`; the loops here only
follow it:
- websocket, all markets in one stream: binance (`watch_liquidations_for_symbols([])` =
  `!forceOrder@arr`);
- websocket, several symbols per call: binance, okx (`liquidation-orders`);
- websocket, one symbol per call: bybit (`watch_liquidations(symbol)`, one task per symbol);
- REST `fetch_liquidations(symbol, since)`: gate, htx (deribit has the method but its
  records carry no side, so it is not listed).

Every loop reconnects after an error or a dropped connection with capped exponential backoff
(reset after a good message) and stops when `stop` is set. Persistence goes through a
`LiquidationSink`; the watcher de-duplicates before writing.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import structlog

from bot.signals.liquidation_ccxt import events_from_ccxt
from bot.signals.liquidation_feeds import FEED_CAPABILITIES, FeedMode
from bot.signals.liquidation_payloads import EPOCH, LiquidationPayloadError
from bot.signals.liquidations import LiquidationEvent, LiquidationWindows

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class FeedSpec:
    """One venue to watch. Empty `symbols` means all markets (binance only)."""

    exchange: str
    symbols: tuple[str, ...] = ()
    poll_interval_s: float = 30.0
    rest_limit: int = 100

    def mode(self) -> FeedMode:
        capability = FEED_CAPABILITIES.get(self.exchange)
        if capability is None:
            raise ValueError(f"no public liquidation feed known for {self.exchange!r}")
        if not self.symbols:
            if FeedMode.WS_ALL_MARKETS not in capability.modes:
                raise ValueError(f"{self.exchange}: list symbols (no all-market stream)")
            return FeedMode.WS_ALL_MARKETS
        for mode in capability.modes:
            if mode is not FeedMode.WS_ALL_MARKETS:
                return mode
        raise ValueError(f"{self.exchange}: no per-symbol liquidation feed")


@dataclass(frozen=True)
class Backoff:
    """Delay before reconnect attempt n (1-based): initial * factor**(n-1), capped at max_s."""

    initial_s: float = 1.0
    factor: float = 2.0
    max_s: float = 60.0

    def delay(self, attempt: int) -> float:
        return float(min(self.max_s, self.initial_s * self.factor ** max(0, attempt - 1)))


class LiquidationSink(Protocol):
    """Where new (de-duplicated) events are persisted; the store implements it."""

    def write(self, events: Sequence[LiquidationEvent]) -> None: ...


class MemoryLiquidationSink:
    def __init__(self) -> None:
        self.events: list[LiquidationEvent] = []

    def write(self, events: Sequence[LiquidationEvent]) -> None:
        self.events.extend(events)


EventHandler = Callable[[list[LiquidationEvent]], object]  # a return value is ignored
Sleep = Callable[[float], Awaitable[None]]


async def run_feed(
    client: Any,  # a ccxt.pro exchange or a fake with the methods the mode needs
    spec: FeedSpec,
    on_events: EventHandler,
    stop: asyncio.Event,
    backoff: Backoff | None = None,
    sleep: Sleep = asyncio.sleep,
    symbol: str | None = None,
) -> None:
    """Watch or poll one feed until `stop` is set; errors reconnect with backoff.

    `symbol` selects one symbol for per-symbol modes (bybit); other modes use `spec.symbols`.
    """
    backoff = backoff or Backoff()
    mode = spec.mode()
    since: dict[str, int] = {}
    attempt = 0
    while not stop.is_set():
        try:
            finished, batches = await _until_stopped(
                _next_batches(client, spec, mode, symbol, since), stop
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            attempt += 1
            delay = backoff.delay(attempt)
            log.warning(
                "liquidation_feed_error",
                exchange=spec.exchange,
                mode=str(mode),
                error=type(exc).__name__,
                attempt=attempt,
                retry_in_s=delay,
            )
            await _pause(sleep, delay, stop)
            continue
        if not finished:
            break
        attempt = 0
        events = _normalise(spec.exchange, batches, getattr(client, "markets", None))
        for event in events:
            millis = (event.time - EPOCH) // timedelta(milliseconds=1)
            since[event.symbol] = max(since.get(event.symbol, 0), millis)
        if events:
            on_events(events)
        if mode is FeedMode.REST_POLL:
            await _pause(sleep, spec.poll_interval_s, stop)


async def _next_batches(
    client: Any, spec: FeedSpec, mode: FeedMode, symbol: str | None, since: dict[str, int]
) -> list[Mapping[str, Any]]:
    if mode is FeedMode.WS_ALL_MARKETS:
        return list(await client.watch_liquidations_for_symbols([]))
    if mode is FeedMode.WS_SYMBOLS:
        return list(await client.watch_liquidations_for_symbols(list(spec.symbols)))
    if mode is FeedMode.WS_PER_SYMBOL:
        if symbol is None:
            raise ValueError("per-symbol feed needs a symbol")
        return list(await client.watch_liquidations(symbol))
    collected: list[Mapping[str, Any]] = []
    for name in spec.symbols:
        last = since.get(name)
        fetched = await client.fetch_liquidations(
            name, None if last is None else last + 1, spec.rest_limit
        )
        collected.extend(fetched)
    return collected


def _normalise(
    exchange: str, batch: Sequence[Mapping[str, Any]], markets: Mapping[str, Any] | None
) -> list[LiquidationEvent]:
    events: list[LiquidationEvent] = []
    for raw in batch:
        market = (markets or {}).get(str(raw.get("symbol")))
        try:
            events.extend(events_from_ccxt(exchange, raw, market))
        except LiquidationPayloadError as exc:
            log.warning("liquidation_payload_skipped", exchange=exchange, problem=str(exc))
    return events


async def _until_stopped(
    work: Awaitable[list[Mapping[str, Any]]], stop: asyncio.Event
) -> tuple[bool, list[Mapping[str, Any]]]:
    """Await `work` unless `stop` is set first: a quiet websocket must not block shutdown."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    done, pending = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for waiting in pending:
        waiting.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    if task in done:
        return True, task.result()
    return False, []


async def _pause(sleep: Sleep, seconds: float, stop: asyncio.Event) -> None:
    if stop.is_set() or seconds <= 0:
        return
    sleeper = asyncio.ensure_future(sleep(seconds))
    stopper = asyncio.ensure_future(stop.wait())
    _, pending = await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


class LiquidationWatcher:
    """Runs the feeds, drops duplicates, updates the rolling windows and writes to the sink.

    `client_factory(exchange_id)` builds a ccxt.pro-like client (see `make_ccxt_pro_client`);
    tests pass fakes. Call `totals(now)` on `windows` from a job to read the aggregates.
    """

    def __init__(
        self,
        specs: Sequence[FeedSpec],
        sink: LiquidationSink,
        client_factory: Callable[[str], Any],
        windows: LiquidationWindows | None = None,
        backoff: Backoff | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        for spec in specs:
            spec.mode()  # fail at construction on an unsupported venue
        self.specs = tuple(specs)
        self.sink = sink
        self.windows = windows or LiquidationWindows()
        self._factory = client_factory
        self._backoff = backoff or Backoff()
        self._sleep = sleep

    def ingest(self, events: list[LiquidationEvent]) -> list[LiquidationEvent]:
        """De-duplicate, update windows, persist; returns the new events."""
        fresh = self.windows.add_many(events)
        latest = self.windows.latest_event_time
        if latest is not None:
            self.windows.evict(latest)  # data time, not the clock: bounds memory
        if fresh:
            try:
                self.sink.write(fresh)
            except Exception as exc:  # the feed must survive a store hiccup
                log.error("liquidation_sink_failed", error=type(exc).__name__, events=len(fresh))
        return fresh

    async def run(self, stop: asyncio.Event) -> None:
        clients: dict[str, Any] = {}
        tasks: list[asyncio.Task[None]] = []
        try:
            for spec in self.specs:
                client = clients.get(spec.exchange) or self._factory(spec.exchange)
                clients[spec.exchange] = client
                per_symbol = spec.mode() is FeedMode.WS_PER_SYMBOL
                for symbol in spec.symbols if per_symbol else (None,):
                    tasks.append(
                        asyncio.create_task(
                            run_feed(
                                client, spec, self.ingest, stop, self._backoff, self._sleep, symbol
                            )
                        )
                    )
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for client in clients.values():
                closer = getattr(client, "close", None)
                if closer is not None:
                    try:
                        await closer()
                    except Exception as exc:
                        log.warning("liquidation_client_close_failed", error=type(exc).__name__)


def make_ccxt_pro_client(exchange_id: str) -> Any:
    """A ccxt.pro exchange configured for public liquidation streams (no keys needed)."""
    capability = FEED_CAPABILITIES.get(exchange_id)
    if capability is None:
        raise ValueError(f"no public liquidation feed known for {exchange_id!r}")
    module = importlib.import_module("ccxt.pro")
    exchange_class = getattr(module, exchange_id)
    return exchange_class({"options": dict(capability.ccxt_options)})
