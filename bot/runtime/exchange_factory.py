"""Build the exchange adapter the settings ask for: paper engine (default) or ccxt."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine

from bot.config.settings import Settings, parse_balances
from bot.services.clock import Clock
from exchanges.base import ExchangeAdapter

_HUNDRED = Decimal(100)


def build_exchange(settings: Settings, engine: Engine, clock: Clock) -> ExchangeAdapter:
    ex = settings.exchange
    if ex.mode == "paper":
        from exchanges.market_data import CcxtPublicData
        from exchanges.paper.engine import PaperConfig, PaperExchange
        from exchanges.paper.store import SqlPaperLedger

        fee = None if ex.paper_fee_pct is None else Decimal(str(ex.paper_fee_pct)) / _HUNDRED
        config = PaperConfig(
            venue=ex.id,
            starting_balances=parse_balances(ex.paper_starting_balance),
            slippage=Decimal(str(ex.paper_slippage_pct)) / _HUNDRED,
            maker_fee=fee,
            taker_fee=fee,
        )
        data = CcxtPublicData(ex.id, ex.rest_url, clock=clock.now)
        return PaperExchange(data, SqlPaperLedger(engine), clock.now, config)
    from exchanges.ccxt.adapter import CcxtExchange

    def secret(value: object) -> str | None:
        return None if value is None else value.get_secret_value()  # type: ignore[attr-defined]

    return CcxtExchange(
        ex.id,
        ex.mode,
        api_key=secret(ex.api_key),
        secret=secret(ex.secret),
        password=secret(ex.password),
        rest_url=ex.rest_url,
        timeout=ex.timeout_seconds,
        clock=clock.now,
        markets_max_age=timedelta(minutes=ex.markets_refresh_minutes),
    )
