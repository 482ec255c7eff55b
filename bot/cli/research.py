"""`qtbot sweep`: parameter studies with walk-forward validation.

Imported when `qtbot` starts: only typer and the standard library at module level; optuna,
numpy and the backtest are imported inside the command, so `qtbot --help` stays fast.
"""

from __future__ import annotations

import typer


def sweep() -> None:
    """Search rule settings on history, judged out of sample (walk-forward). (stub)"""
    typer.echo("qtbot: sweep is not built yet", err=True)
    raise typer.Exit(2)
