"""APScheduler's "skipped: maximum number of running instances" warning: counted, not logged,
under an accelerated clock (where jobs routinely outlast their shrunken interval); kept in real
time, where it means a job overran its interval."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

import pytest

from bot.runtime.daemon import Daemon
from bot.services.context import Context, JobSpec
from tests.unit.ops.seed import make_context

SKIP_TEXT = "maximum number of running instances"


async def _slow(ctx: Context, now: datetime) -> None:
    await asyncio.sleep(0.9)


def _run(daemon: Daemon, seconds: float) -> None:
    async def scenario() -> None:
        asyncio.get_running_loop().call_later(seconds, daemon.request_stop, "test")
        await daemon.run_forever()

    asyncio.run(scenario())


def _skip_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if SKIP_TEXT in r.getMessage()]


def test_accelerated_clock_counts_skipped_runs_without_logging_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # 60 s at 300x = 0.2 s between runs; each run takes 0.9 s, so most are skipped.
    daemon = Daemon(make_context(tmp_path), [JobSpec("slow", _slow, 60)], clock_speed=300)
    with caplog.at_level(logging.WARNING, logger="apscheduler"):
        _run(daemon, 1.5)
    assert daemon.skipped_runs >= 2
    assert _skip_warnings(caplog) == []
    # Nothing left on the shared logger: a later real-time daemon still warns.
    assert not logging.getLogger("apscheduler.scheduler").filters


def test_real_time_keeps_the_overrun_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    daemon = Daemon(make_context(tmp_path), [JobSpec("slow", _slow, 0.3)], clock_speed=1)
    with caplog.at_level(logging.WARNING, logger="apscheduler"):
        _run(daemon, 1.5)
    assert _skip_warnings(caplog)
    assert daemon.skipped_runs == 0
