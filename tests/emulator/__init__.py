"""Loopback emulator of the Binance SPOT REST API subset that ccxt's `binance` class uses.

Start it in-process with `start_emulator()` (or the pytest fixture in `fixtures.py`), or
standalone with `python -m tests.emulator --port N`. Point a ccxt client at it by rewriting
every `urls['api']` entry to the emulator URL + the original path (the ccxt adapter's
`rest_url`). Credentials: api key "emu-key", secret "emu-secret" unless configured.

Orders: MARKET, LIMIT and STOP_LOSS_LIMIT (protective stops: trigger on the scripted best bid,
see engine.py), cancel, and POST /api/v3/order/cancelReplace (replace.py).

Client-side choice for load_markets: the ccxt adapter restricts binance to spot markets
(`options.fetchMarkets.types = ['spot']`) and skips currencies (`has.fetchCurrencies = False`),
so only /api/v3/exchangeInfo is called. An unrestricted ccxt client also works: the emulator
answers /fapi/v1/exchangeInfo and /dapi/v1/exchangeInfo with empty symbol lists, and in sandbox
mode ccxt never calls sapi for currencies.
"""

from tests.emulator.client import EmulatorHandle, start_emulator
from tests.emulator.server import DEFAULT_API_KEY, DEFAULT_API_SECRET, EmulatorServer

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "EmulatorHandle",
    "EmulatorServer",
    "start_emulator",
]
