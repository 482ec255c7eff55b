"""Where the data files shipped inside the package live (`bot/data`).

They let the project run, test and backtest without `/work/shared`; see `bot/data/SOURCES.md`
for what each file is and where it comes from.
"""

from __future__ import annotations

from pathlib import Path

SHIPPED_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def shipped_path(*parts: str) -> Path:
    """Path of a shipped data file, e.g. `shipped_path("liquidations", "binance_4h_BTC.csv")`."""
    return SHIPPED_DATA_DIR.joinpath(*parts)
