"""Gates between a due tranche (or a plan start) and the order manager. Pure.

Each gate returns why it holds (a sentence for the journal) or None when it lets through.
The entry job asks a due tranche's gates in the order regime, FOMC, risk, anti-chase
(`bot.jobs.entry.placing`); the first reason wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.strategy.inputs import FlushView, RegimeView
from bot.strategy.params import StrategyParams
from bot.strategy.plans import Plan, Tranche

REGIME = "regime"
FOMC = "fomc"
ANTI_CHASE = "anti_chase"
ALT_LAG = "alt_lag"
RISK = "risk"
COOLDOWN = "cooldown"

_DAY_SECONDS = 86400.0


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / _DAY_SECONDS


def _pct(fraction: Decimal) -> str:
    return f"{(fraction * 100).quantize(Decimal('0.01'))}%"


def regime_start_gate(view: RegimeView | None, now: datetime, params: StrategyParams) -> str | None:
    """A new plan needs a regime in `start_regimes` and, if `pivot_window_days` is set, an
    easing pivot no older than that."""
    if view is None:
        return "no Fed regime signal yet: no plan starts blind"
    if view.regime not in params.start_regimes:
        allowed = "/".join(sorted(params.start_regimes))
        return (
            f"regime is {view.regime} since {view.since:%Y-%m-%d} ({view.source}); "
            f"plans start in {allowed}"
        )
    window = params.pivot_window_days
    if window is not None:
        if view.last_pivot is None:
            return f"no easing pivot known; plans start within {window:g} days of one"
        age = _days(now - view.last_pivot)
        if age > window:
            return (
                f"last easing pivot {view.last_pivot:%Y-%m-%d} is {age:.1f} days old; "
                f"plans start within {window:g} days of one"
            )
    return None


def regime_pause_gate(view: RegimeView | None, params: StrategyParams) -> str | None:
    """Tranches pause while the regime is in `pause_regimes` (or unknown)."""
    if view is None:
        return "no Fed regime signal: tranches wait"
    if view.regime in params.pause_regimes:
        return (
            f"regime turned {view.regime} on {view.since:%Y-%m-%d} ({view.source}): tranches paused"
        )
    return None


def fomc_gate(hours_to_next: float | None, params: StrategyParams) -> str | None:
    """No tranche within `fomc_blackout_hours` before an FOMC decision."""
    blackout = params.fomc_blackout_hours
    if hours_to_next is None or blackout <= 0:
        return None
    if 0 <= hours_to_next < blackout:
        return f"FOMC decision in {hours_to_next:.1f} h (blackout {blackout:g} h before it)"
    return None


def anti_chase_gate(
    price: Decimal, closes: Sequence[Decimal], params: StrategyParams
) -> str | None:
    """Hold while `price` is more than `anti_chase_pct` above the average of `closes`.

    With no closes at all the gate cannot judge and lets the tranche through (the job notes
    it): a missing candle source must not freeze every entry, and the risk limits still apply.
    """
    limit = params.anti_chase_pct
    if limit is None or not closes:
        return None
    average = sum(closes, Decimal(0)) / len(closes)
    if average <= 0:
        return None
    above = price / average - 1
    if above > limit:
        return (
            f"price {price} is {_pct(above)} above its {len(closes)}-day average "
            f"{average.quantize(Decimal('0.01'))} (max {_pct(limit)}): not chasing"
        )
    return None


def anti_chase_expired(scheduled_at: datetime, now: datetime, params: StrategyParams) -> bool:
    """A tranche delayed by anti-chase longer than the max delay (from its due time) is skipped."""
    return _days(now - scheduled_at) >= params.anti_chase_max_delay_days


def episode_start(view: RegimeView, params: StrategyParams) -> datetime:
    """When the current regime episode began: the unbroken run of `start_regimes` up to now.

    With the view's periods: walk back from the current period while each is a start regime
    (tightening -> neutral -> easing is one episode from the first change). Without them: the
    last easing pivot when the latest change went toward tightening inside the start regimes
    (easing -> neutral continues the episode that pivot began), else when the regime began.
    """
    periods = view.periods
    if periods and periods[-1][1] == view.regime:
        start = view.since
        for began, regime in reversed(periods):
            if regime not in params.start_regimes:
                break
            start = min(start, began)
        return start
    pivot = view.last_pivot
    if pivot is not None and pivot < view.since and "easing" in params.start_regimes:
        return pivot
    return view.since


@dataclass(frozen=True)
class LagReference:
    """The reference (BTC) entry of the current regime episode that alts measure their lag from.

    began_at / price: the plan's start and start price; for a plan created in an earlier
    episode that had bought nothing before this one (its tranches held by a pause), its first
    tranche placed in this episode and that tranche's average fill (None until it fills).
    """

    plan: Plan
    began_at: datetime
    price: Decimal | None
    carried_over: bool = False

    def describe(self) -> str:
        plan = self.plan
        if self.carried_over:
            how = (
                f"created {plan.created_at:%Y-%m-%d} in an earlier episode, first tranche "
                f"of this episode placed {self.began_at:%Y-%m-%d}"
            )
        else:
            how = f"began {self.began_at:%Y-%m-%d}"
        return f"{plan.symbol} plan {plan.plan_id} (cycle {plan.cycle}, {how})"


def lag_reference(
    plan: Plan | None, tranches: Sequence[Tranche], episode: datetime
) -> LagReference | None:
    """The reference symbol's latest `plan` if it belongs to the episode that began at
    `episode`: created in it, or created before it but with nothing bought before it and a
    tranche placed in it. None otherwise (the alts wait for the reference's plan of this
    episode)."""
    if plan is None:
        return None
    if plan.created_at >= episode:
        return LagReference(plan, plan.created_at, plan.start_price)
    placed = [(t.first_placed_at, t) for t in tranches if t.first_placed_at is not None]
    if any(at < episode and t.filled_base > 0 for at, t in placed):
        return None  # it bought in an earlier episode: its cycle is not this episode's
    in_episode = sorted((at, t.number, t) for at, t in placed if at >= episode)
    if not in_episode:
        return None
    began_at, _, first = in_episode[0]
    return LagReference(plan, began_at, first.average_price, carried_over=True)


@dataclass(frozen=True)
class AltLag:
    """The alt-lag decision: `hold` says why the alt waits (None: it may start); `note` names
    the reference plan the decision was measured from, for the journal."""

    hold: str | None
    note: str | None = None


def alt_lag(
    symbol: str,
    latest: Plan | None,
    tranches: Sequence[Tranche],
    reference_price: Decimal | None,
    view: RegimeView | None,
    now: datetime,
    params: StrategyParams,
) -> AltLag:
    """An alt plan starts once the reference (BTC) has gained `alt_lag_gain` since its plan of
    the current regime episode began, or `alt_lag_days` after that start (`lag_reference`).

    `latest` is the reference symbol's latest plan and `tranches` its tranches. Core assets and
    a reference missing from the allocation are not held (the caller passes `latest=None` only
    when BTC is allocated but has no plan yet).
    """
    if params.is_core(symbol):
        return AltLag(None)
    gain_needed, days_needed = params.alt_lag_gain, params.alt_lag_days
    if gain_needed is None and days_needed is None:
        return AltLag(None)
    ref = params.reference_symbol
    if view is None:
        return AltLag(f"alts follow {ref}: no regime known, so no episode to follow in")
    episode = episode_start(view, params)
    reference = lag_reference(latest, tranches, episode)
    if reference is None:
        why = (
            f"alts follow {ref}: waiting for {ref}'s plan of this regime episode "
            f"(since {episode:%Y-%m-%d})"
        )
        if latest is not None:
            why += (
                f"; its latest plan {latest.plan_id} (cycle {latest.cycle}, created "
                f"{latest.created_at:%Y-%m-%d}) belongs to an earlier episode"
            )
        return AltLag(why)
    age = _days(now - reference.began_at)
    gain: Decimal | None = None
    if reference.price and reference_price is not None:
        gain = reference_price / reference.price - 1
    shown = "unknown" if gain is None else _pct(gain)
    measured = (
        f"{reference.describe()}: {ref} {shown} since, {age:.1f} days "
        f"(regime episode since {episode:%Y-%m-%d})"
    )
    if days_needed is not None and age >= days_needed:
        return AltLag(None, f"alts follow {measured}; {days_needed:g} days passed")
    if gain_needed is not None and gain is not None and gain >= gain_needed:
        return AltLag(None, f"alts follow {measured}; gain >= {_pct(gain_needed)}")
    conditions = []
    if gain_needed is not None:
        conditions.append(f"gain {shown} < {_pct(gain_needed)}")
    if days_needed is not None:
        conditions.append(f"{age:.1f} of {days_needed:g} days")
    return AltLag(
        f"alts lag {ref}: " + "; ".join(conditions) + f", measured from {reference.describe()}",
        measured,
    )


def alt_lag_gate(
    symbol: str,
    latest: Plan | None,
    tranches: Sequence[Tranche],
    reference_price: Decimal | None,
    view: RegimeView | None,
    now: datetime,
    params: StrategyParams,
) -> str | None:
    """Why the alt waits for the reference (see `alt_lag`), or None."""
    return alt_lag(symbol, latest, tranches, reference_price, view, now, params).hold


def risk_gate(block_reasons: Sequence[str]) -> str | None:
    """The risk job's stored block reasons (kill switch, risk-off, total exposure)."""
    if not block_reasons:
        return None
    return "risk engine blocks entries: " + "; ".join(block_reasons)


