"""What `qtbot status` shows, read from the store alone (the daemon need not run)."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from bot.config.risk_params import fraction, risk_params
from bot.config.settings import Settings, public_view
from bot.ops.plan_progress import plan_status
from bot.orders.intents import OrderRecord
from bot.orders.protective_stop import KIND, daemon_stop_level
from bot.state.plans_repo import StrategyRepo
from bot.state.runtime_state import RuntimeState
from bot.state.store import Store
from risk.marks import tiers_done
from risk.position import position_from_fills
from risk.stops import position_stop


def _text(value: Decimal | None, places: int = 8) -> str | None:
    if value is None:
        return None
    return f"{value.quantize(Decimal(1).scaleb(-places)).normalize():f}"


def positions_view(settings: Settings, store: Store) -> list[dict[str, Any]]:
    repo = store.order_repo()
    params = risk_params(settings.risk)
    prices = RuntimeState(store).last_prices()
    marks = repo.marks()
    active = repo.active()
    rows = []
    for symbol in repo.fill_symbols():
        position = position_from_fills(symbol, repo.position_fills(symbol))
        if not position.is_open():
            continue
        price = prices.get(symbol)
        mark = marks.get(symbol)
        next_tier = next(
            (
                (index, tier)
                for index, tier in enumerate(params.take_profit_tiers, start=1)
                if index not in tiers_done(position, mark)
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
                "tiers_skipped": sorted(tiers_done(position, mark) - position.tiers_taken),
                "next_tier": None
                if next_tier is None
                else {
                    "tier": next_tier[0],
                    "gain_pct": _text(next_tier[1].gain * 100, 2),
                    "price": _text(position.avg_entry_price * (1 + next_tier[1].gain), 4),
                    "sell_pct": _text(next_tier[1].sell_fraction * 100, 2),
                },
                **_stop_view(settings, active, position, mark, params),
                "high_water_mark": _text(mark.high_water_mark, 4) if mark else None,
                "trailing_stop": _text(mark.trailing_stop, 4) if mark else None,
                "hard_stop": _text(stop.price, 4) if stop else None,
            }
        )
    return rows


def _stop_view(
    settings: Settings, active: list[OrderRecord], position: Any, mark: Any, params: Any
) -> dict[str, Any]:
    """The daemon's stop level next to the stop resting on the exchange, mismatch flagged."""
    level = daemon_stop_level(position, mark, params)
    resting = [r for r in active if r.symbol == position.symbol and r.kind == KIND]
    stop = max(resting, key=lambda r: r.created_at) if resting else None
    mismatch = None
    if settings.risk.exchange_stop and level is not None:
        step = fraction(settings.risk.exchange_stop_step_pct)
        if stop is None:
            mismatch = "no stop resting on the exchange"
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
            "last_replaced": stop.updated_at.isoformat(),
            "status": stop.status.value,
        },
        "stop_mismatch": mismatch,
    }


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
        "mode": settings.exchange.mode,
        "exchange": settings.exchange.id,
        "database": public_view(settings)["database_url"],
        "risk_off": settings.risk.risk_off or (store.risk_off() if store else False),
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
    view["positions"] = positions_view(settings, store)
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
