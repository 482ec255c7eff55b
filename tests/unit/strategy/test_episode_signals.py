"""Both signal sources hand the strategy the regime periods it reads the episode from."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from bot.backtest.fed_signals import PointInTimeRegime
from bot.config.settings import Settings
from bot.feeds.fed_inputs import shipped_inputs
from bot.feeds.live import LiveSignals
from bot.jobs.signals import regime_refresh
from bot.services.context import Context
from bot.state.store import Store
from bot.strategy.gates import episode_start
from bot.strategy.inputs import RegimeView
from bot.strategy.params import StrategyParams

NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)
# Shipped data: tightening until the 2024-09-18 cut (neutral), easing from the 2025-12-01 end
# of QT. Neutral and easing both start plans: one episode from 2024-09-18.
EPISODE = datetime(2024, 9, 18, tzinfo=UTC)


def _live_view(tmp_path: Path, **signals: object) -> RegimeView | None:
    settings = Settings(signals={"fed_source": "file", **signals})
    store = Store.open(f"sqlite:///{tmp_path / 'q.sqlite'}")
    ctx = Context(settings=settings, store=store, clock=None, started_at=NOW)  # type: ignore[arg-type]
    asyncio.run(regime_refresh(ctx, NOW))
    view = LiveSignals.from_settings(settings, store).regime(NOW)
    store.close()
    return view


def test_the_live_view_carries_the_periods_and_the_episode_spans_neutral_to_easing(
    tmp_path: Path,
) -> None:
    view = _live_view(tmp_path)
    assert view is not None and view.periods and view.periods[-1][1] == view.regime
    assert view.since > EPISODE  # easing began later; the episode did not
    assert episode_start(view, StrategyParams()) == EPISODE
    easing_only = StrategyParams(start_regimes=frozenset({"easing"}))
    assert episode_start(view, easing_only) == view.since


def test_an_override_carries_no_data_periods(tmp_path: Path) -> None:
    view = _live_view(tmp_path, regime_override="easing")
    assert view is not None and view.source == "override" and view.periods == ()


def test_the_backtest_view_agrees_with_the_live_one(tmp_path: Path) -> None:
    recorded = PointInTimeRegime(shipped_inputs()).view(NOW.date())
    live = _live_view(tmp_path)
    assert recorded is not None and live is not None
    assert episode_start(recorded, StrategyParams()) == episode_start(live, StrategyParams())