def cooldown_gate(last: Plan | None, now: datetime, params: StrategyParams) -> str | None:
    """A new cycle starts `cycle_cooldown_days` after the last one closed."""
    if last is None or last.closed_at is None:
        return None
    ready = last.closed_at + timedelta(days=params.cycle_cooldown_days)
    if now < ready:
        return (
            f"cycle {last.cycle} closed {last.closed_at:%Y-%m-%d %H:%M}; cool-down until "
            f"{ready:%Y-%m-%d %H:%M} ({params.cycle_cooldown_days:g} days)"
        )
    return None


def cooldown_waiver(
    last: Plan | None,
    exited_at: datetime | None,
    flush: FlushView | None,
    params: StrategyParams,
) -> str | None:
    """Why a liquidation flush waives the cool-down after `last`, or None.

    With `flush_waives_cooldown`, a flush at or after the cycle's exit (`exited_at`: its last
    sale; the plan's close time when unknown) lets the next plan start at once: a stop-out on
    a flush day must not keep the bot from buying the flush the playbook buys. A flush before
    the exit is the one the cycle already met; it waives nothing.
    """
    if not params.flush_waives_cooldown or flush is None or last is None:
        return None
    ended = exited_at or last.closed_at
    if ended is None or flush.at < ended:
        return None
    size = "" if flush.long_notional is None else f", {flush.long_notional / 1e6:.1f}M USD of longs"
    return (
        f"cool-down waived: liquidation flush at {flush.at:%Y-%m-%d %H:%M}{size} came after "
        f"cycle {last.cycle} exited {ended:%Y-%m-%d %H:%M}"
    )
