"""The signals as the daemon runs them: regime job (file and FRED with cache), liquidation job,
the strategy's view, and the CLI commands."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config.settings import Settings
from bot.feeds.live import LiveSignals
from bot.jobs.signals import liquidation_check, regime_refresh
from bot.services.context import Context
from bot.signals.liquidations import LiquidationEvent
from bot.state.runtime_state import RuntimeState
from bot.state.signals_repo import ALL_SYMBOLS, StoreLiquidationSink
from bot.state.store import Store
from tests.conftest import run_qtbot
from tests.unit.fred_fake import ShippedFred, fred_serving

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _ctx(tmp_path: Path, **signals: object) -> Context:
    settings = Settings(signals={"fed_source": "file", **signals})
    store = Store.open(f"sqlite:///{tmp_path / 'q.sqlite'}")
    return Context(settings=settings, store=store, clock=None, started_at=NOW)  # type: ignore[arg-type]


def _kinds(ctx: Context) -> list[str]:
    return [e.kind for e in ctx.store.recent_journal(50)]


def test_regime_job_stores_snapshot_and_journals_only_changes(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    asyncio.run(regime_refresh(ctx, NOW))
    snapshot = RuntimeState(ctx.store).regime_snapshot() or {}
    assert snapshot["regime"] == "easing" and snapshot["source"] == "data"
    assert snapshot["since"] == "2025-12-01" and snapshot["last_easing_pivot"] == "2025-12-01"
    asyncio.run(regime_refresh(ctx, NOW + timedelta(hours=6)))
    assert _kinds(ctx).count("regime") == 1
    view = LiveSignals.from_settings(ctx.settings, ctx.store).regime(NOW)
    assert view is not None and view.regime == "easing"
    assert view.last_pivot == datetime(2025, 12, 1, tzinfo=UTC)
    ctx.store.close()


def test_override_wins_and_says_so(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, regime_override="tightening")
    asyncio.run(regime_refresh(ctx, NOW))
    snapshot = RuntimeState(ctx.store).regime_snapshot() or {}
    assert snapshot["regime"] == "tightening" and snapshot["source"] == "override"
    assert snapshot["data_regime"] == "easing"
    (entry,) = [e for e in ctx.store.recent_journal(10) if e.kind == "regime"]
    assert "manual override" in entry.message
    ctx.store.close()


@pytest.fixture
def fred_server() -> Iterator[tuple[str, type[ShippedFred]]]:
    with fred_serving() as served:
        yield served


def test_fred_download_is_cached_and_a_failed_fetch_keeps_the_last_snapshot(
    tmp_path: Path, fred_server: tuple[str, type[ShippedFred]]
) -> None:
    url, handler = fred_server
    ctx = _ctx(tmp_path, fed_source="fred", fred_url=url)
    asyncio.run(regime_refresh(ctx, NOW))
    first = RuntimeState(ctx.store).regime_snapshot() or {}
    assert first["data_source"] == "fred-csv" and first["regime"] == "easing"
    handler.failing = True
    asyncio.run(regime_refresh(ctx, NOW + timedelta(hours=6)))
    second = RuntimeState(ctx.store).regime_snapshot() or {}
    assert second["regime"] == "easing"
    assert any("WALCL" in w and "failed" in w for w in second["warnings"])
    assert "signal_warning" in _kinds(ctx)
    ctx.store.close()


def test_no_fred_and_no_cache_falls_back_to_the_shipped_series(
    tmp_path: Path, fred_server: tuple[str, type[ShippedFred]]
) -> None:
    url, handler = fred_server
    handler.failing = True
    ctx = _ctx(tmp_path, fed_source="fred", fred_url=url)
    asyncio.run(regime_refresh(ctx, NOW))
    snapshot = RuntimeState(ctx.store).regime_snapshot() or {}
    assert snapshot["data_source"] == "shipped" and snapshot["regime"] == "easing"
    assert any("shipped with qtbot" in w for w in snapshot["warnings"])
    ctx.store.close()


def _event(at: datetime, usd: float, side: str = "long", n: int = 0) -> LiquidationEvent:
    return LiquidationEvent(
        time=at,
        exchange="binance",
        symbol="BTC/USDT:USDT",
        liquidated_side=side,  # type: ignore[arg-type]
        quote_notional=Decimal(str(usd)),
        event_id=f"e{at.timestamp()}-{n}",
    )


def test_liquidation_bars_feed_the_flush_detector_and_the_strategy_view(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    sink = StoreLiquidationSink(ctx.store)
    start = NOW - timedelta(days=31)
    # A quiet month (1M USD of longs a day), then 120M in the last day.
    sink.write([_event(start + timedelta(hours=h), 1_000_000 / 24) for h in range(24 * 30)])
    sink.write([_event(NOW - timedelta(hours=h + 1), 5_000_000) for h in range(24)])
    sink.write([_event(NOW - timedelta(hours=2), 1_000, side="short")])
    bars = sink.bars(ALL_SYMBOLS, NOW - timedelta(days=2))
    assert bars[-1].long_usd == pytest.approx(5_000_000)
    assert sum(b.short_usd for b in bars) == pytest.approx(1_000)
    asyncio.run(liquidation_check(ctx, NOW))
    flush = RuntimeState(ctx.store).last_flush()
    assert flush is not None and flush["long_notional"] == pytest.approx(120_000_000)
    assert "flush" in _kinds(ctx)
    signals = LiveSignals.from_settings(ctx.settings, ctx.store)
    view = signals.flush("ETH/USDT", NOW + timedelta(hours=1))
    assert view is not None and view.symbol == "ETH/USDT"
    assert signals.flush("ETH/USDT", NOW + timedelta(hours=73)) is None
    # The cool-down keeps the same cascade from firing again on the next check.
    asyncio.run(liquidation_check(ctx, NOW + timedelta(hours=1)))
    assert _kinds(ctx).count("flush") == 1
    ctx.store.close()


def test_fomc_hours_come_from_the_shipped_calendar(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    signals = LiveSignals.from_settings(ctx.settings, ctx.store)
    # 2026-01-28 decision at 14:00 New York = 19:00 UTC.
    assert signals.hours_to_next_fomc(datetime(2026, 1, 28, 13, 0, tzinfo=UTC)) == 6.0
    ctx.store.close()


def test_regime_commands_on_the_shipped_data(workdir: Path) -> None:
    current = run_qtbot("regime", "--json", cwd=workdir)
    assert current.returncode == 0, current.stderr
    assert json.loads(current.stdout)["source"] == "data"
    history = run_qtbot("regime", "history", "--from", "2019-01-01", "--json", cwd=workdir)
    data = json.loads(history.stdout)
    pivots = {(p["date"], p["to"]) for p in data["pivots"]}
    assert ("2019-08-01", "easing") in pivots and ("2025-12-01", "easing") in pivots
    bad = run_qtbot("regime", "history", "--from", "last year", cwd=workdir)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr and "Traceback" not in bad.stderr
    liquidations = run_qtbot("liquidations", "--json", cwd=workdir)
    assert json.loads(liquidations.stdout)["last_flush"] is None
