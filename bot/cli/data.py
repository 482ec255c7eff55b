"""`qtbot download-data`: candles (ccxt fetch_ohlcv) and FRED series into a data directory.

Imported when `qtbot` starts: only typer and the standard library at module level; ccxt and
numpy are imported inside the command, so `qtbot --help` stays fast.
"""

from __future__ import annotations

import typer


def download_data() -> None:
    """Download candles (and with --fed the FRED series) into a data directory. (stub)"""
    typer.echo("qtbot: download-data is not built yet", err=True)
    raise typer.Exit(2)
