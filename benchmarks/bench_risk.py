"""Risk-engine throughput: position evaluations per second on one price tick.

How it measures: 10,000 open positions (one symbol each) are built once from fills; a quarter
have tier 1 taken, a quarter both tiers taken with an active trailing stop, the rest are fresh.
One price tick is chosen so that a tenth of the positions produce an action (take-profit,
trailing or hard stop) and the rest only update their marks. `risk.engine.evaluate` is called
on all 10,000 positions at once, repeatedly for at least ~2 s (and at least 5 rounds) after one
warm-up round; the median round time gives `10,000 / median seconds` evaluations per second.
Only the `evaluate` call is timed; building positions and prices is not.

Run from the repo root: `python benchmarks/bench_risk.py`. stdout carries exactly one line,
`risk_engine: <int> evaluations/s`; details go to stderr as a `# measured: ...` line.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from risk.engine import evaluate
from risk.limits import AccountState
from risk.marks import PositionMarks
from risk.params import RiskParams
from risk.position import FillSide, Position, PositionFill, position_from_fills

POSITIONS = 10_000
MIN_SECONDS = 2.0
MIN_ROUNDS = 5
T0 = datetime(2025, 3, 1, tzinfo=UTC)


def build_book() -> tuple[
    dict[str, Position], dict[str, PositionMarks], dict[str, Decimal], AccountState
]:
    positions: dict[str, Position] = {}
    marks: dict[str, PositionMarks] = {}
    prices: dict[str, Decimal] = {}
    for i in range(POSITIONS):
        symbol = f"C{i:05d}/USDT"
        entry = Decimal(100 + i % 50)
        fills = [
            PositionFill(f"{i}-b1", FillSide.BUY, Decimal("1.5"), entry, Decimal("0.15"), T0),
            PositionFill(
                f"{i}-b2",
                FillSide.BUY,
                Decimal("0.5"),
                entry - 2,
                Decimal("0.05"),
                T0 + timedelta(hours=1),
            ),
        ]
        state = i % 4
        if state >= 2:
            fills.append(
                PositionFill(
                    f"{i}-s1",
                    FillSide.SELL,
                    Decimal("0.5"),
                    entry * Decimal("1.2"),
                    Decimal("0.06"),
                    T0 + timedelta(hours=2),
                    tier=1,
                )
            )
        if state == 3:
            fills.append(
                PositionFill(
                    f"{i}-s2",
                    FillSide.SELL,
                    Decimal("0.5"),
                    entry * Decimal("1.5"),
                    Decimal("0.075"),
                    T0 + timedelta(hours=3),
                    tier=2,
                )
            )
        position = position_from_fills(symbol, fills)
        positions[symbol] = position
        high = entry * Decimal("1.6") if state == 3 else entry * Decimal("1.1")
        trail = high * Decimal("0.9") if state == 3 else None
        marks[symbol] = PositionMarks(position.cycle_id or "", high, trail)
        # Quiet moves that only update marks; every 10th position crosses a rule instead:
        # tier 1 (fresh), break-even stop (tier 1 taken), trailing stop (both tiers taken).
        quiet = ("1.05", "1.05", "1.3", "1.55")[state]
        firing = ("1.25", "1.25", "0.8", "1.3")[state]
        move = Decimal(firing if i % 10 == 0 else quiet)
        prices[symbol] = (position.avg_entry_price * move).quantize(Decimal("0.01"))
    equity = Decimal(10_000_000)
    return positions, marks, prices, AccountState(equity, equity, equity, Decimal(1_000_000))


def main() -> None:
    positions, marks, prices, account = build_book()
    params = RiskParams(max_open_positions=POSITIONS, trailing_stop_pct=Decimal("0.1"))
    now = T0 + timedelta(days=1)
    decision = evaluate(positions, marks, prices, account, params, now)  # warm-up
    rounds: list[float] = []
    started = time.perf_counter()
    while len(rounds) < MIN_ROUNDS or time.perf_counter() - started < MIN_SECONDS:
        t0 = time.perf_counter()
        decision = evaluate(positions, marks, prices, account, params, now)
        rounds.append(time.perf_counter() - t0)
    median = statistics.median(rounds)
    rate = int(POSITIONS / median)
    print(f"risk_engine: {rate} evaluations/s")
    print(
        f"# measured: {len(rounds)} rounds of evaluate() over {POSITIONS} positions, "
        f"median {median * 1000:.1f} ms, best {min(rounds) * 1000:.1f} ms, "
        f"{len(decision.actions)} actions per tick, python {sys.version.split()[0]}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
