"""A store that cannot be written (disk full, read-only, I/O error): recognised from the real
driver errors, reported unhealthy at once, and the daemon gives up after a few job runs in a
row instead of failing every job while it looks alive."""

from __future__ import annotations

import asyncio
import errno
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.ops.web.health import evaluate_health, health_policy
from bot.ops.web.server import StatusServer
from bot.ops.web.state import OpsState
from bot.runtime.daemon import Daemon
from bot.runtime.store_watch import StoreUnwritable, StoreWatch, storage_failure
from bot.services.context import Context, JobSpec
from bot.state.store import Store
from tests.unit.ops.seed import NOW, make_context

DEADLINE = 60.0
FULL = "database or disk is full"


def fill_up(store: Store) -> None:
    """Cap the SQLite file at its current size (SQLite's own `max_page_count`), so the next
    write that needs a new page fails with SQLITE_FULL, exactly as on a full disk."""
    with store.engine.connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar()

    def cap(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    store.engine.dispose()
    event.listen(store.engine, "connect", cap)


def write_until_full(store: Store) -> Exception:
    for index in range(10_000):
        try:
            store.journal(NOW, "filler", "x" * 2000, n=index)
        except Exception as exc:
            return exc
    raise AssertionError("the capped store never filled up")


@pytest.fixture
def full_context(tmp_path: Path) -> Iterator[Context]:
    ctx = make_context(tmp_path)
    fill_up(ctx.store)
    yield ctx
    ctx.store.close()


# --- recognising a storage failure ----------------------------------------------------------


def test_sqlite_full_from_a_real_capped_file_is_a_storage_failure(full_context: Context) -> None:
    error = write_until_full(full_context.store)
    assert isinstance(error, OperationalError)
    assert storage_failure(error) == FULL


def test_a_read_only_database_is_a_storage_failure(tmp_path: Path) -> None:
    path = tmp_path / "ro.sqlite"
    Store.open(f"sqlite:///{path}").close()
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(OperationalError) as raised:
        Store(engine).journal(NOW, "x", "y")
    engine.dispose()
    assert storage_failure(raised.value) == "attempt to write a readonly database"


@pytest.mark.parametrize(
    "error, expected",
    [
        pytest.param(
            OSError(errno.ENOSPC, "No space left on device"), "No space left on device", id="enospc"
        ),
        pytest.param(
            OSError(errno.EROFS, "Read-only file system"), "Read-only file system", id="erofs"
        ),
        pytest.param(sqlite3.OperationalError("disk I/O error"), "disk I/O error", id="io_error"),
        pytest.param(
            OperationalError("INSERT", {}, sqlite3.OperationalError(FULL)),
            FULL,
            id="wrapped_by_sqlalchemy",
        ),
    ],
)
def test_storage_errors_are_recognised(error: BaseException, expected: str) -> None:
    assert storage_failure(error) == expected


def test_a_storage_error_behind_another_error_is_found() -> None:
    try:
        try:
            raise OSError(errno.ENOSPC, "No space left on device")
        except OSError as inner:
            raise RuntimeError("could not write the export") from inner
    except RuntimeError as outer:
        assert storage_failure(outer) == "No space left on device"


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(
            OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x")),
            id="missing_table",
        ),
        pytest.param(
            IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE failed")), id="integrity"
        ),
        pytest.param(OSError(errno.ECONNREFUSED, "Connection refused"), id="network"),
        pytest.param(ValueError("disk is full of ideas"), id="unrelated_text"),
    ],
)
def test_other_errors_are_not_storage_failures(error: BaseException) -> None:
    assert storage_failure(error) is None


def test_the_operator_line_says_what_and_what_to_do() -> None:
    assert str(StoreUnwritable(FULL)) == (
        "the database cannot be written (disk full?): database or disk is full; "
        "free space and restart"
    )


# --- counting --------------------------------------------------------------------------------


def test_watch_gives_up_after_the_limit_in_a_row_across_jobs() -> None:
    reports: list[str | None] = []
    watch = StoreWatch(3, report=reports.append)
    assert not watch.failed("heartbeat", FULL)
    assert not watch.failed("risk_check", FULL)
    assert watch.failed("paper_match", FULL)
    assert reports[0] == f"{FULL} (job heartbeat: 1 failed runs in a row)"


