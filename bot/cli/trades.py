"""`qtbot trades`, `qtbot profit` and `qtbot journal`: what the bot did, read from the store.

Imported when `qtbot` starts: only typer and the standard library at module level; the store
and settings are imported inside the commands, so `qtbot --help` stays fast.
"""

from __future__ import annotations

import typer


def trades() -> None:
    """Closed round trips: entry, exit, P&L and why. (stub)"""
    typer.echo("qtbot: trades is not built yet", err=True)
    raise typer.Exit(2)


def profit() -> None:
    """Realised and unrealised P&L, win rate, per symbol, against buy-and-hold. (stub)"""
    typer.echo("qtbot: profit is not built yet", err=True)
    raise typer.Exit(2)


def journal() -> None:
    """Every decision the bot journaled, filtered by time, kind and symbol. (stub)"""
    typer.echo("qtbot: journal is not built yet", err=True)
    raise typer.Exit(2)
