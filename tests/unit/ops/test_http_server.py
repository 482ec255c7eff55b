"""The status server on loopback, checked with a real HTTP client."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.ops.notify.notifier import NotifierStats
from bot.ops.web.server import http_address, start_http, stop_http
from bot.ops.web.state import OpsState, VenueProbe, track_jobs
from bot.services.context import Context, JobSpec
from tests.unit.ops.seed import NOW, make_context, seed_trading_state

SAMPLE = re.compile(
    r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)"
    r'(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})?'
    r" (NaN|[+-]Inf|[-+]?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$"
)


class FakeNotifier:
    def stats(self) -> NotifierStats:
        return NotifierStats(queued=3, sent=2, failed=1, rate_limited={"fill": 4})


def beat(ctx: Context, age: timedelta = timedelta(seconds=5), stopped: bool = False) -> None:
    ctx.store.beat(
        "daemon",
        NOW - age,
        pid=1,
        host="vps",
        mode="paper",
        exchange="binance",
        started_at=NOW - timedelta(days=2),
        stopped=stopped,
    )


def serve(
    ctx: Context, scenario: Callable[[aiohttp.ClientSession, str], Awaitable[Any]], **kw: Any
) -> Any:
    async def main() -> Any:
        runner = await start_http(ctx, port=0, **kw)
        try:
            base = f"http://{http_address(runner)}"
            async with aiohttp.ClientSession() as session:
                return await scenario(session, base)
        finally:
            await stop_http(runner)

    return asyncio.run(main())


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    context = make_context(tmp_path)
    seed_trading_state(context)
    yield context
    context.store.close()


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, str, Any]:
    async with session.get(url) as response:
        return response.status, await response.text(), response.headers


def test_healthz_ok_when_beat_fresh_store_writable_and_venue_answering(ctx: Context) -> None:
    beat(ctx)
    state = OpsState()
    state.venue_ok(NOW - timedelta(seconds=20))

    async def scenario(session: aiohttp.ClientSession, base: str) -> Any:
        async with session.get(base + "/healthz") as response:
            return response.status, await response.json()

    status, body = serve(ctx, scenario, state=state)
    assert status == 200 and body["status"] == "ok"
    assert {name: c["ok"] for name, c in body["checks"].items()} == {
        "heartbeat": True,
        "store": True,
        "exchange": True,
    }
    assert ctx.store.get_value("health.checked_at") == NOW.isoformat()


@pytest.mark.parametrize(
    ("age", "stopped", "failing"),
    [
        pytest.param(timedelta(minutes=5), False, "heartbeat", id="stale_heartbeat"),
        pytest.param(timedelta(seconds=1), True, "heartbeat", id="stopped_daemon"),
    ],
)
def test_healthz_503_names_the_failing_check(
    ctx: Context, age: timedelta, stopped: bool, failing: str
) -> None:
    beat(ctx, age, stopped)

    async def scenario(session: aiohttp.ClientSession, base: str) -> Any:
        async with session.get(base + "/healthz") as response:
            return response.status, await response.json()

    status, body = serve(ctx, scenario)
    assert status == 503 and body["checks"][failing]["ok"] is False
    assert body["checks"]["exchange"]["ok"] is None  # no probe: unknown, not failing


def test_metrics_are_valid_prometheus_text_with_account_jobs_and_signals(ctx: Context) -> None:
    beat(ctx)
    state = OpsState()

    async def failing_job(c: Context, now: Any) -> None:
        raise TimeoutError("venue slow")

    jobs = track_jobs(
        [JobSpec("heartbeat", lambda c, now: None, 30), JobSpec("reconcile", failing_job, 300)],
        state,
    )

    async def scenario(session: aiohttp.ClientSession, base: str) -> Any:
        await jobs[0].function(ctx, NOW - timedelta(seconds=40))
        await jobs[0].function(ctx, NOW)  # 10 s late against its 30 s interval
        with pytest.raises(TimeoutError):
            await jobs[1].function(ctx, NOW)
        return await _get(session, base + "/metrics")

    status, text, headers = serve(ctx, scenario, state=state, notifier=FakeNotifier())
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    typed: set[str] = set()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            name = line.split()[2]
            assert name not in typed, f"{name} typed twice"
            typed.add(name)
            continue
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a valid sample line: {line!r}"
        assert match["name"] in typed, f"{match['name']} has no TYPE line"
        key, value = line.rsplit(" ", 1)
        samples[key] = float(value)
    assert samples['qtbot_position_value_quote{symbol="BTC/USDT"}'] == pytest.approx(660.0)
    assert samples['qtbot_position_value_quote{symbol="ETH/USDT"}'] == pytest.approx(570.0)
    assert samples["qtbot_exposure_quote"] == pytest.approx(1230.0)
    assert samples['qtbot_open_orders{side="buy",symbol="BTC/USDT"}'] == 1
    assert samples["qtbot_equity_quote"] == pytest.approx(10094.5)
    assert samples["qtbot_drawdown_ratio"] == pytest.approx(1 - 10094.5 / 10120)
    assert samples['qtbot_regime{regime="easing"}'] == 1
    assert (
        samples["qtbot_liquidation_flush_timestamp_seconds"]
        == (NOW - timedelta(hours=1)).timestamp()
    )
    assert samples['qtbot_journal_events_total{kind="order_rejected",level="warning"}'] == 1
    assert samples['qtbot_job_runs_total{job="heartbeat"}'] == 2
    assert samples['qtbot_job_lag_seconds{job="heartbeat"}'] == pytest.approx(10.0)
    assert samples['qtbot_job_errors_total{error="TimeoutError",job="reconcile"}'] == 1
    assert samples['qtbot_job_failures_in_a_row{job="reconcile"}'] == 1
    assert samples['qtbot_notifications_total{outcome="failed"}'] == 1
    assert samples['qtbot_notifications_rate_limited_total{kind="fill"}'] == 4
    assert samples['qtbot_info{exchange="binance",mode="paper"}'] == 1
    assert samples["qtbot_health_ok"] == 1


def test_status_page_shows_positions_orders_chart_and_escapes_journal_text(ctx: Context) -> None:
    beat(ctx)
    ctx.store.journal(NOW, "order_rejected", "<script>alert(1)</script>", level="warning")

    async def scenario(session: aiohttp.ClientSession, base: str) -> Any:
        page = await _get(session, base + "/")
        status_json = await _get(session, base + "/status.json")
        return page, status_json

    (status, html, headers), (json_status, json_text, _) = serve(ctx, scenario)
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "BTC/USDT" in html and "ETH/USDT" in html and "58,000.00" in html
    assert "<polyline" in html and "10,094.50" in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert json_status == 200 and '"positions"' in json_text


def test_server_binds_loopback_by_default_and_only_answers_get(ctx: Context) -> None:
    async def scenario(session: aiohttp.ClientSession, base: str) -> Any:
        async with session.post(base + "/healthz") as response:
            return base, response.status

    base, status = serve(ctx, scenario)
    assert base.startswith("http://127.0.0.1:") and status == 405


class FakeVenue:
    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.asked: list[str] = []

    async def fetch_ticker(self, symbol: str) -> None:
        self.asked.append(symbol)
        if self.error:
            raise self.error


def test_venue_probe_records_answers_and_failures(ctx: Context) -> None:
    state = OpsState()
    venue = FakeVenue()
    asyncio.run(VenueProbe(state, venue, "BTC/USDT")(ctx, NOW))  # type: ignore[arg-type]
    assert state.venue_ok_at == NOW and venue.asked == ["BTC/USDT"]
    failing = VenueProbe(state, FakeVenue(ConnectionError("refused")), "BTC/USDT")  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):
        asyncio.run(failing(ctx, NOW + timedelta(minutes=1)))  # type: ignore[arg-type]
    assert state.venue_ok_at == NOW and state.venue_error == "ConnectionError: refused"


def test_address_in_use_raises_and_leaves_nothing_running(ctx: Context) -> None:
    async def main() -> None:
        first = await start_http(ctx, port=0)
        port = int(http_address(first).rsplit(":", 1)[1])
        try:
            with pytest.raises(OSError):
                await start_http(ctx, port=port)
        finally:
            await stop_http(first)

    asyncio.run(main())
