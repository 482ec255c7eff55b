"""Invariants both campaign modes check: tranches within their share, tiers sold at most once."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

# What every campaign account starts with (testnet emulator balance or paper starting balance).
START_USDT = Decimal(10000)


@dataclass
class Report:
    """What a campaign found: runs, kills, invariant violations and measured figures."""

    runs: int = 0
    kills: int = 0
    clean_exits: int = 0
    violations: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


# A tranche's later attempts buy what is left of its quote at the price of the moment, and a
# market order walks the book: allow a little over the share, never a second full share.
TRANCHE_SHARE_SLACK = Decimal("1.05")


def check_causes(intents: dict[str, tuple[Any, ...]], report: Report) -> None:
    """`intents`: client id -> (cause, kind, symbol, side, filled)."""
    by_cause: dict[str, list[Decimal]] = defaultdict(list)
    for cause, kind, _symbol, _side, filled in intents.values():
        if kind == "take_profit":
            by_cause[cause].append(Decimal(filled))
    for cause, filled in by_cause.items():
        if sum(1 for f in filled if f > 0) > 1:
            report.violations.append(f"tier {cause} sold by more than one order")
    tranches: dict[str, int] = defaultdict(int)
    for cause, kind, *_rest, filled in intents.values():
        if kind == "tranche" and Decimal(filled) > 0:
            tranches[cause.split("|r")[0]] += 1
    report.figures["tranches_filled"] = len(tranches)


def check_tranche_shares(conn: sqlite3.Connection, report: Report) -> None:
    """No tranche spent more than its planned quote over all of its attempts' orders."""
    shares = {
        f"plan:{plan_id}|tranche:{number}": Decimal(quote)
        for plan_id, number, quote in conn.execute(
            "SELECT plan_id, number, quote_amount FROM strategy_tranche"
        )
    }
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for cause, filled, average, price in conn.execute(
        "SELECT cause, filled, average, price FROM order_intent WHERE kind = 'tranche'"
    ):
        cost = Decimal(filled) * Decimal(average or price or 0)
        spent[cause.split("|r")[0]] += cost
    for tranche, cost in sorted(spent.items()):
        share = shares.get(tranche)
        if share is None:
            report.violations.append(f"orders for {tranche}, which no plan holds")
        elif cost > share * TRANCHE_SHARE_SLACK:
            report.violations.append(f"{tranche} spent {cost:.2f}, its share is {share}")
