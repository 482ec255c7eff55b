"""The paper campaign's checks catch what they claim to: each broken ledger is reported.

A minimal database (only the columns the checks read) holds one tranche buy of 0.02 BTC at
50 000 filled once; each case breaks one thing the way a bug would.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.chaos.campaign import START_USDT, Report
from tests.chaos.paper_invariants import check_paper_invariants

CID = "qtbot-t1"
CAUSE = "plan:P1|tranche:1"
FEE = "1.0"  # 0.1 % of 1000 USDT, in quote
SCHEMA = """
CREATE TABLE order_intent (client_order_id TEXT, cause TEXT, kind TEXT, symbol TEXT,
    side TEXT, filled TEXT, average TEXT, price TEXT);
CREATE TABLE fill (trade_id TEXT, symbol TEXT, client_order_id TEXT, side TEXT, amount TEXT,
    price TEXT, fee TEXT, fee_asset TEXT);
CREATE TABLE paper_order (client_order_id TEXT, symbol TEXT, status TEXT, filled TEXT);
CREATE TABLE paper_fill (trade_id TEXT, symbol TEXT, client_order_id TEXT, side TEXT,
    amount TEXT, price TEXT, fee TEXT, fee_asset TEXT);
CREATE TABLE paper_balance (asset TEXT, free TEXT, used TEXT);
CREATE TABLE strategy_tranche (plan_id TEXT, number INTEGER, quote_amount TEXT);
"""
FILL = ("T1", "BTC/USDT", CID, "buy", "0.02", "50000", FEE, "USDT")


def _consistent(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    conn.execute(
        "INSERT INTO order_intent VALUES (?,?,?,?,?,?,?,?)",
        (CID, CAUSE, "tranche", "BTC/USDT", "buy", "0.02", "50000", "50000"),
    )
    conn.execute("INSERT INTO fill VALUES (?,?,?,?,?,?,?,?)", FILL)
    conn.execute("INSERT INTO paper_order VALUES (?,?,?,?)", (CID, "BTC/USDT", "closed", "0.02"))
    conn.execute("INSERT INTO paper_fill VALUES (?,?,?,?,?,?,?,?)", FILL)
    cash = START_USDT - 1000 - 1
    conn.execute("INSERT INTO paper_balance VALUES ('USDT', ?, '0')", (str(cash),))
    conn.execute("INSERT INTO paper_balance VALUES ('BTC', '0.02', '0')")
    conn.execute("INSERT INTO strategy_tranche VALUES ('P1', 1, '1000')")


Breaker = Callable[[sqlite3.Connection, Path], None]


def _nothing(conn: sqlite3.Connection, logs: Path) -> None:
    return None


def _fill_lost(conn: sqlite3.Connection, logs: Path) -> None:
    conn.execute("DELETE FROM fill")


def _fill_zeroed(conn: sqlite3.Connection, logs: Path) -> None:
    conn.execute("UPDATE fill SET amount = '0'")


def _balance_off(conn: sqlite3.Connection, logs: Path) -> None:
    conn.execute("UPDATE paper_balance SET free = '0.03' WHERE asset = 'BTC'")


def _accepted_twice(conn: sqlite3.Connection, logs: Path) -> None:
    line = json.dumps({"event": "paper_order_accepted", "client_order_id": CID})
    (logs / "run-001.log").write_text(line + "\n" + line + "\n")


def _second_order_for_cause(conn: sqlite3.Connection, logs: Path) -> None:
    conn.execute(
        "INSERT INTO order_intent VALUES (?,?,?,?,?,?,?,?)",
        ("qtbot-t1b", CAUSE, "tranche", "BTC/USDT", "buy", "0", None, "50000"),
    )
    conn.execute("INSERT INTO paper_order VALUES ('qtbot-t1b', 'BTC/USDT', 'open', '0')")


def _tranche_overspent(conn: sqlite3.Connection, logs: Path) -> None:
    conn.execute("UPDATE strategy_tranche SET quote_amount = '500'")


def _foreign_paper_order(conn: sqlite3.Connection, logs: Path) -> None:
    conn.execute("INSERT INTO paper_order VALUES ('qtbot-ghost', 'BTC/USDT', 'canceled', '0')")


@pytest.mark.parametrize(
    ("breaker", "expected"),
    [
        pytest.param(_nothing, None, id="consistent"),
        pytest.param(_fill_lost, "fills differ", id="fill_lost"),
        pytest.param(_fill_zeroed, "differs from the paper ledger", id="fill_zeroed"),
        pytest.param(_balance_off, "BTC: store holds", id="balance_off"),
        pytest.param(_accepted_twice, "accepted twice", id="accepted_twice"),
        pytest.param(_second_order_for_cause, "has 2 paper orders", id="two_orders_one_cause"),
        pytest.param(_tranche_overspent, "its share is", id="tranche_overspent"),
        pytest.param(_foreign_paper_order, "no recorded intent", id="order_without_intent"),
    ],
)
def test_paper_invariants_report_each_broken_ledger(
    breaker: Breaker, expected: str | None, tmp_path: Path
) -> None:
    db, logs = tmp_path / "q.sqlite", tmp_path / "logs"
    logs.mkdir()
    conn = sqlite3.connect(db)
    _consistent(conn)
    breaker(conn, logs)
    conn.commit()
    conn.close()
    report = Report()
    check_paper_invariants(db, logs, report)
    if expected is None:
        assert report.violations == []
    else:
        assert any(expected in v for v in report.violations), report.violations