def test_watch_gives_up_on_one_job_even_when_small_writes_of_others_still_pass() -> None:
    # On a full disk an in-place update (the heartbeat row) can pass while inserts fail.
    watch = StoreWatch(3)
    for _ in range(2):
        assert not watch.failed("risk_check", FULL)
        watch.succeeded("heartbeat")
    assert watch.failed("risk_check", FULL)


def test_health_clears_only_once_every_failing_job_has_written_again() -> None:
    reports: list[str | None] = []
    watch = StoreWatch(10, report=reports.append)
    watch.failed("heartbeat", FULL)
    watch.failed("risk_check", FULL)
    watch.succeeded("heartbeat")
    assert reports[-1] is not None
    watch.succeeded("risk_check")
    assert reports[-1] is None and watch.error is None


# --- health ----------------------------------------------------------------------------------


def test_jobs_failing_to_write_make_the_store_check_fail_even_when_the_probe_passes() -> None:
    report = evaluate_health(
        NOW, None, None, (None, None, None), health_policy(30, 60), write_failure=FULL
    )
    store = report.as_dict()["checks"]["store"]
    assert store == {"ok": False, "detail": f"jobs cannot write: {FULL}"}
    assert not report.ok


def test_status_server_reports_the_daemons_write_failure(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    state = OpsState(store_write_error=f"{FULL} (job heartbeat: 2 failed runs in a row)")
    server = StatusServer(ctx, state, None, health_policy(30, 60))
    report = asyncio.run(server.health(NOW))
    ctx.store.close()
    check = report.as_dict()["checks"]["store"]
    assert check["ok"] is False and "jobs cannot write: database or disk is full" in check["detail"]


# --- the daemon ------------------------------------------------------------------------------


def test_daemon_reports_unhealthy_at_once_and_stops_itself_after_the_limit(
    full_context: Context,
) -> None:
    ctx = full_context
    reports: list[tuple[str | None, int]] = []
    given_up: list[str] = []

    def journal_job(ctx: Context, now: datetime) -> None:
        ctx.store.journal(now, "beat", "y" * 2000)  # a real write into the capped file

    with structlog.testing.capture_logs() as logs:

        def report(error: str | None) -> None:
            stopping = [e for e in logs if e["event"] == "daemon_stopping"]
            reports.append((error, len(stopping)))

        daemon = Daemon(
            ctx,
            [JobSpec("heartbeat", journal_job, 0.2)],
            store_watch=StoreWatch(3, report=report),
            on_store_unwritable=given_up.append,
        )
        asyncio.run(asyncio.wait_for(daemon.run_forever(), DEADLINE))

    assert daemon.store_unwritable == FULL and given_up == [FULL]
    first_error, stops_before = reports[0]
    assert first_error is not None and first_error.startswith(FULL)
    assert stops_before == 0, "unhealthy must be reported before the daemon gives up"
    failures = [e for e in logs if e["event"] == "job_failed"]
    assert len(failures) == 3 and all(e["store_unwritable"] == FULL for e in failures)
    assert all("exc_info" not in e for e in failures), "a known condition: no stack trace"
    (critical,) = [e for e in logs if e["event"] == "store_unwritable"]
    assert critical["log_level"] == "critical"
    assert [e["reason"] for e in logs if e["event"] == "daemon_stopping"] == ["store_unwritable"]


def test_other_job_failures_never_stop_the_daemon(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    runs: list[int] = []

    def broken(ctx: Context, now: datetime) -> None:
        runs.append(1)
        raise ValueError("a bug, not the disk")

    daemon = Daemon(ctx, [JobSpec("entry", broken, 0.2)], store_watch=StoreWatch(2))

    async def scenario() -> None:
        running = asyncio.create_task(daemon.run_forever())

        async def five_runs() -> None:
            while len(runs) < 5:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(five_runs(), DEADLINE)
        assert not running.done()
        daemon.request_stop("test")
        await asyncio.wait_for(running, DEADLINE)

    asyncio.run(scenario())
    ctx.store.close()
    assert daemon.store_unwritable is None
