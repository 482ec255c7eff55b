"""`qtbot doctor`'s checks that ask the venue and the liquidation feeds, once each.

The venue client is built the way the daemon builds it (`exchanges.ccxt.client.build_client`:
same testnet switch, same `rest_url` rewrite); in paper mode it is the keyless public client
the paper engine reads prices from. ccxt errors are read through the adapter's one mapping
(`exchanges.ccxt.errors.translate`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from bot.config.settings import ExchangeSettings, Settings
from bot.config.url_secrets import MASK, mask_url_secrets
from bot.feeds.liquidation_sources import FeedSpec, _next_batches, make_ccxt_pro_client
from bot.feeds.live import feed_specs
from bot.ops.doctor import CheckResult, Outcome
from exchanges.ccxt.client import build_client
from exchanges.ccxt.errors import Action, translate
from exchanges.errors import AuthenticationFailed, ExchangeConfigError
from exchanges.venues import VenueSpec, venue_spec

# Binance refuses a signed request stamped more than 1 s ahead of its clock (error -1021);
# other venues allow a few seconds. Half of that is the warning line.
CLOCK_FAIL_MS = 1000.0
CLOCK_WARN_MS = 500.0
# How long to wait for a first liquidation message: the all-market stream sends several a
# minute; a per-symbol stream can stay quiet longer, which is a warning, not a failure.
LIQUIDATION_WAIT_S = 15.0
MAX_DETAIL = 240

ClientFactory = Callable[[str], Any]


def _one_line(text: str, exchange: ExchangeSettings) -> str:
    for secret in (exchange.api_key, exchange.secret, exchange.password):
        if secret is not None and secret.get_secret_value():
            text = text.replace(secret.get_secret_value(), MASK)
    return " ".join(mask_url_secrets(text).split())[:MAX_DETAIL]


def _root_cause(exc: BaseException) -> BaseException:
    seen = [exc]
    while (nxt := seen[-1].__cause__ or seen[-1].__context__) is not None and nxt not in seen:
        seen.append(nxt)
    return seen[-1]


def _reason(exc: BaseException, venue: VenueSpec, exchange: ExchangeSettings) -> str:
    """The mapped reason, and the root cause when it says more (a DNS failure, a refusal)."""
    text = translate(exc, Action.READ, venue).reason
    root = _root_cause(exc)
    if root is not exc:
        text += f" <- {type(root).__name__}: {root}"
    return _one_line(text, exchange)


def venue_client(settings: Settings) -> Any:
    """The ccxt client doctor asks: the account's in testnet/live, the public one in paper."""
    ex = settings.exchange
    keyed = ex.mode != "paper"
    return build_client(
        venue_spec(ex.id),
        ex.mode,
        api_key=ex.api_key.get_secret_value() if keyed and ex.api_key else "",
        secret=ex.secret.get_secret_value() if keyed and ex.secret else "",
        password=ex.password.get_secret_value() if keyed and ex.password else None,
        rest_url=ex.rest_url,
        timeout=ex.timeout_seconds,
        enable_rate_limit=True,
    )


async def venue_results(settings: Settings, client: Any | None = None) -> list[CheckResult]:
    """clock, market data, credentials, permissions: one result each, in that order."""
    ex = settings.exchange
    venue = venue_spec(ex.id)
    try:
        client = client or venue_client(settings)
    except ExchangeConfigError as exc:
        line = _one_line(exc.reason, ex)
        return [CheckResult(name, Outcome.FAIL, line) for name in ("clock", "market data")]
    try:
        return [
            await _clock(client, venue, ex),
            await _market_data(client, venue, settings),
            *await _credentials_and_permissions(client, venue, ex),
        ]
    finally:
        await client.close()


async def _clock(client: Any, venue: VenueSpec, ex: ExchangeSettings) -> CheckResult:
    if not client.has.get("fetchTime"):
        return CheckResult("clock", Outcome.SKIP, f"{ex.id} publishes no server time in ccxt")
    try:
        before = time.time()
        server_ms = float(await client.fetch_time())
        after = time.time()
    except Exception as exc:
        return CheckResult("clock", Outcome.FAIL, f"{ex.id} time: {_reason(exc, venue, ex)}")
    # Our clock minus the venue's, at the middle of the round trip.
    skew_ms = (before + after) / 2 * 1000 - server_ms
    where = "ahead of" if skew_ms > 0 else "behind"
    text = f"local clock {abs(skew_ms) / 1000:.2f} s {where} {ex.id}"
    if abs(skew_ms) >= CLOCK_FAIL_MS:
        return CheckResult(
            "clock",
            Outcome.FAIL,
            f"{text}: the venue refuses signed requests; sync the clock "
            "(timedatectl set-ntp true, or chrony)",
        )
    if abs(skew_ms) >= CLOCK_WARN_MS:
        return CheckResult("clock", Outcome.WARN, f"{text} (fails at 1 s): check NTP")
    return CheckResult("clock", Outcome.PASS, text)


