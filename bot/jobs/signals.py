"""The signal jobs: refresh the Fed regime, evaluate liquidation flushes. Each is `job(ctx, now)`.

They write snapshots through `RuntimeState`; the strategy reads them back through
`bot.feeds.live.LiveSignals`.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from bot.feeds.live import load_regime_inputs, regime_snapshot
from bot.services.context import Context
from bot.signals.flush import Flush, evaluate_flush
from bot.signals.regime_types import toward_easing
from bot.state.runtime_state import RuntimeState
from bot.state.signals_repo import ALL_SYMBOLS, StoreLiquidationSink

log = structlog.get_logger("bot.signals")


async def regime_refresh(ctx: Context, now: datetime) -> None:
    """Reload the Fed series (cached), classify, journal regime changes and pivots."""
    settings = ctx.settings
    inputs, source, warnings = await asyncio.to_thread(load_regime_inputs, settings, ctx.store, now)
    assert inputs is not None
    override = settings.signals.regime_override
    snapshot = regime_snapshot(inputs, now, settings.signals.regime_params(), override)
    snapshot["data_source"] = source
    snapshot["warnings"] = warnings + snapshot["warnings"]
    state = RuntimeState(ctx.store)
    previous = state.regime_snapshot()
    state.set_regime_snapshot(snapshot, now)
    log.info(
        "regime",
        regime=snapshot["regime"],
        source=snapshot["source"],
        since=snapshot["since"],
        data_source=source,
        warnings=snapshot["warnings"],
    )
    if previous is None or previous["regime"] != snapshot["regime"]:
        was = previous["regime"] if previous else None
        kind = "regime_pivot" if previous and _is_easing_move(was, snapshot["regime"]) else "regime"
        ctx.store.journal(
            now,
            kind,
            f"regime {snapshot['regime']} (was {was or 'unknown'}; "
            f"{'manual override' if snapshot['source'] == 'override' else 'from data'}, "
            f"since {snapshot['since']})",
            regime=snapshot["regime"],
            previous=was,
            source=snapshot["source"],
        )
    if warnings and (previous is None or previous.get("warnings") != snapshot["warnings"]):
        ctx.store.journal(now, "signal_warning", "; ".join(warnings), level="warning")


def _is_easing_move(before: str | None, after: str) -> bool:
    return before is not None and toward_easing(before, after)


async def liquidation_check(ctx: Context, now: datetime) -> None:
    """Evaluate the flush detector on the stored hourly bars (all symbols together)."""
    params = ctx.settings.signals.flush_params()
    state = RuntimeState(ctx.store)
    sink = StoreLiquidationSink(ctx.store)
    hour_end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    since = hour_end - params.window * (params.baseline_windows + 1)
    bars = sink.bars(ALL_SYMBOLS, since)
    last = state.last_flush()
    last_at = datetime.fromisoformat(last["time"]) if last else None
    last_hour = [b for b in bars if b.start >= hour_end - timedelta(hours=1)]
    day = [b for b in bars if b.start >= hour_end - timedelta(hours=24)]
    totals = {
        "as_of": now.isoformat(),
        "long_usd_1h": sum(b.long_usd for b in last_hour),
        "short_usd_1h": sum(b.short_usd for b in last_hour),
        "long_usd_24h": sum(b.long_usd for b in day),
        "short_usd_24h": sum(b.short_usd for b in day),
        "bars": len(bars),
    }
    state.set_liquidations(totals, now)
    last_long = float(last["long_notional"]) if last and last.get("long_notional") else None
    flush = evaluate_flush(bars, hour_end, params, last_at, last_long)
    if flush is None:
        return
    state.set_last_flush(_flush_json(flush), now)
    log.warning("liquidation_flush", long_usd=flush.long_notional, multiple=flush.multiple)
    ctx.store.journal(
        now,
        "flush",
        flush.reason,
        level="warning",
        long_usd=flush.long_notional,
        multiple=flush.multiple,
    )


def _flush_json(flush: Flush) -> dict[str, Any]:
    return {
        "time": flush.time.isoformat(),
        "symbol": flush.symbol,
        "long_notional": flush.long_notional,
        "multiple": flush.multiple,
        "reason": flush.reason,
        "window_hours": flush.window.total_seconds() / 3600,
    }
