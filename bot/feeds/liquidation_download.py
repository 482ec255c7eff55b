"""Liquidation history from Bitfinex (the venue that publishes all of it), as bar aggregates.

Bitfinex's public `GET /v2/liquidations/hist?start&end&limit&sort=1` lists every liquidation on
the venue (all markets, oldest first with sort=1, 500 a page). Each entry is
`["pos", POS_ID, MTS, _, SYMBOL, AMOUNT, BASE_PRICE, _, IS_MATCH, IS_MARKET_SOLD, _, PRICE]`;
IS_MATCH 0 is the liquidation itself and 1 its later market execution, so only IS_MATCH 0 is
counted. A positive AMOUNT is a long position liquidated. Size in USD = |AMOUNT| x BASE_PRICE,
for markets quoted in USD or USDt only.

Written as `bitfinex_{timeframe}_{COIN}.csv` (`timestamp,long_liquidation_usd,
short_liquidation_usd`, one row per closed bar, zeros included), the format of
`bot/signals/liquidation_history.py`. A rerun fetches only the bars after the file's last one;
the new file is written to a temporary name and renamed.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.feeds.candle_files import write_atomically

BITFINEX_PUBLIC_URL = "https://api-pub.bitfinex.com"
HISTORY_PATH = "/v2/liquidations/hist"
PAGE_LIMIT = 500
HEADER_LINE = "timestamp,long_liquidation_usd,short_liquidation_usd\n"
BAR_MS = {"1h": 3_600_000, "4h": 14_400_000, "1d": 86_400_000}
_USD_QUOTES = ("USD", "UST")


class LiquidationDownloadFailed(RuntimeError):
    """One line; the file is unchanged."""


@dataclass(frozen=True)
class LiquidationResult:
    coin: str
    path: Path
    added_bars: int
    events: int
    rows: int


def coin_of(market_id: str) -> tuple[str, str] | None:
    """Bitfinex market id -> (base, quote): `tBTCUSD` -> BTC, USD; `tBTCF0:USTF0` -> BTC, UST."""
    name = market_id[1:] if market_id.startswith("t") else market_id
    if ":" in name:
        base, quote = name.split(":", 1)
    elif len(name) == 6:
        base, quote = name[:3], name[3:]
    else:
        return None
    return base.removesuffix("F0"), quote.removesuffix("F0")


def _entries(page: Any) -> list[list[Any]]:
    """The entries of one page; Bitfinex wraps each in a list of its own."""
    out = []
    for item in page if isinstance(page, list) else []:
        entry = item[0] if isinstance(item, list) and item and isinstance(item[0], list) else item
        if isinstance(entry, list) and len(entry) >= 9 and entry[0] == "pos":
            out.append(entry)
    return out


class BitfinexLiquidations:
    """Pages of liquidations over plain HTTP; `min_interval_s` between requests keeps well
    under the endpoint's rate limit; 429, 5xx and network errors are retried a few times."""

    def __init__(
        self,
        base_url: str = BITFINEX_PUBLIC_URL,
        *,
        timeout_s: float = 10.0,
        min_interval_s: float = 1.0,
        attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = base_url.rstrip("/") + HISTORY_PATH
        self.timeout_s = timeout_s
        self.min_interval_s = min_interval_s
        self.attempts = attempts
        self.sleep = sleep
        self._last_request = 0.0

    def page(self, start_ms: int, end_ms: int) -> list[list[Any]]:
        query = {"start": start_ms, "end": end_ms, "limit": PAGE_LIMIT, "sort": 1}
        url = f"{self.url}?{urllib.parse.urlencode(query)}"
        problem = ""
        for attempt in range(1, self.attempts + 1):
            wait = self.min_interval_s - (time.monotonic() - self._last_request)
            if wait > 0:
                self.sleep(wait)
            self._last_request = time.monotonic()
            try:
                with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                    return _entries(json.loads(response.read()))
            except urllib.error.HTTPError as exc:
                retry_after = exc.headers.get("Retry-After") if exc.headers else None
                exc.close()
                if exc.code != 429 and exc.code < 500:
                    refused = f"bitfinex refused {url}: HTTP {exc.code}"
                    raise LiquidationDownloadFailed(refused) from None
                problem = f"HTTP {exc.code}"
                delay = float(retry_after) if retry_after else 2.0**attempt
            except (urllib.error.URLError, OSError, ValueError) as exc:
                problem = type(exc).__name__
                delay = 2.0**attempt
            if attempt < self.attempts:
                self.sleep(delay)
        raise LiquidationDownloadFailed(
            f"bitfinex liquidations: gave up after {self.attempts} attempts, last {problem}"
        )

    def events(self, start_ms: int, end_ms: int) -> Iterable[list[Any]]:
        """Every liquidation with start_ms <= MTS < end_ms, once each, oldest first."""
        seen: set[tuple[Any, ...]] = set()
        cursor = start_ms
        while cursor < end_ms:
            fresh = []
            page = self.page(cursor, end_ms - 1)
            for entry in page:
                key = (entry[1], entry[2], entry[8])
                if key not in seen and start_ms <= int(entry[2]) < end_ms:
                    seen.add(key)
                    fresh.append(entry)
            if not fresh:
                return
            yield from fresh
            if len(page) < PAGE_LIMIT:  # a short page is the last one
                return
            # Several liquidations can share the last millisecond: ask from it again.
            cursor = max(int(e[2]) for e in fresh)


def aggregate(
    events: Iterable[Sequence[Any]], coins: Sequence[str], start_ms: int, end_ms: int, bar_ms: int
) -> tuple[dict[str, list[list[float]]], dict[str, int]]:
    """Per coin, [long_usd, short_usd] per bar from start_ms (aligned) to end_ms."""
    bars = {c: [[0.0, 0.0] for _ in range((end_ms - start_ms) // bar_ms)] for c in coins}
    counts = dict.fromkeys(coins, 0)
    for entry in events:
        pair = coin_of(str(entry[4]))
        if pair is None or pair[0] not in bars or not pair[1].startswith(_USD_QUOTES):
            continue
        if entry[8] != 0:
            continue
        index = (int(entry[2]) - start_ms) // bar_ms
        if not 0 <= index < len(bars[pair[0]]):
            continue
        amount, price = float(entry[5]), float(entry[6])
        bars[pair[0]][index][0 if amount > 0 else 1] += abs(amount) * price
        counts[pair[0]] += 1
    return bars, counts


def _last_bar(path: Path) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    rows = [line for line in lines[1:] if line.strip()]
    if lines and lines[0].strip() != HEADER_LINE.strip():
        raise LiquidationDownloadFailed(f"{path}: not a liquidation aggregate file")
    return int(rows[-1].split(",")[0]) if rows else None


def download_liquidations(
    source: BitfinexLiquidations,
    coins: Sequence[str],
    timeframe: str,
    start_ms: int | None,
    end_ms: int,
    datadir: Path,
    now_ms: int,
) -> list[LiquidationResult]:
    """Extend `bitfinex_{timeframe}_{COIN}.csv` for each coin up to the last closed bar."""
    bar_ms = BAR_MS[timeframe]
    paths = {c: datadir / f"bitfinex_{timeframe}_{c}.csv" for c in coins}
    lasts = {c: _last_bar(p) for c, p in paths.items()}
    starts = [last + bar_ms if last is not None else start_ms for last in lasts.values()]
    if any(s is None for s in starts):
        raise LiquidationDownloadFailed("--from is needed for a first liquidation download")
    start = min(s for s in starts if s is not None) // bar_ms * bar_ms
    end = min(end_ms, now_ms) // bar_ms * bar_ms  # closed bars only
    bars, counts = aggregate(source.events(start, end), coins, start, end, bar_ms)
    results = []
    for coin in coins:
        first_new = starts[list(coins).index(coin)] or start
        lines = [
            f"{start + i * bar_ms},{long_usd!r},{short_usd!r}\n"
            for i, (long_usd, short_usd) in enumerate(bars[coin])
            if start + i * bar_ms >= first_new
        ]
        path = paths[coin]
        old = path.read_text(encoding="utf-8") if path.exists() else HEADER_LINE
        if lines:
            write_atomically(path, (old + "".join(lines)).encode())
        rows = len([x for x in (old + "".join(lines)).splitlines()[1:] if x.strip()])
        results.append(LiquidationResult(coin, path, len(lines), counts[coin], rows))
    return results
