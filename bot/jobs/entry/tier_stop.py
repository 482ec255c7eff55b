"""No buying into a take-profit: once a tier is done in a plan's cycle, its entries end.

A tier sells part of the position because the price rose past the average entry by the tier's
gain; a tranche bought after that buys back above the sale and raises the average the exits
measure from. So the first time the entry job sees a tier taken (or skipped by the risk engine
because the venue could not take it) in the plan's own position cycle, every tranche not yet
bought is cancelled (a resting order through the order manager, keeping what it filled), one
journal line says why, and the plan completes like a plan whose tranches are all done.
"""

from __future__ import annotations

from bot.jobs.entry.following import cancel_live
from bot.jobs.entry.run import EntryRun
from bot.strategy.plans import Plan, Tranche, TrancheStatus
from risk.marks import tiers_done
from risk.position import Position

_OPEN = (TrancheStatus.PENDING, TrancheStatus.ORDERED)


async def stop_after_tier(
    run: EntryRun, plan: Plan, tranches: tuple[Tranche, ...], position: Position
) -> tuple[Tranche, ...]:
    """`tranches` with every open one ended when a tier is done in the plan's cycle."""
    left = [t for t in tranches if t.status in _OPEN]
    if not left or plan.position_cycle_id is None or position.cycle_id != plan.position_cycle_id:
        return tranches
    done = tiers_done(position, run.orders.repo.marks().get(plan.symbol))
    if not done:
        return tranches
    why = f"{_tier_text(run, plan, position, min(done))} in this cycle"
    ended = {}
    for tranche in left:
        ended[tranche.number] = await cancel_live(
            run, plan, tranche, f"{why}; no buying back above a sale"
        )
    tranches = tuple(ended.get(t.number, t) for t in tranches)
    run.repo.save(tranches=list(ended.values()))
    cancelled = [n for n, t in sorted(ended.items()) if t.status is TrancheStatus.CANCELED]
    kept = [n for n, t in sorted(ended.items()) if t.status is TrancheStatus.FILLED]
    what = f"tranche{'s' if len(left) > 1 else ''} {_numbers(sorted(ended))} cancelled"
    if kept:
        what += f" (tranche {_numbers(kept)} keeps what it bought)"
    run.note(
        "tranches_cancelled",
        f"{plan.symbol} {what}: {why}; no buying back above a sale",
        symbol=plan.symbol,
        plan_id=plan.plan_id,
        cycle=plan.cycle,
        canceled=cancelled,
        tiers=sorted(done),
    )
    return tranches


def _tier_text(run: EntryRun, plan: Plan, position: Position, tier: int) -> str:
    """'tier 1 sold at 121.0 on 2025-12-05', or 'tier 1 skipped' when the venue could not."""
    opened = position.opened_at
    sale = next(
        (
            f
            for f in run.orders.repo.position_fills(plan.symbol)
            if f.tier == tier and (opened is None or f.timestamp >= opened)
        ),
        None,
    )
    if sale is None:
        return f"tier {tier} skipped (the venue could not take it)"
    return f"tier {tier} sold at {sale.price} on {sale.timestamp:%Y-%m-%d %H:%M}"


def _numbers(numbers: list[int]) -> str:
    """[3, 4] -> '3-4'; [2, 4] -> '2, 4'."""
    if len(numbers) > 1 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(map(str, numbers))
