"""The single-instance lock is keyed on the database itself, not on how a setting spells it.

SQLite: every spelling of one file resolves to one real path and one lock file beside it.
Server databases: an advisory lock on a dedicated connection. No server runs here, so that path
is checked through a fake connection: the key derivation and the SQL issued, not a real lock.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

from bot.runtime.lock import LOCK_SUFFIX, AlreadyRunning, InstanceLock, LockUnavailable
from bot.state.db import StoreError
from bot.state.identity import advisory_key, server_database, sqlite_file


@pytest.fixture
def tree(workdir: Path) -> Path:
    """workdir/data (the database's directory), a symlink to it, and a sibling directory."""
    (workdir / "data").mkdir()
    (workdir / "sub").mkdir()
    (workdir / "link").symlink_to(workdir / "data")
    return workdir


# One file, many spellings; /{root} is the working directory, where `data/` lives.
SPELLINGS = [
    "sqlite:///data/qtbot.sqlite",
    "sqlite:////{root}/data/qtbot.sqlite",
    "sqlite:///./data//qtbot.sqlite",
    "sqlite:///sub/../data/qtbot.sqlite",
    "sqlite:///link/qtbot.sqlite",
    "sqlite:////{root}/link/../data/./qtbot.sqlite",
    "sqlite://///{root}/data/qtbot.sqlite",  # a leading "//" is still "/" on Linux
    "sqlite:///data/qtbot.sqlite?timeout=20",
    "sqlite:///data/qtbot.sqlite?mode=rwc",
    "sqlite:///file:data/qtbot.sqlite?mode=rwc&uri=true",
    "sqlite:///file:///{root}/data/qtbot.sqlite?uri=true",
]


def _spellings(root: Path) -> list[str]:
    return [template.format(root=str(root).lstrip("/")) for template in SPELLINGS]


def test_every_spelling_of_one_file_resolves_to_its_real_path(tree: Path) -> None:
    real = Path(os.path.realpath(tree / "data" / "qtbot.sqlite"))
    resolved = {url: sqlite_file(make_url(url)) for url in _spellings(tree)}
    assert resolved == dict.fromkeys(resolved, real)


def test_a_symlinked_database_file_resolves_to_its_target(tree: Path) -> None:
    (tree / "data" / "qtbot.sqlite").touch()
    (tree / "alias.sqlite").symlink_to(tree / "data" / "qtbot.sqlite")
    assert sqlite_file(make_url("sqlite:///alias.sqlite")) == sqlite_file(
        make_url("sqlite:///data/qtbot.sqlite")
    )


def test_relative_spellings_follow_the_working_directory(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tree / "sub")
    assert sqlite_file(make_url("sqlite:///../data/qtbot.sqlite")) == Path(
        os.path.realpath(tree / "data" / "qtbot.sqlite")
    )
    assert sqlite_file(make_url("sqlite:///data/qtbot.sqlite")) == Path(
        os.path.realpath(tree / "sub" / "data" / "qtbot.sqlite")
    )


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///file::memory:?uri=true",
        "sqlite:///file:shared?mode=memory&cache=shared&uri=true",
    ],
)
def test_in_memory_databases_have_no_file(url: str) -> None:
    assert sqlite_file(make_url(url)) is None


def test_in_memory_databases_take_no_cross_process_lock(workdir: Path) -> None:
    first, second = InstanceLock("sqlite://"), InstanceLock("sqlite:///:memory:")
    first.acquire()
    second.acquire()
    assert first.path is None and second.path is None
    first.release()
    second.release()
    assert list(workdir.iterdir()) == []


def test_the_lock_file_sits_beside_the_real_database_file(tree: Path) -> None:
    lock = InstanceLock("sqlite:///link/qtbot.sqlite")
    real_dir = Path(os.path.realpath(tree / "data"))
    assert lock.path == real_dir / f"qtbot.sqlite{LOCK_SUFFIX}"
    with lock:
        assert lock.path.read_text() == str(os.getpid())


