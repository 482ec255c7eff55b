"""A store with positions, an open order, journal rows and equity history, for ops tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.config.settings import Settings
from bot.orders.intents import IntentStatus, OrderIntent
from bot.services.clock import SimulatedClock
from bot.services.context import Context
from bot.state.equity_series import EquityPoint
from bot.state.orders_repo import OrderRepo
from bot.state.runtime_state import RuntimeState
from bot.state.store import Store
from exchanges.base import Fill, OrderType, Side
from risk.limits import EquityMarks

NOW = datetime(2026, 3, 18, 14, 0, tzinfo=UTC)


def make_context(tmp_path: Path, now: datetime = NOW, **overrides: object) -> Context:
    settings = Settings(_env_file=None, data_dir=tmp_path, **overrides)  # type: ignore[call-arg]
    store = Store.open(settings.effective_database_url)
    return Context(settings=settings, store=store, clock=SimulatedClock(now), started_at=now)


def _buy(repo: OrderRepo, cid: str, symbol: str, amount: str, price: str, at: datetime) -> None:
    intent = OrderIntent(
        cause=f"plan-1|{cid}",
        kind="entry",
        symbol=symbol,
        side=Side.BUY,
        type=OrderType.MARKET,
        amount=Decimal(amount),
        reason="tranche",
    )
    repo.insert_intent(cid, intent, at)
    fill = Fill(
        trade_id=f"t-{cid}",
        client_order_id=cid,
        exchange_order_id=None,
        symbol=symbol,
        side=Side.BUY,
        amount=Decimal(amount),
        price=Decimal(price),
        fee=Decimal("0.1"),
        fee_asset="USDT",
        timestamp=at,
        is_maker=False,
    )
    repo.record_fills([fill], at)
    repo.update(cid, at, IntentStatus.CLOSED, sent=True)


def seed_trading_state(ctx: Context, now: datetime = NOW) -> None:
    """Two positions (BTC up 10 %, ETH down 5 %), one resting limit buy, equity history."""
    store, repo = ctx.store, OrderRepo(ctx.store.engine)
    start = now - timedelta(days=2)
    _buy(repo, "btc-1", "BTC/USDT", "0.01", "60000", start)
    _buy(repo, "eth-1", "ETH/USDT", "0.2", "3000", start + timedelta(hours=1))
    resting = repo.insert_intent(
        "btc-2",
        OrderIntent(
            cause="plan-1|tranche-2",
            kind="entry",
            symbol="BTC/USDT",
            side=Side.BUY,
            type=OrderType.LIMIT,
            amount=Decimal("0.005"),
            price=Decimal("58000"),
            reason="tranche 2 of 4",
        ),
        now - timedelta(hours=3),
    )
    repo.update(resting.client_order_id, now - timedelta(hours=3), IntentStatus.OPEN, sent=True)
    state = RuntimeState(store)
    state.set_last_prices({"BTC/USDT": Decimal(66000), "ETH/USDT": Decimal(2850)}, now)
    state.set_equity_marks(EquityMarks(now.date(), Decimal(10040), Decimal(10120)), now)
    equity = Decimal(9950)
    for step in range(0, 48 * 6):
        equity += Decimal((step * 7919) % 23 - 10) / 2  # a deterministic, drifting walk
        point = EquityPoint(start + timedelta(minutes=10 * step), equity)
        store.record_equity(point.at, point.equity)
    store.record_equity(now, Decimal("10094.50"), Decimal("8800"))
    store.journal(start, "fill", "buy 0.01 BTC/USDT at 60000", symbol="BTC/USDT")
    store.journal(
        now - timedelta(hours=2),
        "regime_pivot",
        "FOMC cut 25 bp and ended QT: easing",
        regime="easing",
        previous="tightening",
    )
    store.journal(
        now - timedelta(hours=1),
        "liquidation_flush",
        "BTC longs liquidated: 412M USDT in 1h",
        symbol="BTC/USDT",
    )
    store.journal(
        now - timedelta(minutes=30),
        "order_rejected",
        "btc-9 rejected: insufficient funds",
        level="warning",
        symbol="BTC/USDT",
    )
