"""Gates between a due tranche (or a plan start) and the order manager. Pure.

Each gate returns why it holds (a sentence for the journal) or None when it lets through.
The entry job asks a due tranche's gates in the order regime, FOMC, risk, anti-chase
(`bot.jobs.entry.placing`); the first reason wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from bot.strategy.inputs import RegimeView
from bot.strategy.params import StrategyParams
from bot.strategy.plans import Plan

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


def alt_lag_gate(
    symbol: str,
    reference: Plan | None,
    reference_price: Decimal | None,
    now: datetime,
    params: StrategyParams,
) -> str | None:
    """An alt plan starts once the reference (BTC) has gained `alt_lag_gain` since its plan
    began, or `alt_lag_days` after that start. Core assets and a reference missing from the
    allocation are not held (the caller passes `reference=None` only when BTC is allocated
    but has no plan yet)."""
    if params.is_core(symbol):
        return None
    gain_needed, days_needed = params.alt_lag_gain, params.alt_lag_days
    if gain_needed is None and days_needed is None:
        return None
    ref = params.reference_symbol
    if reference is None:
        return f"alts follow {ref}: waiting for its plan to start"
    age = _days(now - reference.created_at)
    if days_needed is not None and age >= days_needed:
        return None
    gain: Decimal | None = None
    if reference.start_price and reference_price is not None:
        gain = reference_price / reference.start_price - 1
        if gain_needed is not None and gain >= gain_needed:
            return None
    conditions = []
    if gain_needed is not None:
        shown = "unknown" if gain is None else _pct(gain)
        conditions.append(f"{ref} gain since its plan began {shown} < {_pct(gain_needed)}")
    if days_needed is not None:
        conditions.append(f"{age:.1f} of {days_needed:g} days since it began")
    return "alts lag " + ref + ": " + "; ".join(conditions)


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
