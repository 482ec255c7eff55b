"""Builders for the store contract suite (tests/unit/test_store_contract.py): both backends
behind one handle, domain objects with short defaults, and the hypothesis operations the
differential test applies to a SQL `OrderRepo` and a `MemoryOrderRepo` side by side."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from bot.orders.intents import IntentStatus, OrderIntent, OrderRecord
from bot.state.memory import MemoryOrderRepo, MemoryStore
from bot.state.orders_repo import OrderRepo
from bot.state.plans_repo import MemoryStrategyRepo, StrategyRepo, create_strategy_tables
from bot.state.store import Store
from bot.strategy.plans import Plan, PlanStatus, Tranche
from exchanges.base import Fill, Order, OrderStatus, OrderType, Side
from risk.marks import PositionMarks

NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)
# Not UTC: what the store hands back must still be UTC (same instant).
CET = timezone(timedelta(hours=1), "CET")
BACKENDS = ("sqlite", "memory")

Repo = OrderRepo | MemoryOrderRepo
PlanRepo = StrategyRepo | MemoryStrategyRepo


@dataclass
class Backend:
    name: str
    store: Store
    orders: Repo
    plans: PlanRepo


def open_backend(name: str, tmp_path: Path) -> Backend:
    """SQL on a real SQLite file under `tmp_path`, or everything in memory."""
    if name == "sqlite":
        store = Store.open(f"sqlite:///{tmp_path / 'q.sqlite'}")
        create_strategy_tables(store.engine)
        return Backend(name, store, store.order_repo(), StrategyRepo(store.engine))
    memory = MemoryStore()
    return Backend(name, memory, memory.order_repo(), MemoryStrategyRepo())


def open_pair() -> tuple[tuple[Store, Repo], tuple[Store, Repo]]:
    """A fresh in-memory SQLite store and a `MemoryStore`, each with its order repo."""
    sql, memory = Store.open("sqlite://"), MemoryStore()
    return (sql, sql.order_repo()), (memory, memory.order_repo())


def intent(
    cause: str = "plan:p1|tranche:1",
    symbol: str = "BTC/USDT",
    side: Side = Side.BUY,
    amount: str = "0.5",
    **kw: Any,
) -> OrderIntent:
    base: dict[str, Any] = {
        "kind": "tranche",
        "type": OrderType.LIMIT,
        "price": Decimal("90000.10"),
        "reason": "tranche 1 of 4",
    }
    base.update(kw)
    return OrderIntent(cause=cause, symbol=symbol, side=side, amount=Decimal(amount), **base)


def fill(
    trade_id: str,
    client_order_id: str | None = None,
    *,
    symbol: str = "BTC/USDT",
    side: Side = Side.BUY,
    amount: str = "0.25",
    price: str = "90000",
    fee: str = "0.1",
    fee_asset: str = "USDT",
    at: datetime = NOW,
) -> Fill:
    return Fill(
        trade_id=trade_id,
        client_order_id=client_order_id,
        exchange_order_id=None if client_order_id is None else f"x-{client_order_id}",
        symbol=symbol,
        side=side,
        amount=Decimal(amount),
        price=Decimal(price),
        fee=Decimal(fee),
        fee_asset=fee_asset,
        timestamp=at,
        is_maker=False,
    )


def report(
    client_order_id: str,
    filled: str,
    *,
    exchange_order_id: str | None = "x-1",
    average: str | None = "90000",
    fee: str = "0.5",
) -> Order:
    """What the venue says about an order; only id, filled, average and fee are stored."""
    return Order(
        client_order_id=client_order_id,
        exchange_order_id=exchange_order_id,
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        amount=Decimal(1),
        price=Decimal("90000"),
        status=OrderStatus.OPEN,
        filled=Decimal(filled),
        average=None if average is None else Decimal(average),
        fee=Decimal(fee),
        created_at=NOW,
        updated_at=NOW,
    )


def plan(
    plan_id: str,
    symbol: str = "BTC/USDT",
    at: datetime = NOW,
    status: PlanStatus = PlanStatus.ACTIVE,
    **kw: Any,
) -> Plan:
    base: dict[str, Any] = {
        "cycle": 1,
        "kind": "core",
        "budget": Decimal("1000.10"),
        "order_type": OrderType.LIMIT,
        "start_price": Decimal("91234.56"),
        "start_reason": "easing",
    }
    base.update(kw)
    return Plan(plan_id=plan_id, symbol=symbol, status=status, created_at=at, **base)


def tranche(plan_id: str, number: int, at: datetime = NOW, **kw: Any) -> Tranche:
    base: dict[str, Any] = {"quote_amount": Decimal("250.025"), "offset": Decimal("0.01")}
    base.update(kw)
    day = timedelta(days=7 * (number - 1))
    return Tranche(plan_id, number, planned_at=at + day, scheduled_at=at + day, **base)


def outcome(call: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """What a call did, for comparing backends: any exception counts as the same answer."""
    try:
        return ("returned", call(*args))
    except Exception:
        return ("raised", None)


def snapshot(store: Store, repo: Repo) -> dict[str, Any]:
    """Every read the decision code can make of the order repo (and its journal lines); a
    read that raises (e.g. a stored fill the risk rules refuse) is recorded as raised."""
    everything = repo.all()
    ids = sorted({r.client_order_id for r in everything} | {*CLIENT_IDS, "qtb-missing"})
    symbols = sorted(set(SYMBOLS) | set(repo.symbols()) | set(repo.fill_symbols()))
    reads: dict[str, Callable[[], object]] = {
        "active": repo.active,
        "all": repo.all,
        "symbols": repo.symbols,
        "fill_count": repo.fill_count,
        "fill_symbols": repo.fill_symbols,
        "marks": lambda: list(repo.marks().items()),  # the order too: callers iterate it
        "fills_recorded": lambda: repo.fills_recorded(everything),
        "fills_recorded_each": lambda: [repo.fills_recorded([r]) for r in everything],
        "journal": lambda: store.recent_journal(limit=10_000),
    }
    for cid in ids:
        reads[f"get {cid}"] = partial(repo.get, cid)
    for cause in CAUSES:
        reads[f"by_cause {cause}"] = partial(repo.by_cause, cause)
    for symbol in symbols:
        reads[f"all {symbol}"] = partial(repo.all, symbol)
        reads[f"client_ids {symbol}"] = lambda s=symbol: sorted(repo.client_ids(s))
        reads[f"position_fills {symbol}"] = partial(repo.position_fills, symbol)
    return {name: outcome(read) for name, read in reads.items()}


def side_by_side(run: Callable[[Store, Repo], object]) -> None:
    """Run `run` on a SQL and a memory store; both must answer alike and end alike."""
    seen = []
    for store, repo in open_pair():
        did = outcome(run, store, repo)
        seen.append((did, repr(did), snapshot(store, repo), store.risk_off()))
        store.close()
    assert seen[0] == seen[1]


def quick_view(repo: Repo) -> object:
    """The reads checked after every operation (`snapshot` checks all of them at the end)."""
    return repo.all(), repo.fill_count()


def assert_same_answers(ops: list[Operation]) -> None:
    """Apply `ops` to a SQL and a memory repo in step: the same answer (or both raising) to
    each, in the same time zones and Decimal text (hence `repr`), and the same reads after."""
    (sql_store, sql), (memory_store, memory) = open_pair()
    try:
        for op in ops:
            by_sql, by_memory = outcome(op.apply, sql), outcome(op.apply, memory)
            assert by_sql == by_memory, op
            assert repr(by_sql) == repr(by_memory), op
            assert quick_view(sql) == quick_view(memory), op
        at_end = snapshot(sql_store, sql), snapshot(memory_store, memory)
        assert at_end[0] == at_end[1]
        assert repr(at_end[0]) == repr(at_end[1])
    finally:
        sql_store.close()


# --- hypothesis: random operations on an order repo -----------------------------------------

CLIENT_IDS = ("qtb-a", "qtb-b", "qtb-c")
CAUSES = ("plan:p1|tranche:1", "plan:p1|tranche:2", "BTC/USDT|c1|tp1")
SYMBOLS = ("BTC/USDT", "ETH/USDT")
# Equal instants in two zones, and plain ties: ordering must break them by client id.
TIMES = (NOW, NOW, NOW.astimezone(CET), NOW + timedelta(seconds=1), NOW - timedelta(hours=1))
AMOUNTS = tuple(Decimal(a) for a in ("0.5", "1", "1.10", "2.25", "1E+2"))
FILL_AMOUNTS = (*AMOUNTS, Decimal(0), Decimal("-0.5"))
PRICES = tuple(Decimal(p) for p in ("90000", "90000.10", "0.5"))
FILL_PRICES = (*PRICES, Decimal(0))

times = st.sampled_from(TIMES)
maybe_price = st.none() | st.sampled_from(PRICES)

intents = st.builds(
    OrderIntent,
    cause=st.sampled_from(CAUSES),
    kind=st.sampled_from(("tranche", "take_profit", "stop")),
    symbol=st.sampled_from(SYMBOLS),
    side=st.sampled_from(Side),
    type=st.sampled_from(OrderType),
    amount=st.sampled_from(AMOUNTS),
    reason=st.sampled_from(("tranche 1 of 4", "tier 1 at +20%", "")),
    price=maybe_price,
    tier=st.none() | st.sampled_from((1, 2)),
    trigger_price=maybe_price,
)

reports = st.builds(
    Order,
    client_order_id=st.sampled_from(CLIENT_IDS),
    exchange_order_id=st.none() | st.sampled_from(("x-1", "x-2")),
    symbol=st.sampled_from(SYMBOLS),
    side=st.sampled_from(Side),
    type=st.sampled_from(OrderType),
    amount=st.sampled_from(AMOUNTS),
    price=maybe_price,
    status=st.sampled_from(OrderStatus),
    filled=st.sampled_from((Decimal(0), *AMOUNTS)),
    average=maybe_price,
    fee=st.sampled_from((Decimal(0), Decimal("0.25"))),
    created_at=times,
    updated_at=times,
)

fills = st.builds(
    Fill,
    trade_id=st.sampled_from(("t1", "t2", "t9", "t10", "t11")),
    client_order_id=st.sampled_from((None, *CLIENT_IDS, "qtb-unknown")),
    exchange_order_id=st.none() | st.just("x-1"),
    symbol=st.sampled_from(SYMBOLS),
    side=st.sampled_from(Side),
    amount=st.sampled_from(FILL_AMOUNTS),
    price=st.sampled_from(FILL_PRICES),
    fee=st.sampled_from((Decimal(0), Decimal("0.001"), Decimal("0.5"))),
    fee_asset=st.sampled_from(("USDT", "BTC", "ETH", "BNB")),
    timestamp=times,
    is_maker=st.booleans(),
)

marks = st.builds(
    PositionMarks,
    cycle_id=st.sampled_from(("c1", "c2")),
    high_water_mark=st.sampled_from((Decimal(0), Decimal("0.0"), *PRICES)),
    trailing_stop=maybe_price,
)


@dataclass(frozen=True)
class InsertIntent:
    client_order_id: str
    intent: OrderIntent
    now: datetime

    def apply(self, repo: Repo) -> OrderRecord:
        return repo.insert_intent(self.client_order_id, self.intent, self.now)


@dataclass(frozen=True)
class Update:
    client_order_id: str
    now: datetime
    status: IntentStatus
    order: Order | None
    error: str | None
    sent: bool

    def apply(self, repo: Repo) -> OrderRecord:
        return repo.update(
            self.client_order_id,
            self.now,
            self.status,
            order=self.order,
            error=self.error,
            sent=self.sent,
        )


@dataclass(frozen=True)
class Amend:
    client_order_id: str
    now: datetime
    intent: OrderIntent

    def apply(self, repo: Repo) -> OrderRecord:
        return repo.amend(self.client_order_id, self.now, self.intent)


@dataclass(frozen=True)
class RecordFills:
    fills: tuple[Fill, ...]
    now: datetime

    def apply(self, repo: Repo) -> list[Fill]:
        return repo.record_fills(self.fills, self.now)


@dataclass(frozen=True)
class SaveMarks:
    marks: tuple[tuple[str, PositionMarks], ...]
    now: datetime

    def apply(self, repo: Repo) -> None:
        repo.save_marks(dict(self.marks), self.now)


Operation = InsertIntent | Update | Amend | RecordFills | SaveMarks

# Every status, but mostly the ones an order can stay in or pass through, so one order sees
# several venue reports (the stale-report rule needs two).
statuses = st.sampled_from([*IntentStatus, *[IntentStatus.OPEN] * 4, IntentStatus.UNKNOWN])

# An id outside the pool now and then: update/amend must raise KeyError on both.
client_ids = st.sampled_from((*CLIENT_IDS, "qtb-missing"))

inserts = st.builds(InsertIntent, st.sampled_from(CLIENT_IDS), intents, times)
updates = st.builds(
    Update,
    client_ids,
    times,
    statuses,
    st.sampled_from((False, True, True, True)).flatmap(lambda some: reports if some else st.none()),
    st.none() | st.sampled_from(("timeout", "rejected: min notional")),
    st.booleans(),
)
# Weighted: updates and fills carry the rules most worth comparing (stale reports, kept
# errors, dedupe, tier and kind taken from the intent).
operations: st.SearchStrategy[Operation] = st.sampled_from(
    [
        inserts,
        updates,
        updates,
        updates,
        st.builds(Amend, client_ids, times, intents),
        st.builds(RecordFills, st.lists(fills, max_size=4).map(tuple), times),
        st.builds(RecordFills, st.lists(fills, max_size=4).map(tuple), times),
        st.builds(
            SaveMarks,
            st.lists(st.tuples(st.sampled_from(SYMBOLS), marks), max_size=2).map(tuple),
            times,
        ),
    ]
).flatmap(lambda operation: operation)

# Some intents first (repeats included), so most later operations find one to act on.
sequences: st.SearchStrategy[list[Operation]] = st.builds(
    lambda first, rest: [*first, *rest],
    st.lists(inserts, min_size=1, max_size=4),
    st.lists(operations, min_size=8, max_size=24),
)


NAIVE = datetime(2025, 12, 1, 12, 0)
LATER = NOW + timedelta(minutes=1)


def utc(at: datetime | None) -> bool:
    return at is not None and at.utcoffset() == timedelta(0)


def ids(records: list[OrderRecord]) -> list[str]:
    return [r.client_order_id for r in records]
