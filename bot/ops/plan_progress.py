"""Plan progress for `qtbot status`: tranches done, due and next, spend and average entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.state.plans_repo import PlanRepo
from bot.strategy.plans import Plan, PlanStatus, Tranche, TrancheStatus, plan_filled

_CENT = Decimal("0.01")


@dataclass(frozen=True)
class PlanProgress:
    """One plan at `now`. Money in quote; `average_entry` is quote per base, fees excluded.

    tranches_due: pending tranches whose time has come (placed on the next run unless a gate
    holds them, see `held_by`/`held_reason`). next_at: when the next pending tranche is due.
    """

    plan_id: str
    symbol: str
    cycle: int
    kind: str
    status: PlanStatus
    budget: Decimal
    spent: Decimal
    bought: Decimal
    average_entry: Decimal | None
    tranches_total: int
    tranches_done: int
    tranches_filled: int
    tranches_ordered: int
    tranches_due: int
    next_at: datetime | None
    held_by: str | None
    held_reason: str | None
    created_at: datetime
    closed_at: datetime | None
    realized_pnl: Decimal | None

    def summary(self) -> str:
        """One line for a terminal."""
        avg = "-" if self.average_entry is None else str(self.average_entry.quantize(_CENT))
        text = (
            f"{self.symbol} cycle {self.cycle} [{self.status}] {self.tranches_done}/"
            f"{self.tranches_total} tranches done ({self.tranches_filled} filled, "
            f"{self.tranches_ordered} on the book, {self.tranches_due} due), spent "
            f"{self.spent.quantize(_CENT)}/{self.budget}, avg entry {avg}"
        )
        if self.next_at is not None and self.status is PlanStatus.ACTIVE:
            text += f", next {self.next_at:%Y-%m-%d %H:%M}"
        if self.held_reason:
            text += f", held: {self.held_reason}"
        if self.realized_pnl is not None and self.status is PlanStatus.CLOSED:
            text += f", realised {self.realized_pnl.quantize(_CENT)}"
        return text

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (Decimals and times as text)."""
        out: dict[str, Any] = {}
        for name, value in self.__dict__.items():
            if isinstance(value, Decimal | datetime):
                out[name] = value.isoformat() if isinstance(value, datetime) else str(value)
            else:
                out[name] = value.value if isinstance(value, PlanStatus) else value
        return out


def plan_progress(plan: Plan, tranches: tuple[Tranche, ...], now: datetime) -> PlanProgress:
    """Pure: the progress of `plan` at `now` from its tranches."""
    bought, spent = plan_filled(tranches)
    pending = sorted(
        (t for t in tranches if t.status is TrancheStatus.PENDING), key=lambda t: t.number
    )
    first = pending[0] if pending else None
    return PlanProgress(
        plan_id=plan.plan_id,
        symbol=plan.symbol,
        cycle=plan.cycle,
        kind=plan.kind,
        status=plan.status,
        budget=plan.budget,
        spent=spent,
        bought=bought,
        average_entry=spent / bought if bought > 0 else None,
        tranches_total=len(tranches),
        tranches_done=sum(1 for t in tranches if t.done),
        tranches_filled=sum(1 for t in tranches if t.status is TrancheStatus.FILLED),
        tranches_ordered=sum(1 for t in tranches if t.status is TrancheStatus.ORDERED),
        tranches_due=sum(1 for t in pending if t.scheduled_at <= now),
        next_at=first.scheduled_at if first else None,
        held_by=first.hold_gate if first else None,
        held_reason=first.hold_reason if first else None,
        created_at=plan.created_at,
        closed_at=plan.closed_at,
        realized_pnl=plan.realized_pnl,
    )


def plan_status(repo: PlanRepo, now: datetime, closed: int = 1) -> list[PlanProgress]:
    """Every running plan plus the last `closed` closed plans of each symbol, oldest first."""
    plans = repo.plans()
    shown: list[Plan] = []
    for symbol in sorted({p.symbol for p in plans}):
        own = [p for p in plans if p.symbol == symbol]
        done = [p for p in own if p.status is PlanStatus.CLOSED]
        keep = {p.plan_id for p in done[-closed:]} if closed > 0 else set()
        shown += [p for p in own if p.status is not PlanStatus.CLOSED or p.plan_id in keep]
    shown.sort(key=lambda p: (p.created_at, p.plan_id))
    return [plan_progress(p, repo.tranches(p.plan_id), now) for p in shown]
