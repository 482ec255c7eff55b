"""GET /api/v3/klines as Binance answers it, over flat or synthetic history.

Binance: `symbol`, `interval`, optional `startTime` / `endTime` (ms, both inclusive bounds on
the open time), `limit` (default 500, at most 1000); rows `[openTime, open, high, low, close,
volume, closeTime, quoteVolume, trades, takerBase, takerQuote, "0"]`, numbers as strings,
oldest first, the current (still open) candle included. Request weight 2.

History (`POST /_emu/config {"candles": ...}`):
- "flat" (default): every candle at the book's reference price, volume 0, so the daemon's
  anti-chase check sees the price at its own average;
- "synthetic": a deterministic walk that is a pure function of (symbol, interval, open time),
  starting at `SYNTHETIC_LISTED_MS`; the same request always gives the same bytes, which the
  download tests compare.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from tests.emulator.catalog import fmt

KLINES_WEIGHT = 2
MAX_LIMIT = 1000
SYNTHETIC_LISTED_MS = 1_483_228_800_000  # 2017-01-01 UTC: nothing older is served
INTERVAL_SECONDS = {
    "1m": 60,
    "3m": 180,
    "5m": 300,
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "2h": 7200,
    "4h": 14400,
    "6h": 21600,
    "8h": 28800,
    "12h": 43200,
    "1d": 86400,
    "3d": 259200,
}
CANDLE_MODES = ("flat", "synthetic")


def _units(*parts: object) -> list[float]:
    """Five deterministic numbers in [0, 1) from the parts (one hash: cheap per row)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=40).digest()
    return [int.from_bytes(digest[i : i + 8], "big") / 2**64 for i in range(0, 40, 8)]


def synthetic_row(symbol: str, open_ms: int, step_ms: int, base: Decimal) -> list[Any]:
    """One candle of the synthetic history: prices within +-25 % of `base`."""
    return list(_synthetic_row(symbol, open_ms, step_ms, float(base)))


@functools.lru_cache(maxsize=100_000)  # tests download the same days several times
def _synthetic_row(symbol: str, open_ms: int, step_ms: int, base: float) -> tuple[Any, ...]:
    level = base * (0.75 + 0.5 * _units(symbol, open_ms // 86_400_000)[0])
    uo, uc, uh, ul, uv = _units(symbol, open_ms)
    o = level * (1 + 0.01 * (uo - 0.5))
    c = level * (1 + 0.01 * (uc - 0.5))
    h = max(o, c) * (1 + 0.002 * uh)
    low = min(o, c) * (1 - 0.002 * ul)
    cells = [f"{x:.2f}000000" for x in (o, h, low, c)]
    return (open_ms, *cells, f"{100 * uv:.5f}000", open_ms + step_ms - 1, "0", 1, "0", "0", "0")


def klines(
    params: Mapping[str, str],
    now_ms: int,
    mode: str,
    symbol: str,
    reference: Callable[[], Decimal | None],
) -> tuple[int, Any]:
    seconds = INTERVAL_SECONDS.get(params.get("interval", ""))
    if seconds is None:
        return 400, {"code": -1120, "msg": "Invalid interval."}
    step = seconds * 1000
    limit = int(params.get("limit", 500))
    if not 1 <= limit <= MAX_LIMIT:
        return 400, {"code": -1130, "msg": "Data sent for parameter 'limit' is not valid."}
    end = min(int(params.get("endTime", now_ms)), now_ms)
    if "startTime" in params:
        start = -(-int(params["startTime"]) // step) * step  # the first open at or after it
    else:
        start = (end // step - limit + 1) * step
    price = reference()
    if price is None:
        return 200, []
    if mode == "synthetic":
        start = max(start, SYNTHETIC_LISTED_MS)
    px = fmt(price)
    rows: list[Any] = []
    for open_ms in range(start, end + 1, step):
        if mode == "synthetic":
            rows.append(synthetic_row(symbol, open_ms, step, price))
        else:
            rows.append([open_ms, px, px, px, px, "0", open_ms + step - 1, "0", 0, "0", "0", "0"])
        if len(rows) >= limit:
            break
    return 200, rows
