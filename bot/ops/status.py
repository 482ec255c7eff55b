"""What `qtbot status` shows, read from the store alone (the daemon need not run).

Positions are rebuilt from the stored fills with the dust threshold the daemon last used (each
market's minimum amount, kept by the risk job), so a remainder the daemon treats as closed is
no position here either. The exchange stop is the store's record; `stop_source` says whether
the daemon's last open-orders check confirmed it at the venue, and how long ago that was: with
the daemon down that view only ages, and says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from bot.config.risk_params import fraction, risk_params
from bot.config.settings import Settings, public_view
from bot.ops.plan_progress import plan_status
from bot.ops.status_health import account_view, health_view
from bot.orders.intents import OrderRecord
from bot.orders.protective_stop import KIND, daemon_stop_level
from bot.state.plans_repo import StrategyRepo
from bot.state.runtime_state import RuntimeState, StopCheck
from bot.state.store import Store
from risk.marks import PositionMarks, tiers_done
from risk.params import RiskParams
from risk.position import Position, position_from_fills
from risk.stops import position_stop

# The venue check runs every risk tick; older than this many ticks, the view is stale.
STALE_TICKS = 3


def _text(value: Decimal | None, places: int = 8) -> str | None:
    if value is None:
        return None
    return f"{value.quantize(Decimal(1).scaleb(-places)).normalize():f}"


def positions_view(
    settings: Settings, store: Store, now: datetime | None = None
) -> list[dict[str, Any]]:
    repo = store.order_repo()
    state = RuntimeState(store)
    dust_by_symbol = state.dust()
    params = risk_params(settings.risk, dust_by_symbol=dust_by_symbol)
    prices = state.last_prices()
    check = state.stop_check()
    marks = repo.marks()
    active = repo.active()
    rows = []
    for symbol in repo.fill_symbols():
        dust = dust_by_symbol.get(symbol, Decimal(0))
        position = position_from_fills(symbol, repo.position_fills(symbol), dust)
        if not position.is_open(dust):
            continue
        price = prices.get(symbol)
        mark = marks.get(symbol)
        done = tiers_done(position, mark)
        next_tier = next(
            (
                (index, tier)
                for index, tier in enumerate(params.take_profit_tiers, start=1)
                if index not in done
            ),
            None,
        )
        stop = position_stop(position, mark, params)
        rows.append(
            {
                "symbol": symbol,
                "size": _text(position.size),
                "avg_entry": _text(position.avg_entry_price, 4),
                "last_price": _text(price, 4),
                "unrealized_pnl": _text(position.unrealized_pnl(price), 2) if price else None,
                "gain_pct": _text(position.gain(price) * 100, 2) if price else None,
                "realized_pnl": _text(position.realized_pnl, 2),
                "fees": _text(position.fees, 4),
                "tiers_taken": sorted(position.tiers_taken),
                "tiers_skipped": sorted(done - position.tiers_taken),
                "next_tier": None
                if next_tier is None
                else {
                    "tier": next_tier[0],
                    "gain_pct": _text(next_tier[1].gain * 100, 2),
                    "price": _text(position.avg_entry_price * (1 + next_tier[1].gain), 4),
                    "sell_pct": _text(next_tier[1].sell_fraction * 100, 2),
                },
                **_stop_view(settings, active, position, mark, params, check, now),
                "high_water_mark": _text(mark.high_water_mark, 4) if mark else None,
                "trailing_stop": _text(mark.trailing_stop, 4) if mark else None,
                "hard_stop": _text(stop.price, 4) if stop else None,
            }
        )
    return rows


def _stop_view(
    settings: Settings,
    active: list[OrderRecord],
    position: Position,
    mark: PositionMarks | None,
    params: RiskParams,
    check: StopCheck | None,
    now: datetime | None,
) -> dict[str, Any]:
    """The daemon's stop level next to the stop resting on the exchange, mismatch flagged,
    and where the view of that stop comes from."""
    level = daemon_stop_level(position, mark, params)
    resting = [r for r in active if r.symbol == position.symbol and r.kind == KIND]
    stop = max(resting, key=lambda r: r.created_at) if resting else None
    source = _stop_source(settings, stop, check, now)
    mismatch = None
    if settings.risk.exchange_stop and level is not None:
        step = fraction(settings.risk.exchange_stop_step_pct)
        if stop is None:
            mismatch = "no stop resting on the exchange"
        elif source["seen_at_venue"] is False:
            mismatch = (
                f"exchange stop {stop.client_order_id} was not open at the venue at its last "
                f"check ({source['checked_at']})"
            )
        elif stop.amount != position.size.quantize(stop.amount, rounding=ROUND_DOWN):
            mismatch = f"exchange stop sells {stop.amount}, position is {position.size}"
        elif stop.trigger_price is not None and abs(stop.trigger_price - level) > level * step:
            mismatch = f"exchange stop at {stop.trigger_price}, daemon stop at {_text(level, 4)}"
    return {
        "daemon_stop": _text(level, 4),
        "exchange_stop": None
        if stop is None
        else {
            "client_order_id": stop.client_order_id,
            "trigger_price": _text(stop.trigger_price, 4),
            "limit_price": _text(stop.price, 4),
            "amount": _text(stop.amount),
            "last_moved": stop.last_moved.isoformat(),
            "status": stop.status.value,
        },
        "stop_source": source,
        "stop_notice": _vanished_notice(position, check),
        "stop_mismatch": mismatch,
    }


def _stop_source(
    settings: Settings, stop: OrderRecord | None, check: StopCheck | None, now: datetime | None
) -> dict[str, Any]:
    """Store or venue: the daemon's last open-orders check, its age, and whether it listed
    this stop; `stale` when no check came for `STALE_TICKS` risk ticks (daemon down?)."""
    if check is None:
        return {
            "source": "store",
            "checked_at": None,
            "age_seconds": None,
            "seen_at_venue": None,
            "stale": stop is not None,
            "note": "store only: the daemon has not checked the venue's open orders yet",
        }
    age = None if now is None else round((now - check.at).total_seconds(), 1)
    when = f"{check.at.isoformat(timespec='seconds')}" + ("" if age is None else f", {age} s ago")
    # The check runs only while a stop is recorded: with none, its age says nothing.
    stale = (
        stop is not None
        and now is not None
        and now - check.at > timedelta(seconds=STALE_TICKS * settings.risk.check_seconds)
    )
    # A stop placed in or after the check's tick (e.g. replacing one the check found gone)
    # was not there to be seen.
    seen = (
        None
        if stop is None or stop.created_at >= check.at
        else stop.client_order_id in (check.open_ids)
    )
    if stale:
        note = (
            f"store: the venue was last checked {when}; no check for {STALE_TICKS} risk "
            "ticks, is the daemon running?"
        )
    elif stop is None:
        note = f"store: no stop recorded; the daemon last checked the venue {when}"
    elif seen is None:
        note = f"store: placed after the daemon's last venue check ({when})"
    else:
        listed = "listed open" if seen else "NOT listed open"
        note = f"venue: {listed} at the daemon's last check ({when})"
    return {
        "source": "venue" if seen is not None and not stale else "store",
        "checked_at": check.at.isoformat(),
        "age_seconds": age,
        "seen_at_venue": seen,
        "stale": stale,
        "note": note,
    }


def _vanished_notice(position: Position, check: StopCheck | None) -> str | None:
    """The last stop of this position found canceled at the venue (not by the daemon)."""
    gone = check.vanished.get(position.symbol) if check else None
    if gone is None or (position.opened_at is not None and gone[1] < position.opened_at):
        return None
    cid, at = gone
    return (
        f"exchange stop {cid} was canceled at the venue, not by the daemon (found "
        f"{at.isoformat(timespec='seconds')}); the daemon placed a new one"
    )


def orders_view(store: Store) -> list[dict[str, Any]]:
    return [
        {
            "client_order_id": r.client_order_id,
            "symbol": r.symbol,
            "side": r.side.value,
            "type": r.type.value,
            "amount": _text(r.amount),
            "price": _text(r.price, 4),
            "filled": _text(r.filled),
            "status": r.status.value,
            "kind": r.kind,
            "since": r.created_at.isoformat(),
        }
        for r in store.order_repo().active()
    ]


def status_view(settings: Settings, store: Store | None, now: datetime) -> dict[str, Any]:
    view: dict[str, Any] = {
        "health": health_view(settings, store, now),
        "mode": settings.exchange.mode,
        "exchange": settings.exchange.id,
        "database": public_view(settings)["database_url"],
        "risk_off": settings.risk.risk_off or (store.risk_off() if store else False),
        "account": account_view(settings, store),
        "entries_blocked_by": [],
        "heartbeat": None,
        "regime": None,
        "plans": [],
        "positions": [],
        "open_orders": [],
        "recent_events": [],
    }
    if store is None:
        view["note"] = "no database yet: the daemon has not run (start it with `make run`)"
        return view
    state = RuntimeState(store)
    view["entries_blocked_by"] = state.entries_blocked()
    beat = store.heartbeat()
    if beat is not None:
        view["heartbeat"] = {
            "at": beat.at.isoformat(),
            "age_seconds": round((now - beat.at).total_seconds(), 1),
            "pid": beat.pid,
            "host": beat.host,
            "running": beat.stopped_at is None,
            "started_at": beat.started_at.isoformat(),
        }
    view["positions"] = positions_view(settings, store, now)
    view["plans"] = [
        {**progress.as_dict(), "summary": progress.summary()}
        for progress in plan_status(StrategyRepo(store.engine), now)
    ]
    regime = state.regime_snapshot()
    view["regime"] = (
        None
        if regime is None
        else {k: regime[k] for k in ("regime", "source", "since", "as_of", "last_easing_pivot")}
    )
    view["open_orders"] = orders_view(store)
    view["recent_events"] = [
        {
            "at": e.at.isoformat(),
            "kind": e.kind,
            "level": e.level,
            "symbol": e.symbol,
            "message": e.message,
        }
        for e in store.recent_journal(10)
    ]
    return view
