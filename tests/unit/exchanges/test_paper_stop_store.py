"""Stop orders in the persistent paper ledger: restart continuity, atomic replace, old schemas."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from exchanges.base import OrderRequest, OrderStatus, OrderType, Side
from exchanges.paper.ledger import IllegalTransition, InMemoryPaperLedger, LedgerChange
from exchanges.paper.store import SqlPaperLedger, create_paper_tables, upgrade_paper_tables
from tests.unit.exchanges.paper_kit import SYMBOL, D, StepClock, make_paper, run, set_book


def stop(cid: str, amount: str, trigger: str, price: str) -> OrderRequest:
    return OrderRequest(
        cid, SYMBOL, Side.SELL, OrderType.STOP_LIMIT, D(amount), D(price), D(trigger)
    )


def sqlite_engine(path: Path) -> Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    create_paper_tables(engine)
    return engine


def test_stops_in_every_state_survive_a_restart(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "paper.sqlite")
    clock = StepClock()
    paper, data, _ = make_paper(ledger=SqlPaperLedger(engine), clock=clock)
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("waiting", "0.1", "28000", "27900")))
    run(paper.create_order(stop("working", "0.1", "29500", "29498")))
    run(paper.create_order(stop("gone", "0.1", "27000", "26900")))
    run(paper.cancel_order(SYMBOL, "gone"))
    clock.advance(10)
    set_book(data, "29499", "29500", depth="0.05", levels=1)
    run(paper.match_resting())
    ids = ("waiting", "working", "gone")
    before = [run(paper.fetch_order(SYMBOL, cid)) for cid in ids]
    balances = run(paper.fetch_balances())

    reopened, data2, _ = make_paper(ledger=SqlPaperLedger(engine), clock=clock)
    after = [run(reopened.fetch_order(SYMBOL, cid)) for cid in ids]

    assert after == before
    waiting, working, gone = after
    assert (
        waiting is not None and waiting.waiting_for_trigger and waiting.trigger_price == D("28000")
    )
    assert working is not None and working.triggered and working.filled == D("0.05")
    assert gone is not None and gone.status is OrderStatus.CANCELED
    assert run(reopened.fetch_balances()) == balances
    # The restarted engine keeps working the triggered stop as a limit order.
    set_book(data2, "29498", "29499")
    fills = run(reopened.match_resting())
    assert [(f.client_order_id, f.amount) for f in fills] == [("working", D("0.05"))]


def test_replace_is_one_transaction_on_disk(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "paper.sqlite")
    paper, data, _ = make_paper(ledger=SqlPaperLedger(engine), btc="1")
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("old", "1", "28000", "27900")))

    run(paper.replace_stop(SYMBOL, "old", stop("new", "1", "29000", "28900")))

    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT client_order_id, status, trigger_price, triggered FROM paper_order")
        ).all()
        used = conn.execute(sa.text("SELECT used FROM paper_balance WHERE asset='BTC'")).scalar()
    assert sorted(rows) == [("new", "open", "29000.00", 0), ("old", "canceled", "28000.00", 0)]
    assert D(used) == D("1")


def test_a_batch_with_an_illegal_transition_changes_nothing() -> None:
    ledger = InMemoryPaperLedger()
    paper, data, _ = make_paper(ledger=ledger)
    set_book(data, "30000", "30001")
    run(paper.create_order(stop("s", "0.1", "28000", "27900")))
    canceled = run(paper.cancel_order(SYMBOL, "s"))
    stored = ledger.get_order("s")
    assert stored is not None and stored.order == canceled

    reopen = LedgerChange(order=replace(stored, order=replace(canceled, status=OrderStatus.OPEN)))
    with pytest.raises(IllegalTransition):
        ledger.apply_all([LedgerChange(order=stored), reopen])
    assert ledger.get_order("s") == stored


def test_old_paper_order_table_gains_the_stop_columns(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE paper_order (client_order_id VARCHAR PRIMARY KEY, seq INTEGER, "
                "exchange_order_id VARCHAR, symbol VARCHAR, side VARCHAR, order_type VARCHAR, "
                "amount VARCHAR, price VARCHAR, status VARCHAR, filled VARCHAR, average VARCHAR, "
                "fee VARCHAR, created_at DATETIME, updated_at DATETIME, reserve_asset VARCHAR, "
                "reserved VARCHAR, reserve_fee VARCHAR, filled_cost VARCHAR)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO paper_order VALUES ('lim', 1, 'paper-1', 'BTC/USDT', 'buy', 'limit', "
                "'0.01', '29000', 'open', '0', NULL, '0', '2025-12-01 12:00:00', "
                "'2025-12-01 12:00:00', 'USDT', '290.29', '0.001', '0')"
            )
        )

    assert upgrade_paper_tables(engine) == ["trigger_price", "triggered"]
    assert upgrade_paper_tables(engine) == []  # idempotent
    create_paper_tables(engine)  # the balance and fill tables
    ledger = SqlPaperLedger(engine)
    old = ledger.get_order("lim")
    assert old is not None and old.order.trigger_price is None and not old.order.triggered
