"""Validators and parsers for the human-friendly setting forms (URLs, paths, asset codes, host
lists, `SYMBOL:WEIGHT%` and `ASSET:AMOUNT` lists), shared by the settings sections."""

from __future__ import annotations

import functools
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path


def http_url(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError("must be an http(s) URL such as http://127.0.0.1:8900")
    return value.rstrip("/") if value else value


_HOST_ENTRY = re.compile(
    r"(?P<name>[a-z0-9]([a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(:(?P<port>[0-9]{1,5}))?"
)


def parse_host_list(value: str) -> tuple[str, ...]:
    """`"bot.example.com, Proxy:8443"` -> ("bot.example.com", "proxy:8443"): the names an HTTP
    Host header may carry, lower-case; IPv6 addresses in brackets ([::1]:8321)."""
    entries = [item.strip().lower() for item in value.split(",") if item.strip()]
    if not entries:
        raise ValueError("must list host names such as qtbot.example.com, comma separated")
    for entry in entries:
        match = _HOST_ENTRY.fullmatch(entry)
        if match is None or (match["port"] and not 0 < int(match["port"]) < 65536):
            raise ValueError(
                f"{entry!r} is not a host name or host:port such as qtbot.example.com:443 "
                "(IPv6 in brackets: [::1]:8321)"
            )
    return tuple(entries)


def existing_path(value: Path | None) -> Path | None:
    try:
        missing = value is not None and not value.exists()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise ValueError(f"cannot be used as a path: {exc.strerror}") from None
    if missing:
        raise ValueError("does not exist; give an existing path or leave it empty")
    return value


def asset_codes(value: str) -> str:
    codes = [v.strip().upper() for v in value.split(",") if v.strip()]
    bad = [c for c in codes if not re.fullmatch(r"[A-Z0-9]+", c)]
    if bad or not codes:
        raise ValueError(f"{bad or value!r} are not asset codes such as BTC,ETH")
    return ",".join(codes)


# --- human-friendly list forms -------------------------------------------------------------


def _pairs(value: str, what: str) -> list[tuple[str, str]]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise ValueError(f"must list at least one {what}")
    pairs = []
    for item in items:
        left, sep, right = item.rpartition(":")
        if not sep or not left.strip() or not right.strip():
            raise ValueError(f"{item!r} is not of the form {what}")
        pairs.append((left.strip(), right.strip()))
    return pairs


def finite_number(text: str, item: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} in {item!r} is not a number") from exc
    if not number.is_finite():
        raise ValueError(f"{text!r} in {item!r} is not a finite number")
    return number


# Immutable answer for a string: the jobs ask the settings for their symbols and quote asset
# on every run, and each question parses the allocation again.
@functools.lru_cache(maxsize=64)
def parse_allocation(value: str) -> tuple[tuple[str, Decimal], ...]:
    """`"BTC/USDT:60,ETH/USDT:40"` -> (("BTC/USDT", 60), ...); weights in percent summing to 100."""
    allocation: list[tuple[str, Decimal]] = []
    for symbol, weight_text in _pairs(value, "SYMBOL:WEIGHT%"):
        if not re.fullmatch(r"[A-Z0-9]+/[A-Z0-9]+", symbol):
            raise ValueError(f"{symbol!r} is not a spot symbol such as BTC/USDT")
        if any(symbol == seen for seen, _ in allocation):
            raise ValueError(f"{symbol} is listed twice")
        weight = finite_number(weight_text, f"{symbol}:{weight_text}")
        if not 0 < weight <= 100:
            raise ValueError(f"weight of {symbol} must be above 0 and at most 100")
        allocation.append((symbol, weight))
    total = sum((weight for _, weight in allocation), Decimal(0))
    if abs(total - 100) > Decimal("0.000001"):
        raise ValueError(f"weights sum to {total}, they must sum to 100")
    quotes = {symbol.split("/")[1] for symbol, _ in allocation}
    if len(quotes) > 1:
        raise ValueError(f"all symbols must share one quote currency, got {sorted(quotes)}")
    return tuple(allocation)


def parse_balances(value: str) -> dict[str, Decimal]:
    """`"USDT:10000,BTC:0.1"` -> {"USDT": 10000, "BTC": 0.1}."""
    balances: dict[str, Decimal] = {}
    for asset, amount_text in _pairs(value, "ASSET:AMOUNT"):
        if not re.fullmatch(r"[A-Z0-9]+", asset):
            raise ValueError(f"{asset!r} is not an asset code such as USDT")
        amount = finite_number(amount_text, f"{asset}:{amount_text}")
        if amount < 0:
            raise ValueError(f"balance of {asset} must not be negative")
        balances[asset] = amount
    return balances
