"""Building and configuring the ccxt instance behind `CcxtExchange` (no network here)."""

from __future__ import annotations

from typing import Any

import ccxt.async_support as ccxt_async  # type: ignore[import-untyped]  # ccxt ships no stubs
from ccxt.base import errors as ccxt_errors  # type: ignore[import-untyped]  # ccxt ships no stubs

from exchanges.ccxt.urls import rewrite_api_urls
from exchanges.errors import ExchangeConfigError
from exchanges.venues import TestnetMethod, VenueSpec


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _plain(value: Any) -> Any:
    """MappingProxy trees from `VenueSpec.ccxt_config` -> fresh dicts ccxt may mutate."""
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def enable_testnet(client: ccxt_async.Exchange, venue: VenueSpec) -> None:
    """Point the client at the venue's testnet or demo environment, or explain why not."""
    exchange_id = venue.exchange_id
    if venue.testnet is TestnetMethod.DEMO:
        try:
            client.enable_demo_trading(True)
        except (ccxt_errors.NotSupported, AttributeError, TypeError, KeyError) as exc:
            raise ExchangeConfigError(
                f"{exchange_id} has no demo trading in ccxt; use paper mode instead"
            ) from exc
        return
    if venue.testnet is None or not client.urls.get("test"):
        raise ExchangeConfigError(
            f"{exchange_id} has no testnet (ccxt lists no sandbox URL for it); "
            "use paper mode, or live with explicit confirmation"
        )
    try:
        client.set_sandbox_mode(True)
    except (ccxt_errors.NotSupported, TypeError, KeyError) as exc:
        raise ExchangeConfigError(f"{exchange_id} sandbox mode failed in ccxt: {exc}") from exc


def build_client(
    venue: VenueSpec,
    mode: str,
    *,
    api_key: str,
    secret: str,
    password: str | None,
    rest_url: str | None,
    timeout: float,
    enable_rate_limit: bool,
) -> ccxt_async.Exchange:
    """A configured ccxt.async_support instance; raises ExchangeConfigError on bad settings."""
    exchange_id = venue.exchange_id
    cls = getattr(ccxt_async, exchange_id, None)
    if exchange_id not in ccxt_async.exchanges or not isinstance(cls, type):
        raise ExchangeConfigError(f"unknown ccxt exchange {exchange_id!r}")
    if venue.password_required and api_key and not password:
        raise ExchangeConfigError(
            f"{exchange_id} needs the API password (passphrase): set QTBOT_EXCHANGE__PASSWORD"
        )
    config = _merge(
        _plain(venue.ccxt_config),
        {
            "apiKey": api_key,
            "secret": secret,
            "password": password or "",
            "timeout": int(timeout * 1000),
            "enableRateLimit": enable_rate_limit,
            # ccxt retries any OperationFailed, POSTs included: placement must never be resent.
            "options": {"maxRetriesOnFailure": 0},
        },
    )
    client: ccxt_async.Exchange = cls(config)
    if mode == "testnet":
        enable_testnet(client, venue)
    if rest_url:
        client.urls["api"] = rewrite_api_urls(client.urls["api"], rest_url)
    return client
