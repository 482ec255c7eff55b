"""Opening the store: many openers of one new database at once, readers that must not create or
migrate, and a damaged-but-openable database reported in one line (open and read time)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.orders.intents import OrderIntent
from bot.state import db
from bot.state.db import StoreError, migrate, open_store, open_store_if_present, schema_head
from bot.state.plans_repo import StrategyRepo
from bot.state.store import Store
from bot.strategy.plans import Plan, PlanStatus, Tranche, TrancheStatus
from exchanges.base import Fill, OrderType, Side
from risk.marks import PositionMarks
from tests.conftest import REPO

NOW = datetime(2025, 12, 1, 12, 0, tzinfo=UTC)


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def _versions(path: Path) -> list[int]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT version FROM schema_version ORDER BY 1")]


def _execute(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


# --- many openers of one new database ----------------------------------------------------------


def test_many_threads_opening_one_new_database_all_succeed_and_migrate_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "fresh" / "q.sqlite"
    openers = 12
    barrier = threading.Barrier(openers)
    errors: list[BaseException] = []

    def open_it() -> None:
        barrier.wait()
        try:
            open_store(_url(path)).dispose()
        except BaseException as exc:  # collected: the assertion below names them
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    assert _versions(path) == list(range(1, schema_head() + 1))


OPENER = """
import sys
from bot.state.db import open_store
print("ready", flush=True)
sys.stdin.readline()  # every process is started and imported: open together
open_store(sys.argv[1]).dispose()
print("opened", flush=True)
"""


def test_many_processes_opening_one_new_database_all_succeed_and_migrate_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "q.sqlite"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPENER, _url(path)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert [p.returncode for p in procs] == [0] * len(procs), [err for _, err in results]
    assert all(out.strip() == "opened" for out, _ in results)
    assert _versions(path) == list(range(1, schema_head() + 1))


def test_a_stale_first_look_is_read_again_under_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process migrated between this one's first look (no tables yet) and its lock:
    the version read inside the lock wins, and nothing is applied twice."""
    path = tmp_path / "q.sqlite"
    engine = open_store(_url(path))
    monkeypatch.setattr(db, "_read_version", lambda _engine: None)
    assert migrate(engine) == schema_head()
    engine.dispose()
    assert _versions(path) == list(range(1, schema_head() + 1))


def test_a_new_database_appears_at_the_head_in_one_step(tmp_path: Path) -> None:
    """A reader never sees a half-built schema: the steps of a new database commit together."""
    path = tmp_path / "q.sqlite"
    seen: list[int] = []
    original = sqlite3.connect
    reader_ready = threading.Event()

    def watch() -> None:
        reader_ready.set()
        while not path.exists() or path.stat().st_size == 0:
            pass
        conn = original(path, timeout=10)
        try:
            while True:
                try:
                    row = conn.execute("SELECT count(*) FROM schema_version").fetchone()
                except sqlite3.OperationalError:  # not there yet
                    continue
                seen.append(row[0])
                if row[0] == schema_head():
                    return
        finally:
            conn.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    reader_ready.wait(10)
    open_store(_url(path)).dispose()
    watcher.join(timeout=30)
    assert not watcher.is_alive()
    assert set(seen) == {schema_head()}


# --- readers ---------------------------------------------------------------------------------


def test_a_reader_creates_nothing_where_there_is_no_database(tmp_path: Path) -> None:
    assert open_store_if_present(_url(tmp_path / "data" / "q.sqlite")) is None
    assert list(tmp_path.iterdir()) == []


def test_a_reader_leaves_a_blank_file_alone(tmp_path: Path) -> None:
    """A daemon creates the file, then its tables: in between, a reader sees "not yet"."""
    path = tmp_path / "q.sqlite"
    path.touch()
    assert open_store_if_present(_url(path)) is None
    sqlite3.connect(path).close()  # a valid SQLite file without a table is blank too
    assert open_store_if_present(_url(path)) is None
    assert path.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q.sqlite"]


