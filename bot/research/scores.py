"""What a study maximises, and how much a best-of-N result should be believed.

Objectives read a backtest's `Performance`: cagr, sharpe, sortino, calmar (CAGR / |max
drawdown|) and return_over_mdd (total return / |max drawdown|). An undefined figure (no trade,
no down day, a drawdown of zero) scores `UNDEFINED`, below any real result.

The deflated Sharpe ratio (Bailey & López de Prado, "The Deflated Sharpe Ratio", 2014): the
probability that the true Sharpe ratio exceeds the best one expected from N trials of pure
luck, given the trials' spread of Sharpe ratios and the returns' skew and kurtosis. Standard
library only (`statistics.NormalDist`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from bot.backtest.metrics import Performance

OBJECTIVES = ("cagr", "sharpe", "sortino", "calmar", "return_over_mdd")
UNDEFINED = -1e9
EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()


def objective_value(perf: Performance, objective: str) -> float:
    drawdown = -perf.max_drawdown
    value: float | None
    if objective == "cagr":
        value = perf.cagr
    elif objective == "sharpe":
        value = perf.sharpe
    elif objective == "sortino":
        value = perf.sortino
    elif objective == "calmar":
        value = None if perf.cagr is None or drawdown <= 0 else perf.cagr / drawdown
    elif objective == "return_over_mdd":
        value = None if drawdown <= 0 else perf.total_return / drawdown
    else:
        raise ValueError(f"unknown objective {objective!r}: use one of {', '.join(OBJECTIVES)}")
    return UNDEFINED if value is None or not math.isfinite(value) else value


@dataclass(frozen=True)
class ReturnMoments:
    """Per-period (daily) Sharpe ratio of a return series and the moments the DSR needs."""

    sharpe: float
    skew: float
    kurtosis: float  # not excess: 3 for a normal distribution
    count: int


def moments(returns: Sequence[float] | np.ndarray) -> ReturnMoments | None:
    r = np.asarray(returns, dtype=np.float64)
    if r.size < 3:
        return None
    std = float(np.std(r, ddof=1))
    if std <= 0:
        return None
    centred = r - float(np.mean(r))
    m2 = float(np.mean(centred**2))
    skew = float(np.mean(centred**3)) / m2**1.5
    kurt = float(np.mean(centred**4)) / m2**2
    return ReturnMoments(float(np.mean(r)) / std, skew, kurt, int(r.size))


def expected_max_sharpe(trial_sharpes: Sequence[float]) -> float:
    """SR0: the best per-period Sharpe ratio expected among N independent trials whose true
    Sharpe is 0, given the variance of the trials' Sharpe ratios (eq. 2 of the paper)."""
    n = len(trial_sharpes)
    if n < 2:
        return 0.0
    variance = float(np.var(np.asarray(trial_sharpes, dtype=np.float64), ddof=1))
    first = (1 - EULER_GAMMA) * _NORMAL.inv_cdf(1 - 1 / n)
    second = EULER_GAMMA * _NORMAL.inv_cdf(1 - 1 / (n * math.e))
    return math.sqrt(max(variance, 0.0)) * (first + second)


def probabilistic_sharpe(m: ReturnMoments, benchmark: float) -> float:
    """P(true per-period Sharpe > `benchmark`) given the observed moments (PSR)."""
    denominator = 1 - m.skew * m.sharpe + (m.kurtosis - 1) / 4 * m.sharpe**2
    if denominator <= 0:
        return 1.0 if m.sharpe > benchmark else 0.0
    z = (m.sharpe - benchmark) * math.sqrt(m.count - 1) / math.sqrt(denominator)
    return _NORMAL.cdf(z)


def deflated_sharpe(best: ReturnMoments, trial_sharpes: Sequence[float]) -> float:
    """DSR of the selected trial among all trials tried (their per-period Sharpe ratios)."""
    return probabilistic_sharpe(best, expected_max_sharpe(trial_sharpes))
