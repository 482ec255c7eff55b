"""Small daily candle files for research tests: seeded random walks over 2020-2021, a span the
shipped Fed data classifies (easing from March 2020), so plans start and trades happen."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

DAY_MS = 86_400_000
START = datetime(2020, 3, 1, tzinfo=UTC)


def write_daily(path: Path, price: float, seed: int, days: int, drift: float) -> Path:
    rng = np.random.default_rng(seed)
    closes = price * np.exp(np.cumsum(drift + rng.standard_normal(days) * 0.04))
    opens = np.concatenate(([price], closes[:-1]))
    start_ms = int(START.timestamp() * 1000)
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(days):
        o, c = opens[i], closes[i]
        high, low = max(o, c) * 1.02, min(o, c) * 0.98
        lines.append(f"{start_ms + i * DAY_MS},{o:.2f},{high:.2f},{low:.2f},{c:.2f},1")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def candles(tmp_path: Path) -> list[str]:
    """BTC and ETH, 400 days from 2020-03-01, rising with noise (tiers and stops both fire)."""
    return [
        str(write_daily(tmp_path / "BTC_USDT-1d.csv", 9000.0, 1, 400, 0.004)),
        str(write_daily(tmp_path / "ETH_USDT-1d.csv", 230.0, 2, 400, 0.004)),
    ]
