"""Invariants of a paper-mode crash campaign: the paper ledger is the venue.

The paper engine keeps its orders, fills and balances in tables of the bot's own SQLite file
(paper_order / paper_fill / paper_balance), so after the settle passes the bot's view (intents,
`fill`) and the simulated venue's view must agree exactly:

- no client order id was accepted twice by the paper engine (its `paper_order_accepted` log
  lines, and at most one live-or-filled paper order per cause);
- every paper order has an intent, every paper fill is recorded once in `fill`, and nothing
  else is;
- per base asset, the store's position equals the paper balance (free + used); cash equals
  the start balance minus buys plus sells, fees included;
- shared with testnet mode: no tranche bought more than its share, no tier sold twice.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

from tests.chaos.shared_checks import START_USDT, Report, check_causes, check_tranche_shares

QUOTE = "USDT"


def accepted_in_logs(logs: Path) -> Counter[str]:
    """How often each client id was logged as accepted by the paper engine, over all runs."""
    accepted: Counter[str] = Counter()
    for path in sorted(logs.glob("*.log")):
        for line in path.read_text(errors="replace").splitlines():
            if '"paper_order_accepted"' not in line:
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # a SIGKILL can cut the last line short
            if event.get("event") == "paper_order_accepted":
                accepted[str(event.get("client_order_id"))] += 1
    return accepted


def check_paper_invariants(db: Path, logs: Path, report: Report) -> None:
    conn = sqlite3.connect(db)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            report.violations.append("database integrity check failed")
        intents = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT client_order_id, cause, kind, symbol, side, filled FROM order_intent"
            )
        }
        paper_orders = conn.execute(
            "SELECT client_order_id, symbol, status, filled FROM paper_order"
        ).fetchall()
        paper_fills = conn.execute(
            "SELECT trade_id, symbol, client_order_id, side, amount, price, fee, fee_asset "
            "FROM paper_fill"
        ).fetchall()
        fills = conn.execute(
            "SELECT trade_id, symbol, client_order_id, side, amount, price, fee, fee_asset "
            "FROM fill"
        ).fetchall()
        balances = {
            asset: Decimal(free) + Decimal(used)
            for asset, free, used in conn.execute("SELECT asset, free, used FROM paper_balance")
        }
        check_tranche_shares(conn, report)
    finally:
        conn.close()
    _check_acceptance(intents, paper_orders, accepted_in_logs(logs), report)
    _check_fills(paper_fills, fills, report)
    _check_balances(fills, balances, report)
    check_causes(intents, report)
    report.figures.update(
        orders_sent=len(paper_orders),
        intents=len(intents),
        fills=len(fills),
        paper_fills=len(paper_fills),
        tier_sales=sum(1 for v in intents.values() if v[1] == "take_profit" and Decimal(v[4])),
        exits=sum(
            1 for v in intents.values() if v[1] in ("trailing_stop", "stop_loss") and Decimal(v[4])
        ),
    )


def _check_acceptance(
    intents: dict[str, tuple[str, ...]],
    paper_orders: list[tuple[str, str, str, str]],
    accepted: Counter[str],
    report: Report,
) -> None:
    twice = sorted(cid for cid, n in accepted.items() if n > 1)
    if twice:
        report.violations.append(f"client ids accepted twice by the paper engine: {twice[:5]}")
    foreign = sorted(cid for cid, *_ in paper_orders if cid not in intents)
    if foreign:
        report.violations.append(f"paper orders with no recorded intent: {foreign[:5]}")
    # A cause may get a new attempt only after its last order ended with nothing filled.
    by_cause: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for cid, _symbol, status, filled in paper_orders:
        if cid in intents:
            by_cause[intents[cid][0]].append((status, Decimal(filled)))
    for cause, orders in by_cause.items():
        live_or_filled = [o for o in orders if o[0] in ("open", "closed") or o[1] > 0]
        if len(live_or_filled) > 1:
            report.violations.append(f"cause {cause} has {len(live_or_filled)} paper orders")
    report.figures["paper_accepted_logged"] = sum(accepted.values())


def _check_fills(paper_fills: list[tuple], fills: list[tuple], report: Report) -> None:
    stored = Counter((str(f[0]), f[1]) for f in fills)
    if any(n > 1 for n in stored.values()):
        report.violations.append("a fill is recorded twice")
    venue = {(str(f[0]), f[1]): f for f in paper_fills}
    if set(stored) != set(venue):
        missing = sorted(set(venue) - set(stored))[:5]
        extra = sorted(set(stored) - set(venue))[:5]
        report.violations.append(
            f"fills differ from the paper ledger: missing {missing} extra {extra}"
        )
    for f in fills:
        twin = venue.get((str(f[0]), f[1]))
        if twin is not None and tuple(twin[2:]) != tuple(f[2:]):
            report.violations.append(f"fill {f[0]} differs from the paper ledger: {f} vs {twin}")
            break


def _check_balances(fills: list[tuple], balances: dict[str, Decimal], report: Report) -> None:

    held: dict[str, Decimal] = defaultdict(Decimal)
    cash = START_USDT
    for _tid, symbol, _cid, side, amount, price, fee, fee_asset in fills:
        base, quote = symbol.split("/")
        qty, cost, fee_d = Decimal(amount), Decimal(amount) * Decimal(price), Decimal(fee)
        base_fee = fee_d if fee_asset == base else Decimal(0)
        quote_fee = fee_d if fee_asset == quote else Decimal(0)
        if side == "buy":
            held[base] += qty - base_fee
            cash -= cost + quote_fee
        else:
            held[base] -= qty + base_fee
            cash += cost - quote_fee
    for base in sorted(set(held) | (set(balances) - {QUOTE})):
        venue = balances.get(base, Decimal(0))
        if venue != held[base]:
            report.violations.append(f"{base}: store holds {held[base]}, paper ledger {venue}")
    venue_cash = balances.get(QUOTE, Decimal(0))
    # Each paper fill's cost is rounded by the engine; allow a cent of drift over the campaign.
    if abs(venue_cash - cash) > Decimal("0.01"):
        report.violations.append(f"{QUOTE}: fills imply {cash}, paper ledger {venue_cash}")
