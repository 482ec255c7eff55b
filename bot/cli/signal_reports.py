"""What `qtbot regime`, `qtbot regime history` and `qtbot liquidations` print.

The typer commands (`bot.cli.signals`) import this module when they run: it needs the
settings, the store and the Fed series, which `qtbot --help` should not pay for.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import typer

from bot.cli.common import fail, open_store_or_exit, settings_or_exit
from bot.config.settings import Settings
from bot.feeds.live import load_regime_inputs, regime_snapshot
from bot.ops.status_health import liquidation_feed_state
from bot.runtime.logs import configure_cli_logging
from bot.signals.calendar import CalendarFileError
from bot.signals.fed_announcements import AnnouncementFileError
from bot.signals.fred import FredParseError
from bot.signals.regime import known_at, pivots, regime_history
from bot.signals.regime_types import Pivot, RegimeInputs, RegimePeriod, StateChange
from bot.state.runtime_state import RuntimeState
from bot.state.store import Store


def _inputs_or_exit(
    settings: Settings, store: Store, now: datetime
) -> tuple[RegimeInputs, str, list[str]]:
    try:
        inputs, source, warnings = load_regime_inputs(settings, store, now)
    except (FredParseError, AnnouncementFileError, CalendarFileError, OSError) as exc:
        fail(f"fed data error: {exc}")
    assert inputs is not None
    return inputs, source, warnings


def _current(env_file: Path | None) -> dict[str, Any]:
    settings = settings_or_exit(env_file)
    configure_cli_logging(settings)
    store = open_store_or_exit(settings)
    try:
        stored = RuntimeState(store).regime_snapshot()
        if stored:
            snapshot = stored
            snapshot["note"] = "as last computed by the daemon's regime job"
            return snapshot
        now = datetime.now(UTC)
        inputs, source, warnings = _inputs_or_exit(settings, store, now)
        signals = settings.signals
        snapshot = regime_snapshot(inputs, now, signals.regime_params(), signals.regime_override)
        snapshot["data_source"] = source
        snapshot["warnings"] = warnings + snapshot["warnings"]
        snapshot["note"] = "computed now (the daemon has not stored a regime yet)"
        return snapshot
    finally:
        store.close()


def print_regime(json_output: bool, env_file: Path | None) -> None:
    snapshot = _current(env_file)
    if json_output:
        typer.echo(json.dumps(snapshot, indent=2))
        return
    source = "MANUAL OVERRIDE" if snapshot["source"] == "override" else "data"
    typer.echo(f"regime:        {snapshot['regime']} ({source}; since {snapshot['since']})")
    typer.echo(
        f"components:    balance sheet {snapshot['balance_sheet']}, rate {snapshot['rate']} "
        f"(policy rate {snapshot['policy_rate']})"
    )
    if snapshot.get("rate_set_by"):
        typer.echo(f"rate set by:   {snapshot['rate_set_by']}")
    typer.echo(f"as of:         {snapshot['as_of'][:19]} from {snapshot.get('data_source')}")
    pivot = snapshot["last_pivot"]
    if pivot:
        typer.echo(f"last pivot:    {pivot['date']} {pivot['from']} -> {pivot['to']}")
        for cause in pivot.get("causes", []):
            typer.echo(f"  caused by:   {cause}")
    typer.echo(f"easing pivot:  {snapshot['last_easing_pivot'] or 'none known'}")
    for warning in snapshot["warnings"]:
        typer.echo(f"warning:       {warning}")
    typer.echo(f"note:          {snapshot['note']}")


def print_history(since: str | None, json_output: bool, env_file: Path | None) -> None:
    try:
        first = date.fromisoformat(since) if since else None
    except ValueError:
        fail(f"--from {since!r} is not a date; use YYYY-MM-DD")
    settings = settings_or_exit(env_file)
    configure_cli_logging(settings)
    store = open_store_or_exit(settings)
    now = datetime.now(UTC)
    try:
        inputs, source, warnings = _inputs_or_exit(settings, store, now)
    finally:
        store.close()
    params = settings.signals.regime_params()
    # A calendar may carry outcomes dated after today (a copy made later): show only the past.
    periods = regime_history(known_at(inputs, now.date(), params, now), params)
    shown = [p for p in periods if first is None or (p.end is None or p.end > first)]
    changes = [p for p in pivots(periods) if first is None or p.date >= first]
    if json_output:
        typer.echo(json.dumps(_history_json(source, warnings, shown, changes), indent=2))
        return
    typer.echo(f"{'start':<12}{'end':<12}{'regime':<12}{'balance sheet':<15}{'rate':<9}started by")
    for period in shown:
        end = period.end.isoformat() if period.end else "now"
        started_by = "; ".join(c.label for c in period.changes) or "(start of the data)"
        typer.echo(
            f"{period.start.isoformat():<12}{end:<12}{period.regime.value:<12}"
            f"{period.balance_sheet.value:<15}{period.rate.value:<9}{started_by}"
        )
    typer.echo("pivots (each on the day of the Fed action that caused it):")
    for pivot in changes:
        typer.echo(f"  {pivot.date}  {pivot.from_regime.value} -> {pivot.to_regime.value}")
        for cause in pivot.causes:
            typer.echo(f"              {cause}")
    for warning in warnings:
        typer.echo(f"warning: {warning}")


def _change_json(change: StateChange) -> dict[str, Any]:
    action = change.action
    return {
        "action": action.label,
        "action_date": action.day.isoformat(),
        "action_kind": action.kind.value,
        "what": action.what,
        "note": action.note,
        "component": change.component,
        "from": change.before,
        "to": change.after,
        "via": change.via,
    }


def _history_json(
    source: str, warnings: list[str], shown: list[RegimePeriod], changes: list[Pivot]
) -> dict[str, Any]:
    return {
        "source": source,
        "warnings": warnings,
        "periods": [
            {
                "start": p.start.isoformat(),
                "end": p.end.isoformat() if p.end else None,
                "regime": p.regime.value,
                "balance_sheet": p.balance_sheet.value,
                "rate": p.rate.value,
                "started_by": [_change_json(c) for c in p.changes],
            }
            for p in shown
        ],
        "pivots": [
            {
                "date": p.date.isoformat(),
                "from": p.from_regime.value,
                "to": p.to_regime.value,
                "causes": list(p.causes),
                "changes": [_change_json(c) for c in p.changes],
            }
            for p in changes
        ],
    }


def print_liquidations(json_output: bool, env_file: Path | None) -> None:
    settings = settings_or_exit(env_file)
    store = open_store_or_exit(settings)
    try:
        current = RuntimeState(store).liquidations()
        flush = RuntimeState(store).last_flush()
        feed = liquidation_feed_state(settings, store, datetime.now(UTC))
    finally:
        store.close()
    view = {
        "feeds": settings.signals.liquidation_feeds,
        "feed": feed,
        "current": current,
        "last_flush": flush,
    }
    if json_output:
        typer.echo(json.dumps(view, indent=2))
        return
    typer.echo(f"feeds:      {view['feeds']}")
    typer.echo(f"feed:       {feed['detail']}")
    if current is None:
        typer.echo("windows:    no data yet (the daemon aggregates every minute)")
    else:
        typer.echo(
            f"last 1h:    longs {current['long_usd_1h']:,.0f} USD, "
            f"shorts {current['short_usd_1h']:,.0f} USD"
        )
        typer.echo(
            f"last 24h:   longs {current['long_usd_24h']:,.0f} USD, "
            f"shorts {current['short_usd_24h']:,.0f} USD (as of {current['as_of'][:19]})"
        )
    if flush is None:
        typer.echo("last flush: none")
    else:
        typer.echo(f"last flush: {flush['time'][:16]} {flush['reason']}")