async def _market_data(client: Any, venue: VenueSpec, settings: Settings) -> CheckResult:
    ex = settings.exchange
    source = f"{ex.id} public data" if ex.mode == "paper" else f"{ex.id} {ex.mode}"
    try:
        markets = await client.load_markets()
        missing = [s for s in settings.strategy.symbols if s not in markets]
        if missing:
            return CheckResult(
                "market data", Outcome.FAIL, f"{source}: {', '.join(missing)} not listed"
            )
        prices = []
        for symbol in settings.strategy.symbols:
            ticker = await client.fetch_ticker(symbol)
            prices.append(f"{symbol} {ticker.get('last') or ticker.get('bid')}")
    except Exception as exc:
        return CheckResult("market data", Outcome.FAIL, f"{source}: {_reason(exc, venue, ex)}")
    return CheckResult("market data", Outcome.PASS, f"{source}: {'; '.join(prices)}")


async def _credentials_and_permissions(
    client: Any, venue: VenueSpec, ex: ExchangeSettings
) -> list[CheckResult]:
    if ex.mode == "paper":
        return [
            CheckResult("credentials", Outcome.SKIP, "paper mode: no API key needed"),
            CheckResult("permissions", Outcome.SKIP, "paper mode: no API key needed"),
        ]
    try:
        await client.fetch_balance()
    except Exception as exc:
        mapped = translate(exc, Action.READ, venue)
        if isinstance(mapped, AuthenticationFailed):
            detail = (
                f"{ex.id} {ex.mode} refused the key: {_one_line(mapped.reason, ex)}; check "
                "QTBOT_EXCHANGE__API_KEY/SECRET"
            )
        else:
            detail = f"could not be checked: {_one_line(mapped.reason, ex)}"
        return [
            CheckResult("credentials", Outcome.FAIL, detail),
            CheckResult("permissions", Outcome.SKIP, "not read: no accepted key to read them"),
        ]
    accepted = CheckResult("credentials", Outcome.PASS, f"{ex.id} {ex.mode} accepted the key")
    return [accepted, await _permissions(client, venue, ex)]


async def _permissions(client: Any, venue: VenueSpec, ex: ExchangeSettings) -> CheckResult:
    if ex.id != "binance":
        return CheckResult(
            "permissions",
            Outcome.SKIP,
            f"{ex.id} does not report key permissions through "
            "ccxt: make sure the key cannot withdraw",
        )
    if ex.mode == "testnet":
        return CheckResult(
            "permissions",
            Outcome.SKIP,
            "binance testnet has no permissions endpoint (sapi); "
            "run doctor with the live key to check it",
        )
    try:
        restrictions = await client.sapi_get_account_apirestrictions()
    except Exception as exc:
        return CheckResult(
            "permissions", Outcome.WARN, f"could not be read: {_reason(exc, venue, ex)}"
        )
    return permissions_result(restrictions)


def permissions_result(restrictions: dict[str, Any]) -> CheckResult:
    """Binance's `GET /sapi/v1/account/apiRestrictions` read for people: withdrawals enabled is
    a loud warning, no trading right a failure."""
    if restrictions.get("enableWithdrawals"):
        return CheckResult(
            "permissions",
            Outcome.WARN,
            "WITHDRAWALS ARE ENABLED on this API key: whoever holds "
            "it can move the funds off the account; qtbot never withdraws, so turn off "
            "'Enable Withdrawals' for this key on binance",
        )
    if not restrictions.get("enableSpotAndMarginTrading"):
        return CheckResult(
            "permissions",
            Outcome.FAIL,
            "the key cannot trade spot: turn on 'Enable Spot & "
            "Margin Trading' for this key on binance",
        )
    ip = "restricted to listed IPs" if restrictions.get("ipRestrict") else "any IP"
    return CheckResult("permissions", Outcome.PASS, f"spot trading, no withdrawals, {ip}")


async def liquidation_results(
    settings: Settings, client_factory: ClientFactory = make_ccxt_pro_client
) -> list[CheckResult]:
    """One result per configured feed: the feed's own first read, with a deadline."""
    specs = feed_specs(settings)
    if not specs:
        return [
            CheckResult(
                "liquidations", Outcome.SKIP, "QTBOT_SIGNALS__LIQUIDATION_FEEDS=none: no feed"
            )
        ]
    return [await _one_feed(spec, client_factory) for spec in specs]


async def _one_feed(spec: FeedSpec, client_factory: ClientFactory) -> CheckResult:
    name = f"liquidations ({spec.exchange})"
    symbol = spec.symbols[0] if spec.symbols else None
    try:
        client = client_factory(spec.exchange)
    except Exception as exc:
        return CheckResult(name, Outcome.FAIL, f"{type(exc).__name__}: {exc}"[:MAX_DETAIL])
    try:
        batch = await asyncio.wait_for(
            _next_batches(client, spec, spec.mode(), symbol, {}), LIQUIDATION_WAIT_S
        )
    except TimeoutError:
        return CheckResult(
            name,
            Outcome.WARN,
            f"connected, no liquidation within {LIQUIDATION_WAIT_S:g} s "
            "(a quiet market, or a stalled stream)",
        )
    except Exception as exc:
        root = _root_cause(exc)
        text = f"{type(exc).__name__}: {exc}"
        if root is not exc:
            text += f" <- {type(root).__name__}: {root}"
        return CheckResult(name, Outcome.FAIL, f"{spec.mode()}: {' '.join(text.split())}"[:300])
    finally:
        closer = getattr(client, "close", None)
        if closer is not None:
            await closer()
    return CheckResult(name, Outcome.PASS, f"{spec.mode()}: {len(batch)} liquidation(s) received")
