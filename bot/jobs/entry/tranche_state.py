"""Tranche state changes shared by placing and following: fills, journal labels, giving up."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import TypedDict

from bot.jobs.entry.run import EntryRun
from bot.strategy.plans import Plan, Tranche, TrancheStatus, tranche_cause

_ZERO = Decimal(0)


def tranche_fills(run: EntryRun, tranche: Tranche) -> Tranche:
    """The tranche with its bought totals summed over the orders of all its attempts."""
    base = quote = fees = _ZERO
    for attempt in range(tranche.attempt + 1):
        cause = tranche_cause(tranche.plan_id, tranche.number, attempt)
        for record in run.orders.repo.by_cause(cause):
            if record.filled > 0:
                base += record.filled
                quote += record.filled * (record.average or record.price or _ZERO)
                fees += record.fee
    return replace(tranche, filled_base=base, filled_quote=quote, fees=fees)


def with_tranche(tranches: tuple[Tranche, ...], changed: Tranche) -> tuple[Tranche, ...]:
    return tuple(changed if t.number == changed.number else t for t in tranches)


def label(plan: Plan, tranche: Tranche) -> str:
    return f"{plan.symbol} tranche {tranche.number}"


class TrancheData(TypedDict):
    """The fields every tranche journal line carries (`EntryRun.note(..., **data(...))`)."""

    plan_id: str
    cycle: int
    tranche: int
    attempt: int


def data(plan: Plan, tranche: Tranche) -> TrancheData:
    return {
        "plan_id": plan.plan_id,
        "cycle": plan.cycle,
        "tranche": tranche.number,
        "attempt": tranche.attempt,
    }


def give_up(
    run: EntryRun, plan: Plan, tranches: tuple[Tranche, ...], tranche: Tranche, reason: str
) -> tuple[Tranche, ...]:
    """End a tranche without a (further) order: skipped, or filled with what it got."""
    bought = tranche.filled_base > 0
    done = replace(
        tranche,
        status=TrancheStatus.FILLED if bought else TrancheStatus.SKIPPED,
        done_at=run.now,
        note=reason,
        held_since=None,
        hold_gate=None,
        hold_reason=None,
    )
    run.repo.save(tranches=[done])
    what = f"ends with {tranche.filled_base} bought" if bought else "skipped"
    run.note(
        "tranche_skipped" if not bought else "tranche_filled",
        f"{label(plan, tranche)} {what}: {reason}; its budget is not spent elsewhere",
        symbol=plan.symbol,
        **data(plan, tranche),
    )
    return with_tranche(tranches, done)
