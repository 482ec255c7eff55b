"""The operations pieces wired as the daemon wires them: tracked jobs, notifier, status server."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import aiohttp

from bot.config.notify import NotifySettings
from bot.jobs.heartbeat import heartbeat
from bot.ops.web.operations import Operations
from bot.runtime.compose import compose
from bot.runtime.daemon import Daemon
from bot.services.context import JobSpec
from bot.strategy.inputs import MemoryPriceHistory
from tests.unit.ops.receiver import loopback_receiver
from tests.unit.ops.seed import NOW, make_context


class ProbedVenue:
    """The one venue call the operations jobs make: the probe's ticker."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def fetch_ticker(self, symbol: str) -> None:
        self.asked.append(symbol)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_daemon_jobs_notify_and_serve_health_and_metrics(tmp_path: Path) -> None:
    port = free_port()
    seed = make_context(tmp_path, http={"enabled": True, "port": port})
    venue = ProbedVenue()
    with loopback_receiver() as rx:
        notify = NotifySettings(urls=rx.url(), daily_summary_hour=None)  # type: ignore[arg-type]
        ctx = compose(
            seed.settings.model_copy(update={"notify": notify}),
            store=seed.store,
            clock=seed.clock,
            exchange=venue,  # type: ignore[arg-type]
            price_history=MemoryPriceHistory(),
            signals=None,
        )
        ops = Operations.for_context(ctx)
        jobs = ops.wrap_jobs([JobSpec("heartbeat", heartbeat, 30)])
        assert [j.name for j in jobs] == ["heartbeat", "notify", "venue_probe"]
        daemon = Daemon(ctx, jobs)

        async def scenario() -> tuple[int, dict[str, Any], str]:
            await ops.start()
            try:
                assert await daemon.run_once()
                ctx.store.journal(NOW, "stop_loss", "20% below entry", symbol="BTC/USDT")
                assert await daemon.run_once()
                base = f"http://127.0.0.1:{port}"
                async with aiohttp.ClientSession() as session:
                    async with session.get(base + "/healthz") as response:
                        status, health = response.status, await response.json()
                    await asyncio.to_thread(rx.wait_for, 1)
                    for _ in range(40):  # the worker counts the delivery just after it lands
                        async with session.get(base + "/metrics") as response:
                            metrics = await response.text()
                        if 'qtbot_notifications_total{outcome="sent"} 1.0' in metrics:
                            break
                        await asyncio.sleep(0.05)
                return status, health, metrics
            finally:
                await ops.stop()

        status, health, metrics = asyncio.run(scenario())
        (post,) = rx.wait_for(1)
    assert status == 200 and health["checks"]["heartbeat"]["ok"] is True
    assert post[1]["title"] == "qtbot paper/binance: stop loss BTC/USDT"
    assert 'qtbot_job_runs_total{job="notify"} 2.0' in metrics
    assert 'qtbot_notifications_total{outcome="sent"} 1.0' in metrics
    assert ops.runner is None and venue.asked == ["BTC/USDT", "BTC/USDT"]
    ctx.store.close()


def test_without_urls_or_http_nothing_extra_runs(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    ops = Operations.for_context(ctx)
    jobs = ops.wrap_jobs([JobSpec("heartbeat", heartbeat, 30)])
    assert [j.name for j in jobs] == ["heartbeat"]
    asyncio.run(ops.start())
    assert ops.runner is None
    asyncio.run(ops.stop())
    ctx.store.close()
