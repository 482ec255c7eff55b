"""The start-up check that the venue accepts the configured API key.

Without it a wrong key (or a live key used on the testnet) shows only as job errors repeated
every run while the daemon looks healthy. One authenticated read before any job runs turns it
into one line and a refusal to start.
"""

from __future__ import annotations

import structlog

from bot.config.settings import ExchangeSettings
from bot.config.url_secrets import MASK, mask_url_secrets
from bot.runtime.venue import DaemonParts
from exchanges.errors import AuthenticationFailed, ExchangeConfigError, ExchangeError

log = structlog.get_logger("bot.runtime.credentials")

MAX_VENUE_MESSAGE = 240


class CredentialsRefused(ExchangeConfigError):
    """The venue refused the configured API key; the message is the one line to show."""


def refusal_line(reason: str, exchange: ExchangeSettings) -> str:
    """The one line for a refused key: the venue's own words, never the key itself."""
    # "binance read: AuthenticationError: <venue message>": the venue message is the news.
    parts = reason.split(": ", 2)
    message = parts[-1] if len(parts) == 3 else reason
    for secret in (exchange.api_key, exchange.secret, exchange.password):
        if secret is not None and secret.get_secret_value():
            message = message.replace(secret.get_secret_value(), MASK)
    message = " ".join(mask_url_secrets(message).split())[:MAX_VENUE_MESSAGE]
    names = "API_KEY/SECRET/PASSWORD" if exchange.password else "API_KEY/SECRET"
    hint = "testnet keys for testnet" if exchange.mode == "testnet" else "live keys, not testnet"
    return f"exchange refused the API key: {message}; check QTBOT_EXCHANGE__{names} ({hint})"


async def check_credentials(parts: DaemonParts) -> None:
    """In testnet/live mode, read the balances once; raise `CredentialsRefused` (after closing
    the venue's clients) if the venue refuses the key. Any other failure (network, venue down)
    says nothing about the key: it is logged, and the jobs retry as they always do."""
    exchange = parts.ctx.settings.exchange
    if exchange.mode == "paper":
        return
    try:
        await parts.ctx.services.exchange.fetch_balances()
    except AuthenticationFailed as exc:
        await parts.close_venue()
        raise CredentialsRefused(refusal_line(exc.reason, exchange)) from None
    except ExchangeError as exc:
        log.warning("credentials_unchecked", exchange=exchange.id, reason=exc.reason)
        return
    log.info("credentials_accepted", exchange=exchange.id, mode=exchange.mode)
