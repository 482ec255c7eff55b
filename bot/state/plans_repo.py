"""Entry plans and tranches in the store (tables `strategy_plan`, `strategy_tranche`).

Decimals are stored as text and times as UTC, like the rest of the store. Schema version 5
(`bot.state.db`) calls `create_strategy_tables(conn)`; rows map to `bot.strategy.plans` types
and no logic lives on them. Every write that changes a plan and its tranches together is one
transaction, so a crash leaves either the old state or the new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields, replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Engine
from sqlmodel import Field, Session, SQLModel, col, select

from bot.state.models import (
    UTCDateTime,
    decimal_info,
    row_decimal,
    row_decimal_or_none,
    stored_utc,
    text_or_none,
)
from bot.strategy.plans import Plan, PlanStatus, Tranche, TrancheStatus
from exchanges.base import OrderType

_Row = TypeVar("_Row", Plan, Tranche)


def _utc(nullable: bool, index: bool = False) -> Any:
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable, index=index)
    return Field(default=None, sa_column=column) if nullable else Field(sa_column=column)


class StrategyPlanRow(SQLModel, table=True):
    """One plan = one cycle of one symbol (see `bot.strategy.plans.Plan`)."""

    __tablename__ = "strategy_plan"

    plan_id: str = Field(primary_key=True)
    symbol: str = Field(index=True)
    cycle: int
    kind: str
    status: str = Field(index=True)
    budget: str = Field(sa_column_kwargs=decimal_info())
    order_type: str
    created_at: datetime = _utc(nullable=False, index=True)
    start_price: str | None = Field(default=None, sa_column_kwargs=decimal_info())
    start_reason: str = ""
    completed_at: datetime | None = _utc(nullable=True)
    closed_at: datetime | None = _utc(nullable=True)
    close_reason: str | None = None
    position_cycle_id: str | None = None
    realized_pnl: str | None = Field(default=None, sa_column_kwargs=decimal_info())
    last_flush_at: datetime | None = _utc(nullable=True)


class StrategyTrancheRow(SQLModel, table=True):
    """One tranche of a plan (see `bot.strategy.plans.Tranche`)."""

    __tablename__ = "strategy_tranche"

    plan_id: str = Field(primary_key=True, foreign_key="strategy_plan.plan_id")
    number: int = Field(primary_key=True)
    quote_amount: str = Field(sa_column_kwargs=decimal_info())
    offset: str = Field(sa_column_kwargs=decimal_info())
    planned_at: datetime = _utc(nullable=False)
    scheduled_at: datetime = _utc(nullable=False)
    status: str = Field(index=True)
    attempt: int = 0
    order_type: str
    order_at: datetime | None = _utc(nullable=True)
    first_placed_at: datetime | None = _utc(nullable=True)
    held_since: datetime | None = _utc(nullable=True)
    hold_gate: str | None = None
    hold_reason: str | None = None
    pulled_forward: bool = False
    filled_base: str = Field(default="0", sa_column_kwargs=decimal_info())
    filled_quote: str = Field(default="0", sa_column_kwargs=decimal_info())
    fees: str = Field(default="0", sa_column_kwargs=decimal_info())
    done_at: datetime | None = _utc(nullable=True)
    note: str | None = None


STRATEGY_TABLES = (StrategyPlanRow, StrategyTrancheRow)


def create_strategy_tables(conn_or_engine: Connection | Engine) -> None:
    """Create the strategy tables if missing (the store's v5 migration; tests on a bare store)."""
    SQLModel.metadata.create_all(
        conn_or_engine,
        tables=[model.metadata.tables[model.__tablename__] for model in STRATEGY_TABLES],
    )


def _plan(row: StrategyPlanRow) -> Plan:
    return Plan(
        plan_id=row.plan_id,
        symbol=row.symbol,
        cycle=row.cycle,
        kind=row.kind,
        status=PlanStatus(row.status),
        budget=row_decimal(row, "budget"),
        order_type=OrderType(row.order_type),
        created_at=row.created_at,
        start_price=row_decimal_or_none(row, "start_price"),
        start_reason=row.start_reason,
        completed_at=row.completed_at,
        closed_at=row.closed_at,
        close_reason=row.close_reason,
        position_cycle_id=row.position_cycle_id,
        realized_pnl=row_decimal_or_none(row, "realized_pnl"),
        last_flush_at=row.last_flush_at,
    )


def _plan_row(plan: Plan) -> StrategyPlanRow:
    return StrategyPlanRow(
        plan_id=plan.plan_id,
        symbol=plan.symbol,
        cycle=plan.cycle,
        kind=plan.kind,
        status=plan.status.value,
        budget=str(plan.budget),
        order_type=plan.order_type.value,
        created_at=plan.created_at,
        start_price=text_or_none(plan.start_price),
        start_reason=plan.start_reason,
        completed_at=plan.completed_at,
        closed_at=plan.closed_at,
        close_reason=plan.close_reason,
        position_cycle_id=plan.position_cycle_id,
        realized_pnl=text_or_none(plan.realized_pnl),
        last_flush_at=plan.last_flush_at,
    )


def _tranche(row: StrategyTrancheRow) -> Tranche:
    return Tranche(
        plan_id=row.plan_id,
        number=row.number,
        quote_amount=row_decimal(row, "quote_amount"),
        offset=row_decimal(row, "offset"),
        planned_at=row.planned_at,
        scheduled_at=row.scheduled_at,
        status=TrancheStatus(row.status),
        attempt=row.attempt,
        order_type=OrderType(row.order_type),
        order_at=row.order_at,
        first_placed_at=row.first_placed_at,
        held_since=row.held_since,
        hold_gate=row.hold_gate,
        hold_reason=row.hold_reason,
        pulled_forward=row.pulled_forward,
        filled_base=row_decimal(row, "filled_base"),
        filled_quote=row_decimal(row, "filled_quote"),
        fees=row_decimal(row, "fees"),
        done_at=row.done_at,
        note=row.note,
    )


def _tranche_row(t: Tranche) -> StrategyTrancheRow:
    return StrategyTrancheRow(
        plan_id=t.plan_id,
        number=t.number,
        quote_amount=str(t.quote_amount),
        offset=str(t.offset),
        planned_at=t.planned_at,
        scheduled_at=t.scheduled_at,
        status=t.status.value,
        attempt=t.attempt,
        order_type=t.order_type.value,
        order_at=t.order_at,
        first_placed_at=t.first_placed_at,
        held_since=t.held_since,
        hold_gate=t.hold_gate,
        hold_reason=t.hold_reason,
        pulled_forward=t.pulled_forward,
        filled_base=str(t.filled_base),
        filled_quote=str(t.filled_quote),
        fees=str(t.fees),
        done_at=t.done_at,
        note=t.note,
    )


class _PlanQueries:
    """Queries built on `plans()`, one definition for both stores."""

    def plans(
        self, symbol: str | None = None, statuses: Iterable[PlanStatus] | None = None
    ) -> list[Plan]:
        raise NotImplementedError

    def current_plan(self, symbol: str) -> Plan | None:
        """The symbol's plan still running (active or complete), if any."""
        running = self.plans(symbol, (PlanStatus.ACTIVE, PlanStatus.COMPLETE))
        return running[-1] if running else None

    def latest_plan(self, symbol: str) -> Plan | None:
        history = self.plans(symbol)
        return history[-1] if history else None


class StrategyRepo(_PlanQueries):
    """Plans and tranches as domain types."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert_plan(self, plan: Plan, tranches: Iterable[Tranche]) -> None:
        with Session(self.engine) as session:
            session.add(_plan_row(plan))
            session.flush()  # the plan row first: tranches reference it
            for tranche in tranches:
                session.add(_tranche_row(tranche))
            session.commit()

    def save(self, plan: Plan | None = None, tranches: Iterable[Tranche] = ()) -> None:
        """Write `plan` and `tranches` (existing rows) in one transaction."""
        with Session(self.engine) as session:
            if plan is not None:
                session.merge(_plan_row(plan))
            for tranche in tranches:
                session.merge(_tranche_row(tranche))
            session.commit()

    def plan(self, plan_id: str) -> Plan | None:
        with Session(self.engine) as session:
            row = session.get(StrategyPlanRow, plan_id)
            return _plan(row) if row else None

    def plans(
        self, symbol: str | None = None, statuses: Iterable[PlanStatus] | None = None
    ) -> list[Plan]:
        """Plans oldest first, optionally of one symbol and in some statuses."""
        with Session(self.engine) as session:
            query = select(StrategyPlanRow).order_by(
                col(StrategyPlanRow.created_at), col(StrategyPlanRow.plan_id)
            )
            if symbol is not None:
                query = query.where(StrategyPlanRow.symbol == symbol)
            if statuses is not None:
                query = query.where(col(StrategyPlanRow.status).in_([s.value for s in statuses]))
            return [_plan(r) for r in session.exec(query).all()]

    def tranches(self, plan_id: str) -> tuple[Tranche, ...]:
        with Session(self.engine) as session:
            rows = session.exec(
                select(StrategyTrancheRow)
                .where(StrategyTrancheRow.plan_id == plan_id)
                .order_by(col(StrategyTrancheRow.number))
            ).all()
            return tuple(_tranche(r) for r in rows)


# `dataclasses.fields` rebuilds its answer on every call; the memory repository asks it for
# every plan and tranche it keeps.
_FIELD_NAMES: dict[type, tuple[str, ...]] = {
    kind: tuple(f.name for f in fields(kind)) for kind in (Plan, Tranche)
}


def _as_stored(item: _Row) -> _Row:
    """`item` as the database returns it: every time in UTC; a naive time is refused."""
    changes: dict[str, Any] = {}  # Any: `replace` checks each name against its field's type
    for name in _FIELD_NAMES[type(item)]:
        value = getattr(item, name)
        if isinstance(value, datetime):
            stored = stored_utc(value)
            if stored is not value:
                changes[name] = stored
    # Plans and tranches are frozen with immutable fields: when every time is already kept in
    # UTC (the usual case), the item itself is what a copy would be.
    return replace(item, **changes) if changes else item


class MemoryStrategyRepo(_PlanQueries):
    """`StrategyRepo` in process memory, for backtests (see `bot.state.memory`): the same
    answers, in the same order, the same refusals (naive times, a tranche without its plan,
    one tranche number twice), and a refused write changes nothing."""

    def __init__(self) -> None:
        self._plans: dict[str, Plan] = {}
        self._tranches: dict[str, dict[int, Tranche]] = {}
        # The plans oldest first (and where each sits), kept because the entry job lists plans
        # thousands of times per backtest; None once a new plan or a changed creation time
        # may have moved the order.
        self._order: list[Plan] | None = None
        self._position: dict[str, int] = {}
        # Answers of `plans` since the last write: the entry job asks the same few questions
        # several times per run, and far more often than plans change.
        self._answers: dict[tuple[str | None, tuple[PlanStatus, ...] | None], list[Plan]] = {}
        # Writes that changed a plan or a tranche: the replay compares it around a job run
        # (`bot.backtest.quiet_runs.fingerprint`) instead of every plan and tranche.
        self.writes = 0

    def insert_plan(self, plan: Plan, tranches: Iterable[Tranche]) -> None:
        if plan.plan_id in self._plans:
            raise ValueError(f"plan {plan.plan_id} is already stored")
        plan = _as_stored(plan)
        rows: dict[tuple[str, int], Tranche] = {}
        for tranche in tranches:
            key = (tranche.plan_id, tranche.number)
            if key in rows or tranche.number in self._tranches.get(tranche.plan_id, {}):
                raise ValueError(f"tranche {tranche.number} of plan {tranche.plan_id} is stored")
            if tranche.plan_id != plan.plan_id and tranche.plan_id not in self._plans:
                raise KeyError(f"tranche {tranche.number} of unknown plan {tranche.plan_id}")
            rows[key] = _as_stored(tranche)
        self._plans[plan.plan_id] = plan
        self._order = None
        self._answers.clear()
        self.writes += 1
        self._tranches[plan.plan_id] = {}
        for (plan_id, number), tranche in rows.items():
            self._tranches[plan_id][number] = tranche

    def save(self, plan: Plan | None = None, tranches: Iterable[Tranche] = ()) -> None:
        stored = None if plan is None else _as_stored(plan)
        known = set(self._plans) | ({stored.plan_id} if stored else set())
        # A tranche saved again unchanged (the entry job saves whole plans) is the very object
        # already kept, checked then.
        kept = self._tranches
        rows = [
            t if kept.get(t.plan_id, {}).get(t.number) is t else _as_stored(t) for t in tranches
        ]
        for tranche in rows:
            if tranche.plan_id not in known:
                raise KeyError(f"tranche {tranche.number} of unknown plan {tranche.plan_id}")
        if stored is not None:
            self._answers.clear()
            before = self._plans.get(stored.plan_id)
            if before != stored:
                self.writes += 1
            if before is None or before.created_at != stored.created_at:
                self._order = None
            elif self._order is not None:
                self._order[self._position[stored.plan_id]] = stored
            self._plans[stored.plan_id] = stored
        for tranche in rows:
            held = self._tranches.setdefault(tranche.plan_id, {})
            before_tranche = held.get(tranche.number)
            if before_tranche is not tranche and before_tranche != tranche:
                self.writes += 1
            held[tranche.number] = tranche

    def plan(self, plan_id: str) -> Plan | None:
        return self._plans.get(plan_id)

    def plans(
        self, symbol: str | None = None, statuses: Iterable[PlanStatus] | None = None
    ) -> list[Plan]:
        # The callers pass the same few tuples of statuses: they key the answers as they are.
        wanted = statuses if statuses is None or isinstance(statuses, tuple) else tuple(statuses)
        answer = self._answers.get((symbol, wanted))
        if answer is None:
            if self._order is None:
                self._order = sorted(self._plans.values(), key=lambda p: (p.created_at, p.plan_id))
                self._position = {p.plan_id: at for at, p in enumerate(self._order)}
            answer = [
                p
                for p in self._order
                if (symbol is None or p.symbol == symbol) and (wanted is None or p.status in wanted)
            ]
            self._answers[(symbol, wanted)] = answer
        return list(answer)

    def tranches(self, plan_id: str) -> tuple[Tranche, ...]:
        return tuple(t for _, t in sorted(self._tranches.get(plan_id, {}).items()))


PlanRepo = StrategyRepo | MemoryStrategyRepo
