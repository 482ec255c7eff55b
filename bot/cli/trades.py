"""`qtbot trades`, `qtbot profit` and `qtbot journal`: what the bot did, read from the store.

Imported when `qtbot` starts: only typer and the standard library at module level; the store
and the read models are imported inside the commands, so `qtbot --help` stays fast.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from bot.cli.common import (
    EnvFile,
    JsonFlag,
    fail,
    open_existing_store_or_exit,
    settings_or_exit,
)

if TYPE_CHECKING:
    from bot.config.settings import Settings
    from bot.state.store import Store

T = TypeVar("T")

Since = Annotated[
    str | None,
    typer.Option(
        "--since",
        metavar="WHEN",
        help="only since then: a duration back (30m, 12h, 7d, 2w) or a date/ISO time (UTC)",
    ),
]
Limit = Annotated[int, typer.Option("--limit", help="newest N entries (1 to 100000)")]
MAX_LIMIT = 100_000
Kind = Annotated[
    str | None,
    typer.Option("--kind", metavar="KIND[,KIND]", help="only these kinds, e.g. take_profit"),
]
Symbol = Annotated[
    str | None, typer.Option("--symbol", metavar="SYMBOL", help="only this symbol, e.g. BTC/USDT")
]


def _since(text: str | None, now: datetime) -> datetime | None:
    from bot.ops.journal_query import parse_since  # noqa: PLC0415 - keeps `qtbot --help` fast

    if text is None:
        return None
    try:
        return parse_since(text, now)
    except ValueError as exc:
        fail(str(exc))


def _echo_json(value: Any) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def _read(env_file: Path | None, reader: Callable[[Settings, Store], T], empty: T) -> T:
    """Settings, then the store read by `reader(settings, store)`; no database yet is an
    empty answer (said on stderr), a damaged one a single line."""
    from bot.state.db import StoreError  # noqa: PLC0415 - keeps `qtbot --help` fast

    settings = settings_or_exit(env_file)
    store = open_existing_store_or_exit(settings)
    if store is None:
        typer.echo("qtbot: no database yet: the daemon has not run", err=True)
        return empty
    try:
        return reader(settings, store)
    except StoreError as exc:  # damage found while reading rows, after the checks on open
        fail(f"database error: {exc}")
    finally:
        store.close()


def trades(since: Since = None, json_output: JsonFlag = False, env_file: EnvFile = None) -> None:
    """Closed round trips: entry and exit (average price, time), amount, P&L after fees, why."""
    from bot.ops import human  # noqa: PLC0415 - keeps `qtbot --help` fast
    from bot.ops.trades import closed_trades, trade_dict  # noqa: PLC0415 - as above

    start = _since(since, datetime.now(UTC))
    rows: list[dict[str, Any]] = _read(
        env_file,
        lambda _, store: [trade_dict(t) for t in closed_trades(store, start)],
        [],
    )
    if json_output:
        _echo_json(rows)
        return
    if not rows:
        typer.echo("no closed trades" + (f" since {human.when(start)} UTC" if start else ""))
        return
    table = [
        [
            r["symbol"],
            human.when(r["entry_at"]),
            human.price(r["entry_avg"]),
            human.when(r["exit_at"]),
            human.price(r["exit_avg"]),
            human.amount(r["amount"]),
            human.held(r["held_seconds"]),
            human.money(r["fees"]),
            human.money(r["pnl"], signed=True),
            human.pct(r["pnl_pct"]),
            r["reason"]
            + (f" ({', '.join(r['exits'][:-1])} before)" if len(r["exits"]) > 1 else ""),
        ]
        for r in rows
    ]
    headers = [
        "symbol", "entry (UTC)", "entry avg", "exit (UTC)", "exit avg", "amount", "held",
        "fees", "P&L", "P&L %", "reason",
    ]  # fmt: skip
    typer.echo(human.text_table(headers, table, right={2, 4, 5, 7, 8, 9}))
    total = sum(float(r["pnl"]) for r in rows)
    won = sum(1 for r in rows if float(r["pnl"]) > 0)
    typer.echo(
        f"\n{len(rows)} closed trade{'s' if len(rows) != 1 else ''}, {won} won; "
        f"realised {human.money(total, signed=True)} after fees (quote currency)"
    )


def _profit_lines(view: dict[str, Any]) -> list[str]:
    from bot.ops import human  # noqa: PLC0415 - keeps `qtbot --help` fast

    quote = view["quote"]
    hold = view["buy_and_hold"]
    account = view["account"]
    won = f"{view['wins']} won" + (
        f", win rate {human.pct(view['win_rate_pct'], signed=False)}"
        if view["win_rate_pct"] is not None
        else ""
    )
    lines = [
        f"profit in {quote}, as of {human.when(view['as_of'])} UTC",
        f"realised:    {human.money(view['realised_pnl'], signed=True):>12}  "
        f"({view['trades']} closed trade{'' if view['trades'] == 1 else 's'}, {won})",
        f"unrealised:  {human.money(view['unrealised_pnl'], signed=True):>12}  "
        "(open positions at their last known price, less their fees so far)",
        f"total:       {human.money(view['total_pnl'], signed=True):>12}  "
        f"(fees paid {human.money(view['fees'])})",
    ]
    if hold["since"]:
        lines.append(
            f"buy & hold:  {human.money(hold['pnl'], signed=True):>12}  "
            f"({human.pct(hold['pct'])} on {human.money(hold['invested'])} since "
            f"{human.when(hold['since'])}; the bot: {human.pct(hold['strategy_pct'])} "
            "on the same amount)"
        )
    equity = human.money(account["equity"])
    lines.append(
        f"cash:        {human.money(account['cash']):>12}  ({account['cash_source'] or 'unknown'})"
    )
    lines.append(f"equity:      {equity:>12}  ({account['equity_source'] or 'unknown'})")
    return lines


def profit(json_output: JsonFlag = False, env_file: EnvFile = None) -> None:
    """Realised and unrealised P&L, win rate, per symbol, against buy-and-hold since the first
    entry (prices: the newest the store knows; no market data needed)."""
    from bot.ops import human  # noqa: PLC0415 - keeps `qtbot --help` fast
    from bot.ops.profit import profit_view  # noqa: PLC0415 - as above

    now = datetime.now(UTC)
    view: dict[str, Any] | None = _read(
        env_file, lambda settings, store: profit_view(settings, store, now), None
    )
    if json_output:
        _echo_json(view or {})
        return
    if view is None:
        return
    if not view["symbols"]:
        typer.echo("nothing traded yet")
        return
    typer.echo("\n".join(_profit_lines(view)))
    table = [
        [
            s["symbol"],
            str(s["trades"]),
            str(s["wins"]),
            human.money(s["realised_pnl"], signed=True),
            human.money(s["unrealised_pnl"], signed=True),
            human.money(s["total_pnl"], signed=True),
            human.amount(s["open_size"]),
            human.price(s["last_price"]),
            f"{human.age(s['price_age_seconds'])} old, {s['price_source']}"
            if s["last_price"] is not None
            else "no price known",
            human.pct(s["buy_hold_pct"]),
            human.pct(s["strategy_pct"]),
        ]
        for s in view["symbols"]
    ]
    headers = [
        "symbol", "trades", "won", "realised", "unrealised", "total", "held", "last price",
        "price from", "buy & hold", "the bot",
    ]  # fmt: skip
    typer.echo("")
    typer.echo(human.text_table(headers, table, right={1, 2, 3, 4, 5, 6, 7, 9, 10}))
    for note in view["notes"]:
        typer.echo(f"note: {note}")


def journal(
    since: Since = None,
    kind: Kind = None,
    symbol: Symbol = None,
    limit: Limit = 50,
    json_output: JsonFlag = False,
    env_file: EnvFile = None,
) -> None:
    """Every decision the bot journaled, oldest first, filtered by time, kind and symbol."""
    from bot.ops import human  # noqa: PLC0415 - keeps `qtbot --help` fast
    from bot.ops.journal_query import (  # noqa: PLC0415 - as above
        journal_entries,
        journal_kinds,
    )

    start = _since(since, datetime.now(UTC))
    if not 1 <= limit <= MAX_LIMIT:
        fail(f"--limit {limit} is out of range: give a number from 1 to {MAX_LIMIT}")
    if symbol is not None and "/" not in symbol:
        fail(f"--symbol {symbol!r} is not a market symbol: write it as BASE/QUOTE, e.g. BTC/USDT")
    wanted = None if symbol is None else symbol.strip().upper()

    def read(_: Settings, store: Store) -> tuple[list[dict[str, Any]], list[str]]:
        return journal_entries(store, start, kind, wanted, limit), journal_kinds(store)

    nothing: tuple[list[dict[str, Any]], list[str]] = ([], [])
    rows, kinds = _read(env_file, read, nothing)
    asked = [k.strip() for k in (kind or "").split(",") if k.strip()]
    unknown = [k for k in asked if k not in kinds]
    if unknown and kinds:
        # Not an error: a kind can be valid and simply not have happened yet (panic).
        close = {m for k in unknown for m in difflib.get_close_matches(k, kinds, n=1)}
        hint = f" (did you mean {', '.join(sorted(close))}?)" if close else ""
        typer.echo(
            f"qtbot: no entries of kind {', '.join(unknown)}{hint}; kinds recorded: "
            f"{', '.join(kinds)}",
            err=True,
        )
    if json_output:
        _echo_json(rows)
        return
    for row in rows:
        level = "" if row["level"] == "info" else f" [{row['level']}]"
        typer.echo(
            f"{human.when(row['at'])}:{row['at'][17:19]}  {row['kind']}{level}"
            f"{'  ' + row['symbol'] if row['symbol'] else ''}  {row['message']}"
        )
    if not rows:
        typer.echo("no journal entries match")