@pytest.mark.parametrize("index", range(1, len(SPELLINGS)), ids=SPELLINGS[1:])
def test_a_second_spelling_of_a_locked_database_is_refused_naming_the_holder(
    tree: Path, index: int
) -> None:
    spellings = _spellings(tree)
    # flock conflicts between two open() calls even inside one process.
    with InstanceLock(spellings[0]), pytest.raises(AlreadyRunning) as refused:
        InstanceLock(spellings[index]).acquire()
    message = str(refused.value)
    assert f"pid {os.getpid()}" in message and "\n" not in message
    assert str(Path(os.path.realpath(tree / "data" / "qtbot.sqlite"))) in message
    InstanceLock(spellings[index]).acquire()  # free again once the holder let go


def test_different_files_do_not_block_each_other(tree: Path) -> None:
    with InstanceLock("sqlite:///data/qtbot.sqlite"), InstanceLock("sqlite:///data/other.sqlite"):
        pass


def test_the_lock_does_not_depend_on_the_data_dir_setting(tree: Path) -> None:
    """The old key was the URL text under QTBOT_DATA_DIR; now only the file counts."""
    with InstanceLock(f"sqlite:///{tree}/data/qtbot.sqlite") as held:
        assert held.path is not None and held.path.parent == Path(os.path.realpath(tree / "data"))
        assert not any(p.name.startswith("qtbot-") for p in tree.rglob("*.lock"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_directory_is_a_configuration_problem(workdir: Path) -> None:
    (workdir / "ro").mkdir(mode=0o500)
    with pytest.raises(LockUnavailable, match="cannot create the lock file"):
        InstanceLock("sqlite:///ro/sub/qtbot.sqlite").acquire()


def test_a_database_path_under_a_file_is_a_configuration_problem(workdir: Path) -> None:
    (workdir / "afile").write_text("x")
    with pytest.raises(LockUnavailable, match="cannot create the lock file"):
        InstanceLock("sqlite:///afile/qtbot.sqlite").acquire()


# --- server databases: key derivation and the SQL, through a fake connection ------------------


class FakeSession:
    """Answers the lock's SQL as a server would; records what it was sent."""

    def __init__(self, granted: bool, holder: str | None = None) -> None:
        self.granted = granted
        self.holder = holder
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.closed = False

    def scalar(self, sql: str, params: dict[str, Any]) -> Any:
        self.sent.append((sql, params))
        if "pg_try_advisory_lock" in sql:
            return self.granted
        if "GET_LOCK" in sql:
            return 1 if self.granted else 0
        if "pg_locks" in sql:
            return self.holder
        return True

    def close(self) -> None:
        self.closed = True


def _connecting(session: FakeSession, seen: list[URL] | None = None) -> Any:
    def connect(url: URL) -> FakeSession:
        if seen is not None:
            seen.append(url)
        return session

    return connect


def test_advisory_key_is_a_stable_signed_bigint_per_database() -> None:
    key = advisory_key("daemon", "postgresql:qtbot")
    assert key == advisory_key("daemon", "postgresql:qtbot")
    assert -(2**63) <= key < 2**63
    assert key != advisory_key("daemon", "postgresql:qtbot_test")
    assert key != advisory_key("migrate", "postgresql:qtbot")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://bot:pw@localhost/qtbot",
        "postgresql://other@127.0.0.1:5432/qtbot?sslmode=require",
        "postgresql+psycopg2://bot@db.internal/qtbot",
    ],
)
def test_host_and_driver_spellings_share_one_key(url: str) -> None:
    """PostgreSQL scopes advisory locks to the database; only its name goes into the key."""
    assert server_database(make_url(url)) == "postgresql:qtbot"