def test_a_reader_opens_a_database_at_the_head(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    Store.open(_url(path)).close()
    store = Store.open_if_present(_url(path))
    assert store is not None and store.heartbeat() is None
    store.close()


def test_a_reader_does_not_migrate_an_older_schema(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    Store.open(_url(path)).close()
    _execute(path, f"DELETE FROM schema_version WHERE version = {schema_head()}")
    with pytest.raises(StoreError, match=r"schema version \d+ .*start `qtbot run`"):
        open_store_if_present(_url(path))
    assert _versions(path) == list(range(1, schema_head()))


def test_a_reader_refuses_a_database_from_a_newer_qtbot(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite"
    Store.open(_url(path)).close()
    _execute(path, "INSERT INTO schema_version (version, applied_at, note) VALUES (999, '', '')")
    with pytest.raises(StoreError, match="schema version 999 but this qtbot knows only up to"):
        open_store_if_present(_url(path))


# --- a damaged database, found when it opens ---------------------------------------------------


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    """A database with one row in every table holding amounts."""
    path = tmp_path / "q.sqlite"
    store = Store.open(_url(path))
    repo = store.order_repo()
    intent = OrderIntent(
        cause="entry",
        kind="entry",
        symbol="BTC/USDT",
        side=Side.BUY,
        type=OrderType.LIMIT,
        amount=Decimal("0.01"),
        price=Decimal("50000"),
        reason="tranche 1",
    )
    repo.insert_intent("cid-1", intent, NOW)
    repo.record_fills(
        [
            Fill(
                trade_id="t1",
                symbol="BTC/USDT",
                side=Side.BUY,
                amount=Decimal("0.01"),
                price=Decimal("50000"),
                fee=Decimal("0.5"),
                fee_asset="USDT",
                timestamp=NOW,
                client_order_id="cid-1",
                exchange_order_id="x1",
                is_maker=True,
            )
        ],
        NOW,
    )
    repo.save_marks({"BTC/USDT": PositionMarks("c1", Decimal("51000"), None)}, NOW)
    store.record_equity(NOW, Decimal("10000"), Decimal("9500"))
    plan = Plan(
        plan_id="p1",
        symbol="BTC/USDT",
        cycle=1,
        kind="pivot",
        status=PlanStatus.ACTIVE,
        budget=Decimal("1000"),
        order_type=OrderType.LIMIT,
        created_at=NOW,
        start_price=Decimal("50000"),
        start_reason="pivot",
    )
    tranche = Tranche(
        plan_id="p1",
        number=1,
        quote_amount=Decimal("250"),
        offset=Decimal("0"),
        planned_at=NOW,
        scheduled_at=NOW,
        status=TrancheStatus.PENDING,
        order_type=OrderType.LIMIT,
    )
    StrategyRepo(store.engine).insert_plan(plan, [tranche])
    store.close()
    return path


def test_an_undamaged_database_opens(stored: Path) -> None:
    Store.open(_url(stored)).close()


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("DROP TABLE fill", "table(s) fill missing"),
        ("DROP TABLE strategy_tranche", "table(s) strategy_tranche missing"),
        (
            "ALTER TABLE order_intent DROP COLUMN trigger_price",
            "order_intent lacks column(s) trigger_price",
        ),
        (
            "UPDATE order_intent SET amount = 'abc'",
            "order_intent row client_order_id='cid-1' has amount='abc', not a number",
        ),
        (
            "UPDATE fill SET price = 'NaN'",
            "fill row trade_id='t1', symbol='BTC/USDT' has price='NaN', not a number",
        ),
        ("UPDATE position_marks SET high_water_mark = ''", "position_marks row symbol='BTC/USDT'"),
        ("UPDATE equity_point SET cash = 'Infinity'", "equity_point row at='2025-12-01T12:00:00"),
        ("UPDATE strategy_plan SET budget = '1,000'", "strategy_plan row plan_id='p1' has budget"),
        ("UPDATE strategy_tranche SET fees = 'x'", "strategy_tranche row plan_id='p1', number=1"),
    ],
    ids=[
        "dropped-table",
        "dropped-strategy-table",
        "dropped-column",
        "text-amount",
        "nan-price",
        "empty-mark",
        "infinite-cash",
        "comma-budget",
        "text-fees",
    ],
)
def test_damage_is_one_line_naming_it_and_what_to_do(
    stored: Path, damage: str, expected: str
) -> None:
    _execute(stored, damage)
    with pytest.raises(StoreError) as refused:
        Store.open(_url(stored))
    message = str(refused.value)
    assert expected in message
    assert "restore the database from a backup" in message and "\n" not in message
    with pytest.raises(StoreError, match="damaged"):  # a reader hears the same
        open_store_if_present(_url(stored))


def _damage_a_page(path: Path) -> None:
    """Point a cell of some table's leaf page outside its page: structure quick_check reads
    but opening (which reads sqlite_master and schema_version) does not."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        spared = {1} | {
            row[0] for row in conn.execute("SELECT rootpage FROM sqlite_master WHERE rootpage")
        }
    data = bytearray(path.read_bytes())
    pages = len(data) // page_size
    leaf = next(
        n for n in range(pages, 1, -1) if n not in spared and data[(n - 1) * page_size] == 0x0D
    )
    start = (leaf - 1) * page_size
    data[start + 8 : start + 10] = (page_size - 1).to_bytes(2, "big")
    path.write_bytes(data)


def test_a_damaged_page_is_found_by_the_quick_check(stored: Path) -> None:
    store = Store.open(_url(stored))
    for n in range(300):  # enough journal rows for leaf pages besides each table's root
        store.journal(NOW, "filler", "x" * 200, n=n)
    store.close()
    _damage_a_page(stored)
    # SQLite lists the damage ("... out of range") or stops at it ("... malformed").
    with pytest.raises(
        StoreError, match=r"damaged \(SQLite quick_check: .*(range|malformed)"
    ) as found:
        Store.open(_url(stored))
    assert "\n" not in str(found.value)


# --- a damaged amount read later (after the store opened) ------------------------------------


def test_amounts_damaged_after_opening_fail_as_store_errors_naming_the_row(stored: Path) -> None:
    store = Store.open(_url(stored))
    repo = store.order_repo()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE order_intent SET filled = 'garbage'"))
        conn.execute(text("UPDATE fill SET fee = 'x'"))
        conn.execute(text("UPDATE position_marks SET trailing_stop = 'nan'"))
        conn.execute(text("UPDATE equity_point SET equity = 'ten'"))
        conn.execute(text("UPDATE strategy_plan SET start_price = '?'"))
        conn.execute(text("UPDATE strategy_tranche SET offset = 'y'"))
    plans = StrategyRepo(store.engine)
    reads = {
        "order_intent row client_order_id='cid-1' has filled='garbage'": repo.all,
        "fill row trade_id='t1', symbol='BTC/USDT' has fee='x'": lambda: repo.position_fills(
            "BTC/USDT"
        ),
        "position_marks row symbol='BTC/USDT' has trailing_stop='nan'": repo.marks,
        "equity_point row at='2025-12-01T12:00:00+00:00' has equity='ten'": store.current_equity,
        "strategy_plan row plan_id='p1' has start_price='?'": plans.plans,
        "strategy_tranche row plan_id='p1', number=1 has offset='y'": lambda: plans.tranches("p1"),
    }
    for expected, read in reads.items():
        with pytest.raises(StoreError) as failed:
            read()
        assert expected in str(failed.value)
    store.close()


def test_a_damaged_fill_amount_fails_the_fill_coverage_check_by_name(stored: Path) -> None:
    store = Store.open(_url(stored))
    repo = store.order_repo()
    (record,) = repo.all()
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE order_intent SET filled = '0.01'"))
        conn.execute(text("UPDATE fill SET amount = 'lots'"))
    (record,) = repo.all()
    with pytest.raises(StoreError, match="fill row trade_id='t1', symbol='BTC/USDT' has amount"):
        repo.fills_recorded([record])
    store.close()
