"""`qtbot status` leads with one health line (what is failing, since when) from the store
alone, and shows equity and balances with the daemon stopped; `qtbot liquidations` says when
its feed is down."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bot.config.signals import SignalsSettings
from bot.ops.status import status_view
from bot.ops.status_health import account_view, health_view, liquidation_feed_state
from bot.signals.liquidations import LiquidationEvent
from bot.state.signals_repo import StoreLiquidationSink
from tests.conftest import run_qtbot
from tests.unit.ops.seed import make_context

NOW = datetime(2026, 3, 18, 14, 0, tzinfo=UTC)
STARTED = NOW - timedelta(hours=1)


def _beat(ctx: object, at: datetime, stopped: bool = False) -> None:
    ctx.store.beat(  # type: ignore[attr-defined]
        "daemon",
        at,
        pid=42,
        host="vps",
        mode="paper",
        exchange="binance",
        started_at=STARTED,
        stopped=stopped,
    )


def test_a_healthy_daemon_reads_ok(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    _beat(ctx, NOW - timedelta(seconds=10))
    ctx.store.record_equity(NOW - timedelta(seconds=40), Decimal("10250"), Decimal("4000"))
    health = health_view(ctx.settings, ctx.store, NOW)
    assert health["ok"] is True and health["since"] is None
    assert health["line"].startswith("ok: heartbeat: last beat 10.0 s ago; exchange: answered")
    ctx.store.close()


def test_an_unreachable_venue_is_failing_since_its_first_failure(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    _beat(ctx, NOW - timedelta(seconds=10))
    ok_at = NOW - timedelta(minutes=30)
    ctx.store.record_equity(ok_at, Decimal("10000"), Decimal("10000"))
    first, last = ok_at + timedelta(minutes=1), NOW - timedelta(minutes=1)
    ctx.store.journal(
        ok_at - timedelta(minutes=5), "job_failed", "entry failed: old", level="error"
    )
    ctx.store.journal(first, "job_failed", "entry failed: binance: DNS", level="error")
    ctx.store.journal(last, "job_failed", "risk_check failed: binance: DNS", level="error")
    health = health_view(ctx.settings, ctx.store, NOW)
    assert health["ok"] is False
    assert health["since"] == first.isoformat()
    assert health["line"].startswith(f"FAILING since {first.isoformat(timespec='seconds')[:19]}Z")
    assert "exchange: last success 1800.0 s ago; last error: risk_check failed" in health["line"]
    assert "heartbeat" not in health["line"]  # the daemon itself is fine
    ctx.store.close()


def test_a_stopped_daemon_is_failing_since_it_stopped(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    stopped_at = NOW - timedelta(hours=2)
    _beat(ctx, stopped_at, stopped=True)
    health = health_view(ctx.settings, ctx.store, NOW)
    assert health["ok"] is False and health["since"] == stopped_at.isoformat()
    assert "heartbeat: daemon stopped at" in health["line"]
    assert health["checks"]["exchange"]["ok"] is None  # nobody asked the venue
    ctx.store.close()


def test_paper_cash_is_known_before_any_valuation(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    account = account_view(ctx.settings, ctx.store)
    assert account["equity"] == "10000" and account["cash"] == "10000"
    assert account["balances"] == {"USDT": "10000"}
    assert "starting balance" in account["balances_source"]
    ctx.store.record_equity(NOW, Decimal("10321.5"), Decimal("2000"))
    account = account_view(ctx.settings, ctx.store)
    assert (account["equity"], account["cash"]) == ("10321.5", "2000")
    ctx.store.close()


def test_status_view_leads_with_health_and_account(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    view = status_view(ctx.settings, ctx.store, NOW)
    assert list(view)[:2] == ["health", "mode"]
    assert view["health"]["line"].startswith("FAILING")  # never ran: no heartbeat
    assert view["account"]["equity"] == "10000"
    ctx.store.close()


def test_status_prints_the_health_line_first_and_the_equity(workdir: Path) -> None:
    assert run_qtbot("pause", cwd=workdir).returncode == 0  # creates the database
    result = run_qtbot("status", cwd=workdir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "health:    FAILING: heartbeat: no heartbeat recorded"
    assert "equity:    10000 USDT (cash 10000; all cash, no valuation needed)" in lines
    assert "entries:   PAUSED (risk-off)" in lines


def _event(at: datetime) -> LiquidationEvent:
    return LiquidationEvent(
        time=at,
        exchange="binance",
        symbol="BTC/USDT:USDT",
        liquidated_side="long",
        quote_notional=Decimal(60000),
        event_id=at.isoformat(),
    )


def test_liquidation_feed_is_down_when_nothing_arrived_for_two_hours(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, signals=SignalsSettings(liquidation_feeds="binance"))
    _beat(ctx, NOW - timedelta(seconds=5))
    StoreLiquidationSink(ctx.store).write([_event(NOW - timedelta(hours=5))])
    state = liquidation_feed_state(ctx.settings, ctx.store, NOW)
    assert state["state"] == "down" and "nothing received from binance since" in state["detail"]
    StoreLiquidationSink(ctx.store).write([_event(NOW - timedelta(minutes=3))])
    assert liquidation_feed_state(ctx.settings, ctx.store, NOW)["state"] == "receiving"
    _beat(ctx, NOW - timedelta(hours=1), stopped=True)
    state = liquidation_feed_state(ctx.settings, ctx.store, NOW)
    assert state["state"] == "down" and "not running" in state["detail"]
    ctx.store.close()
