"""The two lines `qtbot status` leads with: is the daemon healthy (and since when not), and what
the account holds. Read from the store alone, so they are true with the daemon stopped.

Health is `bot.ops.web.health`'s evaluation (the one behind /healthz) over what the store
keeps: the heartbeat row, the risk job's last valuation of the book (it needs the venue's
prices and balances, so it stands for "the venue answered") and the `job_failed` journal.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.config.settings import Settings
from bot.config.values import parse_balances
from bot.ops.web.health import Check, evaluate_health, health_policy
from bot.ops.web.state import VENUE_PROBE_SECONDS
from bot.state.signals_repo import ALL_SYMBOLS, StoreLiquidationSink
from bot.state.store import HeartbeatView, JournalView, Store
from exchanges.paper.store import stored_balances

# Enough to reach back to the first failure of a streak: the daemon journals the first
# failure of each job and then every tenth.
FAILURES_READ = 100


def _when(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def health_view(settings: Settings, store: Store | None, now: datetime) -> dict[str, Any]:
    """{"ok": True/False/None, "since": ISO time or None, "line": one line, "checks": {...}}."""
    if store is None:
        return {
            "ok": None,
            "since": None,
            "line": "unknown: the daemon has never run",
            "checks": {},
        }
    beat = store.heartbeat()
    point = store.current_equity()
    ok_at = point.at if point else None
    failures = _failures_this_run(store.recent_journal(FAILURES_READ, kind="job_failed"), beat)
    since_ok = [f for f in failures if ok_at is None or f.at > ok_at]
    venue = (ok_at, since_ok[0].at if since_ok else None, since_ok[0].message if since_ok else None)
    policy = health_policy(settings.daemon.heartbeat_seconds, VENUE_PROBE_SECONDS)
    report = evaluate_health(now, beat, None, venue, policy)
    heartbeat, _, exchange = report.checks  # the store is not probed by a reader
    if heartbeat.ok is False and not since_ok:
        # Nobody asks the venue while the daemon is down: its age says nothing about the venue.
        exchange = Check("exchange", None, "not asked while the daemon is down")
    since = {
        "heartbeat": _heartbeat_since(beat),
        "exchange": since_ok[-1].at if since_ok else ok_at,
    }
    failing = [c for c in (heartbeat, exchange) if c.ok is False]
    starts = [s for c in failing if (s := since[c.name]) is not None]
    first = min(starts) if starts else None
    if failing:
        head = f"FAILING since {_when(first)}" if first else "FAILING"
        line = f"{head}: " + "; ".join(f"{c.name}: {c.detail}" for c in failing)
    else:
        line = "ok: " + "; ".join(f"{c.name}: {c.detail}" for c in (heartbeat, exchange))
    return {
        "ok": not failing,
        "since": first.isoformat() if first else None,
        "line": line,
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in (heartbeat, exchange)},
    }


def _failures_this_run(rows: list[JournalView], beat: HeartbeatView | None) -> list[JournalView]:
    """Newest first; an earlier run's failures are history, not the present state."""
    return [r for r in rows if beat is None or r.at >= beat.started_at]


def _heartbeat_since(beat: HeartbeatView | None) -> datetime | None:
    if beat is None:
        return None
    return beat.stopped_at or beat.at


def account_view(settings: Settings, store: Store | None) -> dict[str, Any]:
    """Equity and cash as the risk job last valued them; the balances the paper ledger holds
    (or the configured starting balance before the first run). Known offline."""
    quote = settings.strategy.quote_currency
    point = store.current_equity() if store else None
    balances: dict[str, Decimal] = {}
    source = "the venue's balances are read by the daemon, not stored"
    if settings.exchange.mode == "paper":
        balances = stored_balances(store.engine) if store else {}
        source = "paper ledger"
        if not balances:
            balances = parse_balances(settings.exchange.paper_starting_balance)
            source = "paper starting balance: no paper trade yet"
    view: dict[str, Any] = {
        "quote": quote,
        "equity": None,
        "cash": None,
        "valued_at": None,
        "equity_note": None,
        "balances": {asset: _plain(amount) for asset, amount in sorted(balances.items())},
        "balances_source": source,
    }
    if point is not None:
        view["equity"] = _plain(point.equity)
        view["cash"] = _plain(point.cash) if point.cash is not None else None
        view["valued_at"] = point.at.isoformat()
    elif balances and all(asset == quote for asset, amount in balances.items() if amount):
        # Nothing but cash: the equity is the cash, no price needed.
        view["equity"] = view["cash"] = _plain(balances.get(quote, Decimal(0)))
        view["equity_note"] = "all cash, no valuation needed"
    else:
        view["equity_note"] = "the daemon has not valued the book yet"
    return view


def _plain(value: Decimal) -> str:
    return f"{value.normalize():f}"


# The all-market stream carries several liquidations a minute; two empty hours mean the feed
# is not receiving (the store keeps hourly bars, so an hour is the finest this can tell).
QUIET_HOURS = 2


def liquidation_feed_state(
    settings: Settings, store: Store | None, now: datetime
) -> dict[str, Any]:
    """{"state": "off" | "down" | "receiving", "detail": one line} from the store alone."""
    feeds = settings.signals.liquidation_feeds
    if feeds == "none":
        return {
            "state": "off",
            "detail": "no feed configured (QTBOT_SIGNALS__LIQUIDATION_FEEDS=none): no data",
        }
    beat = store.heartbeat() if store else None
    policy = health_policy(settings.daemon.heartbeat_seconds, VENUE_PROBE_SECONDS)
    running = evaluate_health(now, beat, None, (None, None, None), policy).checks[0]
    if running.ok is not True:
        return {
            "state": "down",
            "detail": f"DOWN: the daemon runs the {feeds} feed and it is not running "
            f"({running.detail}); the totals below are old",
        }
    assert store is not None  # a heartbeat was read from it
    bars = StoreLiquidationSink(store).bars(ALL_SYMBOLS, now - timedelta(hours=48))
    last = max((b.start for b in bars), default=None)
    if last is None or now - last > timedelta(hours=QUIET_HOURS):
        since = "in the last 48 h" if last is None else f"since the hour from {_when(last)}"
        return {
            "state": "down",
            "detail": f"DOWN: nothing received from {feeds} {since}; the daemon log says why "
            "(liquidation_feed_error)",
        }
    return {
        "state": "receiving",
        "detail": f"receiving from {feeds} (last: hour from {_when(last)})",
    }