def test_postgres_lock_is_pg_try_advisory_lock_held_until_release() -> None:
    session, seen = FakeSession(granted=True), []
    lock = InstanceLock("postgresql+psycopg://bot:pw@db/qtbot", connect=_connecting(session, seen))
    lock.acquire()
    key = advisory_key("daemon", "postgresql:qtbot")
    assert session.sent == [("SELECT pg_try_advisory_lock(:key)", {"key": key})]
    assert not session.closed, "the lock lives as long as its connection"
    assert seen[0].database == "qtbot"
    lock.release()
    assert session.sent[-1] == ("SELECT pg_advisory_unlock(:key)", {"key": key})
    assert session.closed


def test_releasing_over_a_lost_connection_does_not_raise() -> None:
    """The server dropped the lock with the session; stopping must still end cleanly."""

    class Lost(FakeSession):
        def scalar(self, sql: str, params: dict[str, Any]) -> Any:
            if "unlock" in sql:
                raise OperationalError(sql, params, Exception("server closed the connection"))
            return super().scalar(sql, params)

    session = Lost(granted=True)
    lock = InstanceLock("postgresql://bot@db/qtbot", connect=_connecting(session))
    lock.acquire()
    lock.release()
    assert session.closed


def test_postgres_refusal_names_the_holder_from_pg_locks() -> None:
    session = FakeSession(granted=False, holder="qtbot pid 4242 on vps1")
    lock = InstanceLock("postgresql+psycopg://bot:pw@db/qtbot", connect=_connecting(session))
    with pytest.raises(AlreadyRunning, match=r"another qtbot \(pid 4242 on vps1\)"):
        lock.acquire()
    sql, params = session.sent[1]
    assert "pg_locks" in sql and "application_name" in sql
    key = advisory_key("daemon", "postgresql:qtbot")
    # pg_locks shows a bigint key as classid (high 32 bits) and objid (low 32 bits).
    joined = (params["hi"] << 32) | params["lo"]
    assert joined - (1 << 64 if joined >= 1 << 63 else 0) == key
    assert session.closed


def test_postgres_refusal_without_a_visible_holder_still_refuses() -> None:
    session = FakeSession(granted=False, holder=None)
    lock = InstanceLock("postgresql://bot@db/qtbot", connect=_connecting(session))
    with pytest.raises(AlreadyRunning, match="pid unknown"):
        lock.acquire()


def test_mysql_lock_is_get_lock_named_by_the_database() -> None:
    session = FakeSession(granted=True)
    lock = InstanceLock("mysql+pymysql://bot@db/qtbot", connect=_connecting(session))
    lock.acquire()
    ((sql, params),) = session.sent
    assert sql == "SELECT GET_LOCK(:name, 0)" and params["name"].startswith("qtbot-daemon-")
    assert len(params["name"]) <= 64
    lock.release()
    assert session.sent[-1] == ("SELECT RELEASE_LOCK(:name)", params) and session.closed


def test_a_backend_without_advisory_locks_is_refused_up_front() -> None:
    with pytest.raises(LockUnavailable, match="mssql"):
        InstanceLock(
            "mssql+pyodbc://bot@db/qtbot", connect=_connecting(FakeSession(True))
        ).acquire()


def test_an_unreachable_server_is_a_database_error() -> None:
    def unreachable(url: URL) -> FakeSession:
        raise OperationalError("connect", {}, Exception("connection refused"))

    with pytest.raises(StoreError, match="connection refused"):
        InstanceLock("postgresql://bot:secret-pw@db/qtbot", connect=unreachable).acquire()


@pytest.mark.skipif(
    importlib.util.find_spec("psycopg") is not None, reason="would try to reach a server"
)
def test_a_missing_driver_is_a_database_error() -> None:
    """The real connection path, as far as it goes here: psycopg is not installed."""
    with pytest.raises(StoreError) as failed:
        InstanceLock("postgresql+psycopg://bot:secret-pw@db/qtbot").acquire()
    assert "secret-pw" not in str(failed.value)
