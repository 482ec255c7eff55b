"""The signals as the daemon runs them: regime refresh and liquidation jobs, and the live view.

The jobs write snapshots to the store (kv `regime.current`, `liquidations.current`,
`liquidations.last_flush`); `LiveSignals` reads them back for the strategy, so the entry job
never waits on FRED or a websocket, and `qtbot regime` / `qtbot liquidations` show exactly what
the bot last decided on.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import structlog

from bot.config.settings import Settings
from bot.feeds.fed_inputs import inputs_from_directory, inputs_from_loads
from bot.feeds.fred_sources import (
    FRED_API_URL,
    FRED_CSV_URL,
    REGIME_SERIES,
    CachedFredLoader,
    FredApi,
    FredCsvDownload,
)
from bot.feeds.liquidation_sources import (
    FEED_CAPABILITIES,
    FeedMode,
    FeedSpec,
    LiquidationWatcher,
    make_ccxt_pro_client,
)
from bot.services.context import Context
from bot.signals.calendar import FomcCalendar, load_fomc_calendar
from bot.signals.fed_announcements import load_announcements
from bot.signals.flush import Flush, FlushParams, evaluate_flush
from bot.signals.regime import classify, pivots, regime_history
from bot.signals.regime_types import CombineRule, Regime, RegimeInputs, RegimeParams
from bot.signals.shipped_data import SHIPPED_DATA_DIR
from bot.state.signals_repo import ALL_SYMBOLS, KvSnapshotCache, StoreLiquidationSink
from bot.state.store import Store
from bot.strategy.inputs import FlushView, RegimeView

log = structlog.get_logger("bot.signals")

REGIME_KEY = "regime.current"
LIQUIDATIONS_KEY = "liquidations.current"
FLUSH_KEY = "liquidations.last_flush"
_RANK = {Regime.TIGHTENING: 0, Regime.NEUTRAL: 1, Regime.EASING: 2}


def regime_params(settings: Settings) -> RegimeParams:
    s = settings.signals
    return RegimeParams(
        bs_window_weeks=s.bs_window_weeks,
        bs_enter_change=s.bs_enter_change_pct / 100,
        bs_exit_change=s.bs_exit_change_pct / 100,
        rate_window_days=s.rate_window_days,
        rule=CombineRule(s.regime_rule),
    )


def flush_params(settings: Settings) -> FlushParams:
    s = settings.signals
    return FlushParams(
        window=timedelta(hours=s.flush_window_hours),
        min_long_usd=s.flush_min_long_usd,
        min_multiple=s.flush_min_multiple,
        cooldown=timedelta(hours=s.flush_cooldown_hours),
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


# --- Fed regime ------------------------------------------------------------------------------


def load_regime_inputs(
    settings: Settings, store: Store, now: datetime
) -> tuple[RegimeInputs | None, str, list[str]]:
    """The Fed series from the configured source; falls back to the shipped copy, with a warning.

    Blocking (HTTP for `fred`): the job runs it in a thread.
    """
    s = settings.signals
    announcements = load_announcements(s.fed_announcements_path)
    if s.fed_source == "file":
        directory = s.fed_data_dir or SHIPPED_DATA_DIR
        return inputs_from_directory(directory, announcements), f"file:{directory}", []
    source: FredApi | FredCsvDownload
    if s.fred_api_key:
        source = FredApi(s.fred_api_key.get_secret_value(), base_url=s.fred_url or FRED_API_URL)
    else:
        source = FredCsvDownload(base_url=s.fred_url or FRED_CSV_URL)
    loader = CachedFredLoader(source, KvSnapshotCache(store))
    inputs, warnings = inputs_from_loads(loader.load_many(REGIME_SERIES, now), announcements)
    if inputs is None:
        warnings.append("FRED unavailable and no cached copy: using the series shipped with qtbot")
        return inputs_from_directory(SHIPPED_DATA_DIR, announcements), "shipped", warnings
    return inputs, source.name, warnings


def regime_snapshot(
    inputs: RegimeInputs, now: datetime, params: RegimeParams, override: Regime | None
) -> dict[str, Any]:
    reading = classify(inputs, now, params, override)
    today = now.astimezone(UTC).date()
    history = regime_history(inputs, params, through=today)
    toward_easing = [
        p for p in pivots(history) if p.date <= today and _RANK[p.to_regime] > _RANK[p.from_regime]
    ]
    return {
        "as_of": now.isoformat(),
        "regime": reading.regime.value,
        "source": reading.source.value,
        "data_regime": reading.data_regime.value if reading.data_regime else None,
        "balance_sheet": reading.balance_sheet.value if reading.balance_sheet else None,
        "rate": reading.rate.value if reading.rate else None,
        "policy_rate": reading.policy_rate,
        "since": reading.since.isoformat() if reading.since else None,
        "last_pivot": (
            {
                "date": reading.last_pivot.date.isoformat(),
                "from": reading.last_pivot.from_regime.value,
                "to": reading.last_pivot.to_regime.value,
                "causes": list(reading.last_pivot.causes),
            }
            if reading.last_pivot
            else None
        ),
        "last_easing_pivot": toward_easing[-1].date.isoformat() if toward_easing else None,
        "warnings": list(reading.warnings),
    }


async def regime_refresh(ctx: Context, now: datetime) -> None:
    """Reload the Fed series (cached), classify, journal regime changes and pivots."""
    settings = ctx.settings
    inputs, source, warnings = await asyncio.to_thread(load_regime_inputs, settings, ctx.store, now)
    assert inputs is not None
    override = settings.signals.regime_override
    snapshot = regime_snapshot(
        inputs, now, regime_params(settings), Regime(override) if override else None
    )
    snapshot["data_source"] = source
    snapshot["warnings"] = warnings + snapshot["warnings"]
    previous = json.loads(ctx.store.get_value(REGIME_KEY) or "null")
    ctx.store.set_value(REGIME_KEY, json.dumps(snapshot), now)
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
    return before is not None and _RANK[Regime(after)] > _RANK[Regime(before)]


# --- liquidations ----------------------------------------------------------------------------


def feed_specs(settings: Settings) -> list[FeedSpec]:
    s = settings.signals
    if s.liquidation_feeds == "none":
        return []
    symbols = tuple(x.strip() for x in s.liquidation_symbols.split(",") if x.strip())
    specs = []
    for exchange in s.liquidation_feeds.split(","):
        modes = FEED_CAPABILITIES[exchange].modes
        all_markets = FeedMode.WS_ALL_MARKETS in modes
        specs.append(FeedSpec(exchange, () if all_markets else symbols))
    return specs


def build_watcher(settings: Settings, store: Store) -> LiquidationWatcher | None:
    specs = feed_specs(settings)
    if not specs:
        return None
    return LiquidationWatcher(specs, StoreLiquidationSink(store), make_ccxt_pro_client)


async def liquidation_check(ctx: Context, now: datetime) -> None:
    """Evaluate the flush detector on the stored hourly bars (all symbols together)."""
    params = flush_params(ctx.settings)
    sink = StoreLiquidationSink(ctx.store)
    hour_end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    since = hour_end - params.window * (params.baseline_windows + 1)
    bars = sink.bars(ALL_SYMBOLS, since)
    last = json.loads(ctx.store.get_value(FLUSH_KEY) or "null")
    last_at = datetime.fromisoformat(last["time"]) if last else None
    last_hour = [b for b in bars if b.start >= hour_end - timedelta(hours=1)]
    day = [b for b in bars if b.start >= hour_end - timedelta(hours=24)]
    ctx.store.set_value(
        LIQUIDATIONS_KEY,
        json.dumps(
            {
                "as_of": now.isoformat(),
                "long_usd_1h": sum(b.long_usd for b in last_hour),
                "short_usd_1h": sum(b.short_usd for b in last_hour),
                "long_usd_24h": sum(b.long_usd for b in day),
                "short_usd_24h": sum(b.short_usd for b in day),
                "bars": len(bars),
            }
        ),
        now,
    )
    flush = evaluate_flush(bars, hour_end, params, last_at)
    if flush is None:
        return
    ctx.store.set_value(FLUSH_KEY, json.dumps(_flush_json(flush)), now)
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


# --- the strategy's view -----------------------------------------------------------------------


class LiveSignals:
    """`bot.strategy.inputs.Signals` over the snapshots the signal jobs keep in the store."""

    def __init__(self, store: Store, calendar: FomcCalendar, params: FlushParams) -> None:
        self.store = store
        self.calendar = calendar
        self.params = params

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> LiveSignals:
        calendar = load_fomc_calendar(settings.signals.fomc_calendar_path)
        return cls(store, calendar, flush_params(settings))

    def regime(self, now: datetime) -> RegimeView | None:
        snapshot = json.loads(self.store.get_value(REGIME_KEY) or "null")
        if snapshot is None:
            return None
        since = snapshot["since"] or snapshot["as_of"][:10]
        pivot = snapshot.get("last_easing_pivot")
        return RegimeView(
            regime=snapshot["regime"],
            since=_midnight(date.fromisoformat(since)),
            last_pivot=_midnight(date.fromisoformat(pivot)) if pivot else None,
            source=snapshot["source"],
        )

    def flush(self, symbol: str, now: datetime) -> FlushView | None:
        # Liquidation cascades flush leverage market-wide: one flush applies to every plan.
        data = json.loads(self.store.get_value(FLUSH_KEY) or "null")
        if data is None:
            return None
        at = datetime.fromisoformat(data["time"])
        if not (at <= now < at + self.params.cooldown):
            return None
        return FlushView(
            at=at, symbol=symbol, reason=data["reason"], long_notional=data["long_notional"]
        )

    def hours_to_next_fomc(self, now: datetime) -> float | None:
        return self.calendar.hours_until_next_decision(now)
