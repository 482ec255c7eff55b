"""Candidate signals a study can judge before they are product settings, named `research.*`
in the search space (off unless swept):

- `research.net_liquidity_drain_pct`: treat the regime as tightening (no plan starts, tranches
  pause) while net liquidity (`bot.signals.net_liquidity`, WALCL - RRPONTSYD [- WTREGEN]) fell
  by at least this % over 13 weeks. Reads `RRPONTSYD.csv` (and `WTREGEN.csv` if present) from
  the Fed data directory.

A trial with a candidate on runs the backtest with wrapped signals, so `qtbot backtest` cannot
replay it; the report says so rather than print env lines that would not reproduce it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.backtest.config import BacktestConfig
from bot.backtest.fed_signals import RecordedSignals
from bot.backtest.runner import BacktestResult, run_backtest
from bot.backtest.study import StudyData, run_trial
from bot.config.settings import Settings
from bot.signals.fred import load_fred_csv
from bot.signals.net_liquidity import DrainGate, net_liquidity
from bot.signals.regime_types import Regime
from bot.signals.shipped_data import SHIPPED_DATA_DIR
from bot.strategy.inputs import FlushView, RegimeView

CANDIDATES = ("net_liquidity_drain_pct",)


class CandidateError(ValueError):
    """A candidate value or input that cannot be used (one line)."""


def check_candidate(field: str, value: Any) -> None:
    if field not in CANDIDATES:
        raise CandidateError(
            f"'research.{field}': unknown candidate; research.* knows {', '.join(CANDIDATES)}"
        )
    if value == "off":
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 100:
        raise CandidateError(f"research.{field} value {value!r}: use a % above 0, or off")


@dataclass
class NetLiquiditySignals:
    """The recorded signals, with the regime read as tightening while liquidity drains."""

    inner: RecordedSignals
    gate: DrainGate

    def regime(self, now: datetime) -> RegimeView | None:
        view = self.inner.regime(now)
        if view is None or not self.gate.draining(now.date()):
            return view
        return RegimeView(Regime.TIGHTENING, view.since, view.last_pivot, "net_liquidity")

    def flush(self, symbol: str, now: datetime) -> FlushView | None:
        return self.inner.flush(symbol, now)

    def hours_to_next_fomc(self, now: datetime) -> float | None:
        return self.inner.hours_to_next_fomc(now)


_gates: dict[tuple[str, float], DrainGate] = {}


def drain_gate(fed_data: Path | None, drain_pct: float) -> DrainGate:
    directory = fed_data or SHIPPED_DATA_DIR
    key = (str(directory), drain_pct)
    if key not in _gates:
        rrp_path = directory / "RRPONTSYD.csv"
        if not rrp_path.exists():
            raise CandidateError(
                f"research.net_liquidity_drain_pct needs {rrp_path} (FRED RRPONTSYD) in --fed-data"
            )
        tga_path = directory / "WTREGEN.csv"
        series = net_liquidity(
            load_fred_csv(str(directory / "WALCL.csv"), "WALCL"),
            load_fred_csv(str(rrp_path), "RRPONTSYD"),
            load_fred_csv(str(tga_path), "WTREGEN") if tga_path.exists() else None,
        )
        _gates[key] = DrainGate(series, drain_pct / 100)
    return _gates[key]


def backtest(
    data: StudyData,
    settings: Settings,
    start: datetime,
    end: datetime,
    candidates: Mapping[str, Any],
) -> BacktestResult:
    """`run_trial` (the path of `qtbot backtest`) unless a candidate is on."""
    drain = candidates.get("net_liquidity_drain_pct", "off")
    if drain == "off":
        return run_trial(data, settings, start, end)
    wrapped = NetLiquiditySignals(
        data.signals_for(settings), drain_gate(data.fed_data, float(drain))
    )
    config = BacktestConfig(
        series=data.series, settings=settings, signals=wrapped, start=start, end=end
    )
    return run_backtest(config)
