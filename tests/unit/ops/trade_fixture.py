"""A paper lifecycle fed through the real order path (order manager -> paper engine -> fills),
at prices chosen so every figure of `qtbot trades` and `qtbot profit` can be worked out by hand.

Fees: the market's taker fee, 0.1 % of each fill's cost, in USDT. Market buys fill at the ask,
market sells at the bid; the book is set so the price that matters is a round number.

BTC/USDT cycle 1 (closed): buy 0.05 @ 60000 and 0.05 @ 58000 (avg 59000); tier 1 sells 0.03
@ 70800, tier 2 0.03 @ 88500, the trailing stop 0.04 @ 79650.
BTC/USDT cycle 2 (closed): buy 0.02 @ 80000; the hard stop sells 0.02 @ 79000.
BTC/USDT cycle 3 (open): buy 0.01 @ 75000; tier 1 sells 0.003 @ 90000; risk job valued 85000.
ETH/USDT (closed): buy 1 @ 3000; panic sells 1 @ 2800.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.execution.manager import OrderManager
from bot.orders.intents import IntentStatus, OrderIntent
from bot.orders.protective_stop import KIND as EXCHANGE_STOP
from bot.services.clock import SimulatedClock
from bot.services.context import Context
from bot.state.plans_repo import StrategyRepo
from bot.state.runtime_state import RuntimeState
from bot.strategy.plans import Plan, PlanStatus, Tranche, TrancheStatus
from exchanges.base import Market, OrderType, Side
from exchanges.market_data import StaticMarketData, scripted_book
from exchanges.paper.engine import PaperConfig, PaperExchange
from exchanges.paper.store import SqlPaperLedger
from risk.limits import EquityMarks
from risk.marks import PositionMarks
from tests.unit.ops.seed import make_context

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
END = datetime(2026, 3, 18, 14, 0, tzinfo=UTC)
TICK = Decimal("0.01")


def _market(symbol: str) -> Market:
    base, quote = symbol.split("/")
    return Market(
        symbol=symbol,
        base=base,
        quote=quote,
        amount_step=Decimal("0.00001"),
        price_tick=TICK,
        min_amount=Decimal("0.00001"),
        max_amount=Decimal("9000"),
        min_cost=Decimal("5"),
        maker_fee=Decimal("0.001"),
        taker_fee=Decimal("0.001"),
    )


class Lifecycle:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        assert isinstance(ctx.clock, SimulatedClock)
        self.clock: SimulatedClock = ctx.clock
        self.data = StaticMarketData([_market("BTC/USDT"), _market("ETH/USDT")])
        config = PaperConfig(venue="binance", starting_balances={"USDT": Decimal(10000)})
        self.venue = PaperExchange(
            self.data, SqlPaperLedger(ctx.store.engine), self.clock.now, config
        )
        asyncio.run(self.venue.load_markets())
        self.orders = OrderManager(ctx.store, self.venue, "binance")
        self.count = 0

    def trade(
        self,
        symbol: str,
        side: Side,
        amount: str,
        price: str,
        kind: str,
        *,
        tier: int | None = None,
        reason: str = "",
        hours: float = 6,
    ) -> None:
        """One market order at `price` (the ask for a buy, the bid for a sale), `hours` later."""
        now = self.clock.advance(timedelta(hours=hours))
        at = Decimal(price)
        bid, ask = (at - TICK, at) if side is Side.BUY else (at, at + TICK)
        self.data.set_order_book(scripted_book(symbol, bid, ask, Decimal(10), 5, now))
        self.count += 1
        intent = OrderIntent(
            cause=f"fixture|{self.count}",
            kind=kind,
            symbol=symbol,
            side=side,
            type=OrderType.MARKET,
            amount=Decimal(amount),
            reason=reason or f"{kind} {tier or ''}".strip(),
            tier=tier,
        )
        asyncio.run(self.orders.submit(intent, now))
        asyncio.run(self.orders.sync_fills(symbol, now))


def build_lifecycle(tmp_path: Path) -> Context:
    """The store after the lifecycle above; the context's clock reads END."""
    ctx = make_context(tmp_path, START)
    life = Lifecycle(ctx)
    buy, sell = Side.BUY, Side.SELL
    life.trade("BTC/USDT", buy, "0.05", "60000", "tranche", reason="tranche 1 of 2")
    life.trade("BTC/USDT", buy, "0.05", "58000", "tranche", reason="tranche 2 of 2")
    life.trade(
        "BTC/USDT", sell, "0.03", "70800", "take_profit", tier=1, hours=30,
        reason="tier 1: price 70800 >= 70800 (entry 59000 + 20 %), sell 0.03 BTC",
    )  # fmt: skip
    life.trade(
        "BTC/USDT", sell, "0.03", "88500", "take_profit", tier=2, hours=30,
        reason="tier 2: price 88500 >= 88500 (entry 59000 + 50 %), sell 0.03 BTC",
    )  # fmt: skip
    life.trade(
        "BTC/USDT",
        sell,
        "0.04",
        "79650",
        "trailing_stop",
        reason="trailing stop: price 79650 <= stop 79650 (10 % below high 88500), sell all",
    )
    life.trade("ETH/USDT", buy, "1", "3000", "tranche", reason="tranche 1 of 1")
    life.trade("BTC/USDT", buy, "0.02", "80000", "tranche", reason="tranche 1 of 1")
    life.trade(
        "BTC/USDT",
        sell,
        "0.02",
        "79000",
        "stop_loss",
        reason="stop loss: price 79000 <= stop 79500",
    )
    life.trade("ETH/USDT", sell, "1", "2800", "panic", reason="panic: sell everything at market")
    life.trade("BTC/USDT", buy, "0.01", "75000", "tranche", reason="tranche 1 of 1", hours=24)
    life.trade(
        "BTC/USDT", sell, "0.003", "90000", "take_profit", tier=1, hours=48,
        reason="tier 1: price 90000 >= 90000 (entry 75000 + 20 %), sell 0.003 BTC",
    )  # fmt: skip
    RuntimeState(ctx.store).set_last_prices({"BTC/USDT": Decimal(85000)}, END - timedelta(hours=1))
    life.clock.set(END)
    return ctx


