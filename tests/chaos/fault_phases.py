"""The fault campaign's phases: what the venue does wrong, one family at a time.

Faults on order placement are armed for a few hits and stay armed for the phase, so they land
on whatever the bot sends while they are armed; throttling and maintenance hit every request
of the phase. Paths are Binance's (the emulator's): placing is POST /api/v3/order, lookups by
client id GET /api/v3/order, fills GET /api/v3/myTrades, balances GET /api/v3/account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.chaos.fault_emulator import FaultyEmulatorServer
from tests.emulator.client import EmulatorHandle

ORDER = "/api/v3/order"
TRADES = "/api/v3/myTrades"
ACCOUNT = "/api/v3/account"
BOOK_TICKER = "/api/v3/ticker/bookTicker"
TICKER_24H = "/api/v3/ticker/24hr"
DEPTH = "/api/v3/depth"

Arm = Callable[[FaultyEmulatorServer, EmulatorHandle], None]


@dataclass(frozen=True)
class Phase:
    name: str
    description: str
    arm: Arm
    disarm: Arm | None = None
    throttled: bool = False  # every request answered 429/418/503 with Retry-After: rate checked
    market_bias: float = 1.0  # < 1 pushes the market down through resting buy limits
    known_bug: str | None = None  # the pinning test, while the bug is open


def _nothing(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    return None


def _order_timeouts(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    # The emulator places the order, then holds the reply past the bot's 3 s timeout.
    emu.add_fault("timeout", method="POST", path=ORDER, times=3, delay=4.5)
    emu.add_fault("timeout", method="GET", path=TRADES, times=1, delay=4.5)


def _dropped(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    emu.add_fault("drop", method="POST", path=ORDER, times=3, accept=True)
    emu.add_fault("drop", method="GET", path=ORDER, times=2)
    emu.add_fault("drop", method="GET", path=TRADES, times=2)
    emu.add_fault("drop", method="GET", path=ACCOUNT, times=2)


def _server_errors(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    # A 500 *after* the venue processed the order: its outcome is unknown to the bot.
    emu.add_fault("status", method="POST", path=ORDER, times=3, status=500, accept=True)
    emu.add_fault("status", method="GET", path=ACCOUNT, times=3, status=502)
    emu.add_fault("status", method="GET", path=TRADES, times=3, status=503)
    emu.add_fault("status", method="GET", path=ORDER, times=2, status=504)


def _rate_limited(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    emu.add_fault("status", times=None, status=429, retry_after="1")


def _banned(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    emu.add_fault("status", times=None, status=418, retry_after="3")


def _malformed(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    # Truncated JSON after processing: the order exists, the reply cannot be read.
    emu.add_fault("malformed", method="POST", path=ORDER, times=3)
    for path in (TRADES, ACCOUNT, ORDER, BOOK_TICKER, TICKER_24H, DEPTH):
        emu.add_fault("malformed", method="GET", path=path, times=2)


def _missing_order_fields(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    server.drop_fields("POST", ORDER, ("status", "executedQty", "fills"), times=3)
    server.drop_fields("GET", ORDER, ("status", "executedQty"), times=3)


def _missing_trade_fields(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    # Every fill sync of the phase, while the market falls through resting buy limits.
    server.drop_fields("GET", TRADES, ("qty", "commission"), times=1000)


def _missing_balance_fields(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    server.drop_fields("GET", ACCOUNT, ("free", "locked"), times=3)


def _missing_market_fields(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    for path in (BOOK_TICKER, TICKER_24H):
        server.drop_fields("GET", path, ("bidPrice", "askPrice", "lastPrice"), times=3)
    server.drop_fields("GET", DEPTH, ("bids",), times=3)


def _clock_behind(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    # The venue's clock 4 s behind ours: every signed request is "ahead of the server" (-1021)
    # until the client resynchronises its time difference.
    emu.configure(time_offset_ms=-4000)


def _clock_ahead(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    # 12 s ahead: beyond any recvWindow, requests are "outside of the recvWindow" (-1021).
    emu.configure(time_offset_ms=12_000)


def _clock_back(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    emu.configure(time_offset_ms=0)


def _maintenance(server: FaultyEmulatorServer, emu: EmulatorHandle) -> None:
    emu.add_fault("status", times=None, status=503, retry_after="30")


PINS = "tests/chaos/test_venue_replies.py::"

PHASES: tuple[Phase, ...] = (
    Phase("baseline", "none", _nothing),
    Phase(
        "order_timeout",
        "POST order: reply held 4.5 s after placing (x3); trades x1",
        _order_timeouts,
    ),
    Phase(
        "dropped",
        "connection closed: POST order after placing (x3), lookups, trades, account",
        _dropped,
    ),
    Phase(
        "server_errors",
        "500 after placing (x3); 502 account, 503 trades, 504 lookup",
        _server_errors,
    ),
    Phase("rate_limit_429", "every request 429, Retry-After 1", _rate_limited, throttled=True),
    Phase("ban_418", "every request 418, Retry-After 3", _banned, throttled=True),
    Phase("malformed", "truncated JSON: POST order (x3), each read endpoint (x2)", _malformed),
    Phase(
        "missing_order_fields",
        "status/executedQty dropped from order replies (x3 each)",
        _missing_order_fields,
        known_bug=PINS + "test_order_reply_without_status_is_not_read_as_open",
    ),
    Phase(
        "missing_trade_fields",
        "qty/commission dropped from every trades reply; market pushed 3 % down",
        _missing_trade_fields,
        market_bias=0.97,
        known_bug=PINS + "test_trade_reply_without_quantity_is_not_read_as_a_zero_fill",
    ),
    Phase(
        "missing_balance_fields",
        "free/locked dropped from account replies (x3)",
        _missing_balance_fields,
        known_bug=PINS + "test_account_reply_without_amounts_is_not_read_as_an_empty_account",
    ),
    Phase(
        "missing_market_fields",
        "prices dropped from tickers, bids from the book (x3 each)",
        _missing_market_fields,
    ),
    Phase("clock_behind", "venue clock -4 s: -1021 ahead of server", _clock_behind, _clock_back),
    Phase("clock_ahead", "venue clock +12 s: -1021 outside recvWindow", _clock_ahead, _clock_back),
    Phase(
        "maintenance",
        "every request 503, Retry-After 30",
        _maintenance,
        throttled=True,
        known_bug=PINS + "test_a_long_retry_after_holds_every_request_until_it_expires",
    ),
)

PHASES_BY_NAME = {p.name: p for p in PHASES}
