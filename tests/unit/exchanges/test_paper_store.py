"""Persistence of the paper account: restart continuity, atomic changes, exact decimals."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from exchanges.base import OrderStatus, Side
from exchanges.paper.engine import PaperExchange
from exchanges.paper.ledger import AssetBalance, IllegalTransition, LedgerChange
from exchanges.paper.store import SqlPaperLedger, create_paper_tables
from tests.unit.exchanges.paper_kit import (
    SYMBOL,
    D,
    StepClock,
    limit,
    make_paper,
    market,
    run,
    set_book,
)


def sqlite_engine(path: Path) -> Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    create_paper_tables(engine)
    return engine


def snapshot(paper: PaperExchange) -> tuple[object, ...]:
    orders = [run(paper.fetch_order(SYMBOL, cid)) for cid in ("buy-mkt", "rest-buy", "rest-sell")]
    return (
        run(paper.fetch_balances()),
        orders,
        run(paper.fetch_open_orders()),
        run(paper.fetch_my_trades(SYMBOL)),
    )


def test_restart_on_same_sqlite_file_continues_exactly(tmp_path: Path) -> None:
    db = tmp_path / "paper.sqlite"
    engine = sqlite_engine(db)
    clock = StepClock()
    paper, data, _ = make_paper(ledger=SqlPaperLedger(engine), clock=clock)
    set_book(data, "29999.99", "30000")
    run(paper.create_order(market("buy-mkt", Side.BUY, "0.01234")))
    clock.advance(5)
    run(paper.create_order(limit("rest-buy", Side.BUY, "0.01", "29000.5")))
    run(paper.create_order(limit("rest-sell", Side.SELL, "0.2", "31000")))
    clock.advance(5)
    set_book(data, "28000", "28999", depth="0.0037", levels=1)
    run(paper.match_resting())
    before = snapshot(paper)
    del paper
    engine.dispose()

    engine2 = sqlite_engine(db)
    restarted, data2, _ = make_paper(ledger=SqlPaperLedger(engine2), clock=clock, usdt="1")

    assert snapshot(restarted) == before  # starting balance of the new config is not re-applied
    set_book(data2, "28000", "28999")
    clock.advance(5)
    fills = run(restarted.match_resting())
    assert [(f.client_order_id, f.amount, f.trade_id) for f in fills] == [
        ("rest-buy", D("0.0063"), "paper-t3")
    ]
    done = run(restarted.fetch_order(SYMBOL, "rest-buy"))
    assert done is not None and done.status is OrderStatus.CLOSED
    assert run(restarted.fetch_balances())["USDT"].used == 0


def test_decimals_round_trip_exactly_through_sqlite(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "paper.sqlite")
    odd = D("12345.678901234567890123")
    ledger = SqlPaperLedger(engine)
    ledger.seed_balances({"USDT": odd, "BTC": D("0.00000001")})

    reloaded = SqlPaperLedger(engine).balances()

    assert reloaded["USDT"] == AssetBalance(free=odd, used=D(0))
    assert str(reloaded["BTC"].free) == "1E-8"


def test_failed_change_leaves_database_and_cache_untouched(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "paper.sqlite")
    paper, data, _ = make_paper(ledger=SqlPaperLedger(engine))
    set_book(data, "29999", "30000")
    run(paper.create_order(market("first", Side.BUY, "0.01")))
    run(paper.create_order(limit("resting", Side.BUY, "0.01", "29000")))
    ledger = SqlPaperLedger(engine)
    resting = ledger.get_order("resting")
    assert resting is not None
    existing_fill = ledger.fills(SYMBOL)[0]
    balances_before = ledger.balances()
    # A fill whose trade id already exists makes the insert fail after the order and the
    # balances were written in the same transaction: all of it must roll back.
    bad = LedgerChange(
        order=replace(resting, order=replace(resting.order, filled=D("0.005"))),
        fills=(existing_fill,),
        balances={"USDT": AssetBalance(free=D(1), used=D(2))},
    )

    with pytest.raises(sa.exc.IntegrityError):
        ledger.apply(bad)

    assert ledger.balances() == balances_before
    fresh = SqlPaperLedger(engine)
    assert fresh.balances() == balances_before
    assert fresh.get_order("resting") == resting
    assert fresh.fill_count() == 1


def test_closed_order_cannot_change_again(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "paper.sqlite")
    paper, data, _ = make_paper(ledger=SqlPaperLedger(engine))
    set_book(data, "29999", "30000")
    run(paper.create_order(market("done", Side.BUY, "0.01")))
    ledger = SqlPaperLedger(engine)
    closed = ledger.get_order("done")
    assert closed is not None

    reopened = replace(closed, order=replace(closed.order, status=OrderStatus.OPEN))
    with pytest.raises(IllegalTransition):
        ledger.apply(LedgerChange(order=reopened))


def test_create_paper_tables_creates_only_paper_tables(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "paper.sqlite")
    create_paper_tables(engine)  # idempotent

    assert set(sa.inspect(engine).get_table_names()) == {
        "paper_balance",
        "paper_order",
        "paper_fill",
    }


def test_starting_balances_seed_only_a_fresh_ledger(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "paper.sqlite")
    assert SqlPaperLedger(engine).seed_balances({"USDT": Decimal(5000)})
    again = SqlPaperLedger(engine)

    assert not again.seed_balances({"USDT": Decimal(1)})
    assert again.balances() == {"USDT": AssetBalance(free=D(5000), used=D(0))}
