"""Stopping the daemon: no new job run starts, running jobs get the grace period, and an order
send in flight always ends with the venue's answer recorded, even when its job is cancelled."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import structlog

from bot.execution.manager import OrderManager
from bot.orders.intents import IntentStatus, OrderRecord
from bot.runtime.daemon import Daemon
from bot.services.context import Context, JobSpec
from bot.state.store import Store
from tests.unit.held_venue import HeldVenue, market_buy
from tests.unit.ops.seed import make_context
from tests.unit.orders.venue import make_venue

DEADLINE = 60.0  # only a real hang reaches it


@dataclass
class World:
    ctx: Context
    store: Store
    venue: HeldVenue
    manager: OrderManager
    logs: list[dict[str, Any]]


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    with structlog.testing.capture_logs() as captured:
        yield captured


def _world(tmp_path: Path, logs: list[dict[str, Any]], grace: float) -> World:
    ctx = make_context(tmp_path, daemon={"stop_grace_seconds": grace})
    venue = HeldVenue(make_venue(ctx.store.engine))
    manager = OrderManager(ctx.store, venue, "binance")  # type: ignore[arg-type]
    return World(ctx, ctx.store, venue, manager, logs)


def _events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


async def _until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), DEADLINE)


async def _spin(times: int = 50) -> None:
    """Let every ready callback run a few times over (no wall time involved)."""
    for _ in range(times):
        await asyncio.sleep(0)


@dataclass
class SendingJob:
    """A job that sends one market buy and notes how far it got."""

    world: World
    record: OrderRecord | None = None
    finished: bool = False
    cancelled: bool = False

    async def __call__(self, ctx: Context, now: datetime) -> None:
        try:
            self.record = await self.world.manager.submit(
                market_buy(), self.world.venue.clock.now()
            )
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.finished = True


def _daemon(world: World, job: Callable[[Context, datetime], Awaitable[None]]) -> Daemon:
    # An hour between runs: each job runs once, at start-up.
    return Daemon(world.ctx, [JobSpec("entry", job, 3600)])  # type: ignore[list-item]


def _stored(world: World) -> list[OrderRecord]:
    return world.store.order_repo().by_cause(market_buy().cause)


def test_stop_lets_a_job_inside_an_order_send_finish_and_records_the_answer(
    tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    world = _world(tmp_path, logs, grace=30)
    job = SendingJob(world)
    daemon = _daemon(world, job)

    async def scenario() -> None:
        running = asyncio.create_task(daemon.run_forever())
        await asyncio.wait_for(world.venue.entered.wait(), DEADLINE)
        daemon.request_stop("test")
        await _until(lambda: bool(_events(logs, "daemon_waiting_for_jobs")))
        await _spin()
        assert not running.done(), "the stop must wait for the job inside the send"
        world.venue.release.set()
        await asyncio.wait_for(running, DEADLINE)

    asyncio.run(scenario())
    (stored,) = _stored(world)
    assert stored.status is IntentStatus.CLOSED and stored.filled > 0
    assert world.venue.answered == [stored.client_order_id]
    assert job.finished and not job.cancelled
    assert _events(logs, "daemon_waiting_for_jobs")[0]["jobs"] == ["entry"]
    assert _events(logs, "job_cancelled_at_stop") == []
    world.store.close()


def test_a_job_overrunning_the_grace_is_cancelled_and_logged(
    tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    world = _world(tmp_path, logs, grace=0.05)
    started, never = asyncio.Event(), asyncio.Event()
    seen: list[str] = []

    async def stuck(ctx: Context, now: datetime) -> None:
        started.set()
        try:
            await never.wait()
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    daemon = Daemon(world.ctx, [JobSpec("stuck", stuck, 3600)])

    async def scenario() -> None:
        running = asyncio.create_task(daemon.run_forever())
        await asyncio.wait_for(started.wait(), DEADLINE)
        daemon.request_stop("test")
        await asyncio.wait_for(running, DEADLINE)

    asyncio.run(scenario())
    assert seen == ["cancelled"]
    (cancelled,) = _events(logs, "job_cancelled_at_stop")
    assert cancelled["job"] == "stuck" and cancelled["grace_seconds"] == 0.05
    assert cancelled["log_level"] == "warning" and cancelled["hurried"] is False
    world.store.close()


def test_grace_running_out_inside_a_send_waits_for_the_answer_then_cancels_the_job(
    tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    world = _world(tmp_path, logs, grace=0.05)
    job = SendingJob(world)
    daemon = _daemon(world, job)

    async def scenario() -> None:
        running = asyncio.create_task(daemon.run_forever())
        await asyncio.wait_for(world.venue.entered.wait(), DEADLINE)
        daemon.request_stop("test")
        await _until(lambda: bool(_events(logs, "job_cancelled_at_stop")))
        await _spin()
        assert not running.done(), "a cancelled send must still wait for the venue's answer"
        assert _stored(world)[0].status is IntentStatus.PENDING  # sent, not answered yet
        world.venue.release.set()
        await asyncio.wait_for(running, DEADLINE)

    asyncio.run(scenario())
    (stored,) = _stored(world)
    assert stored.status is IntentStatus.CLOSED, "the venue's answer must be recorded"
    assert job.cancelled and not job.finished, "the cancellation goes on after the record"
    world.store.close()


def test_a_second_signal_cancels_at_once_but_still_not_mid_send(
    tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    world = _world(tmp_path, logs, grace=600)  # only the second signal can end this stop
    job = SendingJob(world)
    daemon = _daemon(world, job)

    async def scenario() -> None:
        running = asyncio.create_task(daemon.run_forever())
        await _until(lambda: bool(_events(logs, "daemon_started")))  # handlers installed
        await asyncio.wait_for(world.venue.entered.wait(), DEADLINE)
        signal.raise_signal(signal.SIGTERM)
        await _until(lambda: bool(_events(logs, "daemon_waiting_for_jobs")))
        signal.raise_signal(signal.SIGTERM)
        await _until(lambda: bool(_events(logs, "job_cancelled_at_stop")))
        await _spin()
        assert not running.done()
        world.venue.release.set()
        await asyncio.wait_for(running, DEADLINE)

    asyncio.run(scenario())
    assert _events(logs, "daemon_stopping")[0]["reason"] == "SIGTERM"
    assert _events(logs, "daemon_stop_hurried")[0]["running"] == ["entry"]
    assert _events(logs, "job_cancelled_at_stop")[0]["hurried"] is True
    assert _stored(world)[0].status is IntentStatus.CLOSED
    assert job.cancelled
    world.store.close()


def test_no_job_run_starts_once_the_stop_is_requested(
    tmp_path: Path, logs: list[dict[str, Any]]
) -> None:
    world = _world(tmp_path, logs, grace=30)
    ran: list[str] = []
    spec = JobSpec("heartbeat", lambda ctx, now: ran.append("ran"), 30)
    daemon = Daemon(world.ctx, [spec])

    async def scenario() -> None:
        await daemon.run_scheduled(spec)
        daemon.request_stop("test")
        await daemon.run_scheduled(spec)

    asyncio.run(scenario())
    assert ran == ["ran"]
    world.store.close()
