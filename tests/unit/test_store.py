"""Store: SQLite WAL + foreign keys, schema versioning, refusing foreign or newer databases."""

from __future__ import annotations

import os
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.state.db import StoreError, schema_head
from bot.state.store import Store

NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_new_sqlite_store_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    store = Store.open(_url(tmp_path / "state" / "q.sqlite"))
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        version = conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar()
    assert version == schema_head()
    assert store.integrity_ok()
    store.close()


def test_reopening_does_not_reapply_migrations(tmp_path: Path) -> None:
    url = _url(tmp_path / "q.sqlite")
    Store.open(url).close()
    store = Store.open(url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM schema_version")).scalar() == len(
            {v for v in range(1, schema_head() + 1)}
        )
    store.close()


def test_journal_and_heartbeat_round_trip_as_utc(tmp_path: Path) -> None:
    store = Store.open(_url(tmp_path / "q.sqlite"))
    store.journal(NOW, "tier_taken", "tier 1 at +20.4%", symbol="BTC/USDT", tier=1)
    store.beat("daemon", NOW, pid=1, host="h", mode="paper", exchange="binance", started_at=NOW)
    (entry,) = store.recent_journal()
    assert entry.at == NOW and entry.at.tzinfo is not None
    assert entry.data == {"tier": 1}
    beat = store.heartbeat()
    assert beat is not None and beat.at == NOW and beat.stopped_at is None
    store.close()


def test_naive_datetimes_are_refused(tmp_path: Path) -> None:
    store = Store.open(_url(tmp_path / "q.sqlite"))
    with pytest.raises(Exception, match="naive"):
        store.journal(datetime(2025, 1, 1), "x", "naive time")
    store.close()


def test_pause_switch_is_persisted_and_journaled(tmp_path: Path) -> None:
    store = Store.open(_url(tmp_path / "q.sqlite"))
    assert not store.risk_off()
    store.set_risk_off(True, NOW, "manual pause")
    assert store.risk_off()
    assert store.recent_journal(1)[0].kind == "risk_off"
    store.set_risk_off(False, NOW, "manual resume")
    assert not store.risk_off()
    store.close()


def test_foreign_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StoreError, match="not a qtbot database"):
        Store.open(_url(path))
    with sqlite3.connect(path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert tables == {"customers"}


def test_database_from_a_newer_qtbot_is_refused(tmp_path: Path) -> None:
    url = _url(tmp_path / "q.sqlite")
    Store.open(url).close()
    with sqlite3.connect(tmp_path / "q.sqlite") as conn:
        conn.execute(
            "INSERT INTO schema_version (version, applied_at, note) VALUES (999, '2030-01-01', '')"
        )
    with pytest.raises(StoreError, match="schema version 999"):
        Store.open(url)


def test_corrupted_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="cannot open the database"):
        Store.open(_url(path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_directory_gives_a_clear_error(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(StoreError):
        Store.open(_url(locked / "sub" / "q.sqlite"))


def test_data_dir_under_a_file_gives_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(StoreError, match="cannot create the data directory"):
        Store.open(_url(tmp_path / "afile" / "q.sqlite"))


def test_not_a_url_gives_a_clear_error() -> None:
    with pytest.raises(StoreError, match="not a SQLAlchemy URL"):
        Store.open("not a url")


def test_new_database_and_data_dir_are_owner_only(tmp_path: Path) -> None:
    store = Store.open(_url(tmp_path / "state" / "q.sqlite"))
    store.journal(NOW, "x", "written")
    assert (tmp_path / "state").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "state" / "q.sqlite").stat().st_mode & 0o777 == 0o600
    wal = tmp_path / "state" / "q.sqlite-wal"
    if wal.exists():
        assert wal.stat().st_mode & 0o777 == 0o600
    store.close()


def test_resume_restarts_the_drawdown_peak(tmp_path: Path) -> None:
    store = Store.open(_url(tmp_path / "q.sqlite"))
    store.set_value("risk.equity_marks", '{"day": "2025-12-01"}', NOW)
    store.set_risk_off(True, NOW, "pause")
    assert store.get_value("risk.equity_marks") is not None
    store.set_risk_off(False, NOW, "resume")
    assert store.get_value("risk.equity_marks") is None
    store.close()


def test_pause_and_resume_racing_on_a_new_database_both_land(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    Store.open(url).close()  # schema in place; the kv row for the switch is not there yet
    stores = [Store.open(url) for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def flip(store: Store, on: bool) -> None:
        barrier.wait()
        try:
            store.set_risk_off(on, datetime.now(UTC), "race")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=flip, args=(s, i % 2 == 0)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    switches = stores[0].recent_journal(20)
    assert len([e for e in switches if e.kind in ("risk_off", "risk_on")]) == len(stores)
    for store in stores:
        store.close()