def build_page_store(tmp_path: Path) -> Context:
    """The lifecycle plus what the running daemon would have added around it: the journal
    lines of its exit decisions, marks and a resting exchange stop for the open position, the
    current entry plan, an open limit buy and the equity series."""
    ctx = build_lifecycle(tmp_path)
    store, repo = ctx.store, ctx.store.order_repo()
    for record in repo.all():
        if record.side is Side.SELL and record.average is not None:
            store.journal(
                record.created_at,
                record.kind,
                record.reason,
                symbol=record.symbol,
                price=str(record.average),
                tier=record.tier,
            )
    cycle = repo.position_fills("BTC/USDT")[-2].fill_id
    repo.save_marks(
        {"BTC/USDT": PositionMarks(cycle, Decimal(91200), Decimal(82080), Decimal("75150"))}, END
    )
    stop = repo.insert_intent(
        "qtbot-stop-btc-3",
        OrderIntent(
            cause=f"BTC/USDT|{cycle}|stop",
            kind=EXCHANGE_STOP,
            symbol="BTC/USDT",
            side=Side.SELL,
            type=OrderType.STOP_LIMIT,
            amount=Decimal("0.007"),
            price=Decimal("81900"),
            trigger_price=Decimal("82080"),
            reason="exchange stop: sell 0.007 if the price falls to 82080",
        ),
        END - timedelta(days=3),
    )
    repo.update(stop.client_order_id, END - timedelta(days=3), IntentStatus.OPEN, sent=True)
    buy = repo.insert_intent(
        "qtbot-eth-limit",
        OrderIntent(
            cause="eth-plan|tranche-1",
            kind="tranche",
            symbol="ETH/USDT",
            side=Side.BUY,
            type=OrderType.LIMIT,
            amount=Decimal("0.25"),
            price=Decimal("2650"),
            reason="tranche 1 of 4",
        ),
        END - timedelta(hours=5),
    )
    repo.update(buy.client_order_id, END - timedelta(hours=5), IntentStatus.OPEN, sent=True)
    plan = Plan(
        plan_id="eth-plan",
        symbol="ETH/USDT",
        cycle=2,
        kind="pivot",
        status=PlanStatus.ACTIVE,
        budget=Decimal("1000"),
        order_type=OrderType.LIMIT,
        created_at=END - timedelta(hours=6),
        start_price=Decimal("2700"),
        start_reason="easing pivot",
    )
    tranches = [
        Tranche(
            plan_id="eth-plan",
            number=n,
            quote_amount=Decimal("250"),
            offset=Decimal("0"),
            planned_at=END - timedelta(hours=6),
            scheduled_at=END - timedelta(hours=6) + timedelta(days=n - 1),
            status=TrancheStatus.PENDING,
            order_type=OrderType.LIMIT,
        )
        for n in range(1, 5)
    ]
    StrategyRepo(store.engine).insert_plan(plan, tranches)
    RuntimeState(store).set_equity_marks(
        EquityMarks(END.date(), Decimal("11900"), Decimal("12290")), END
    )
    at = START
    while at < END:
        store.record_equity(at, _equity_at(ctx, at), spacing=timedelta(hours=1))
        at += timedelta(hours=2)
    store.record_equity(END, Decimal("11936.135"), Decimal("11341.135"))
    return ctx


def _price_at(points: list[tuple[datetime, Decimal]], at: datetime) -> Decimal:
    """The known prices joined by straight lines (as the page's chart draws them)."""
    before = [p for p in points if p[0] <= at]
    after = [p for p in points if p[0] > at]
    if not before or not after:
        return (before or after)[-1 if before else 0][1]
    (t0, p0), (t1, p1) = before[-1], after[0]
    share = Decimal((at - t0).total_seconds()) / Decimal((t1 - t0).total_seconds())
    return p0 + (p1 - p0) * share


def _equity_at(ctx: Context, at: datetime) -> Decimal:
    """What the risk job would have recorded at `at`: 10000 USDT start, the cash flows of the
    fills so far, holdings at the price between the known prices."""
    repo = ctx.store.order_repo()
    equity = Decimal(10000)
    last = {"BTC/USDT": (END - timedelta(hours=1), Decimal(85000))}
    for symbol in repo.fill_symbols():
        fills = repo.position_fills(symbol)
        points = [(f.timestamp, f.price) for f in fills]
        points += [last[symbol]] if symbol in last else []
        held = Decimal(0)
        for fill in (f for f in fills if f.timestamp <= at):
            sign = -1 if fill.side.value == "buy" else 1
            equity += sign * fill.amount * fill.price - fill.fee
            held -= sign * fill.amount
        equity += held * _price_at(points, at)
    return equity.quantize(Decimal("0.01"))
