"""The signals as the daemon reads them: Fed series from their source, liquidation feeds, and
the strategy's live view of what the signal jobs (`bot.jobs.signals`) stored.

The jobs write snapshots to the store (`RuntimeState`: regime, liquidation totals, last flush);
`LiveSignals` reads them back for the strategy, so the entry job never waits on FRED or a
websocket, and `qtbot regime` / `qtbot liquidations` show exactly what the bot last decided on.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import structlog

from bot.config.settings import Settings
from bot.feeds.fed_inputs import inputs_from_directory, inputs_from_loads
from bot.feeds.fred_sources import (
    REGIME_SERIES,
    CachedFredLoader,
    fred_source,
)
from bot.feeds.liquidation_sources import FeedSpec, LiquidationWatcher, make_ccxt_pro_client
from bot.signals.calendar import FomcCalendar, load_fomc_calendar
from bot.signals.fed_announcements import load_announcements
from bot.signals.flush import FlushParams
from bot.signals.liquidation_feeds import FEED_CAPABILITIES, FeedMode
from bot.signals.regime import classify, known_at, pivots, regime_history
from bot.signals.regime_types import Regime, RegimeInputs, RegimeParams, toward_easing
from bot.signals.shipped_data import SHIPPED_DATA_DIR
from bot.state.runtime_state import KeyValueStore, RuntimeState
from bot.state.signals_repo import KvSnapshotCache, StoreLiquidationSink
from bot.state.store import Store
from bot.strategy.inputs import FlushView, RegimeView

log = structlog.get_logger("bot.signals")


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
    decisions = load_fomc_calendar(s.fomc_calendar_path).decisions
    if s.fed_source == "file":
        directory = s.fed_data_dir or SHIPPED_DATA_DIR
        inputs = inputs_from_directory(directory, announcements).with_decisions(decisions)
        return inputs, f"file:{directory}", []
    source = fred_source(s)
    loader = CachedFredLoader(source, KvSnapshotCache(store))
    loaded, warnings = inputs_from_loads(loader.load_many(REGIME_SERIES, now), announcements)
    if loaded is None:
        warnings.append("FRED unavailable and no cached copy: using the series shipped with qtbot")
        shipped = inputs_from_directory(SHIPPED_DATA_DIR, announcements)
        return shipped.with_decisions(decisions), "shipped", warnings
    return loaded.with_decisions(decisions), source.name, warnings


def regime_snapshot(
    inputs: RegimeInputs, now: datetime, params: RegimeParams, override: Regime | None
) -> dict[str, Any]:
    reading = classify(inputs, now, params, override)
    today = now.astimezone(UTC).date()
    history = regime_history(known_at(inputs, today, params, now), params, through=today)
    easing_pivots = [
        p for p in pivots(history) if p.date <= today and toward_easing(p.from_regime, p.to_regime)
    ]
    return {
        "as_of": now.isoformat(),
        "regime": reading.regime.value,
        "source": reading.source.value,
        "data_regime": reading.data_regime.value if reading.data_regime else None,
        "balance_sheet": reading.balance_sheet.value if reading.balance_sheet else None,
        "rate": reading.rate.value if reading.rate else None,
        "rate_set_by": reading.rate_set_by.label if reading.rate_set_by else None,
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
        "last_easing_pivot": easing_pivots[-1].date.isoformat() if easing_pivots else None,
        # the entry planner reads the current regime episode from these (RegimeView.periods)
        "periods": [[p.start.isoformat(), p.regime.value] for p in history if p.start <= today],
        "warnings": list(reading.warnings),
    }


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


# --- the strategy's view -----------------------------------------------------------------------


class LiveSignals:
    """`bot.strategy.inputs.Signals` over the snapshots the signal jobs keep in the store."""

    def __init__(self, store: KeyValueStore, calendar: FomcCalendar, params: FlushParams) -> None:
        self.store = store
        self.calendar = calendar
        self.params = params

    @classmethod
    def from_settings(cls, settings: Settings, store: Store) -> LiveSignals:
        calendar = load_fomc_calendar(settings.signals.fomc_calendar_path)
        return cls(store, calendar, settings.signals.flush_params())

    def regime(self, now: datetime) -> RegimeView | None:
        snapshot = RuntimeState(self.store).regime_snapshot()
        if snapshot is None:
            return None
        since = snapshot["since"] or snapshot["as_of"][:10]
        pivot = snapshot.get("last_easing_pivot")
        # An override replaces the current regime, so the data's periods do not lead up to it.
        periods = [] if snapshot["source"] == "override" else snapshot.get("periods") or []
        return RegimeView(
            regime=Regime(snapshot["regime"]),
            since=_midnight(date.fromisoformat(since)),
            last_pivot=_midnight(date.fromisoformat(pivot)) if pivot else None,
            source=snapshot["source"],
            periods=tuple((_midnight(date.fromisoformat(d)), Regime(r)) for d, r in periods),
        )

    def flush(self, symbol: str, now: datetime) -> FlushView | None:
        # Liquidation cascades flush leverage market-wide: one flush applies to every plan.
        data = RuntimeState(self.store).last_flush()
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
