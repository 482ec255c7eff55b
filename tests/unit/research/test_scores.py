"""Objectives and the deflated Sharpe ratio (Bailey & López de Prado 2014)."""

from __future__ import annotations

import math

import pytest

from bot.backtest.metrics import Performance
from bot.research.scores import (
    UNDEFINED,
    ReturnMoments,
    deflated_sharpe,
    expected_max_sharpe,
    moments,
    objective_value,
    probabilistic_sharpe,
)


def perf(**kw: float | None) -> Performance:
    base: dict[str, float | None] = dict(
        initial=1000.0,
        final=1500.0,
        total_return=0.5,
        cagr=0.2,
        max_drawdown=-0.25,
        sharpe=1.1,
        sortino=1.6,
        exposure=0.5,
        fees=3.0,
        days=730.0,
    )
    base.update(kw)
    return Performance(**base)  # type: ignore[arg-type]


def test_objectives_read_the_performance() -> None:
    p = perf()
    assert objective_value(p, "cagr") == 0.2
    assert objective_value(p, "sharpe") == 1.1
    assert objective_value(p, "sortino") == 1.6
    assert objective_value(p, "calmar") == pytest.approx(0.8)
    assert objective_value(p, "return_over_mdd") == pytest.approx(2.0)


def test_undefined_figures_score_below_any_result() -> None:
    assert objective_value(perf(sharpe=None), "sharpe") == UNDEFINED
    assert objective_value(perf(max_drawdown=0.0), "calmar") == UNDEFINED
    with pytest.raises(ValueError, match="unknown objective"):
        objective_value(perf(), "profit")


def test_deflated_sharpe_matches_the_papers_worked_example() -> None:
    """Bailey & López de Prado (2014), section 4: 1,250 daily returns, annualised Sharpe 2.5,
    skew -3, kurtosis 10, N = 100 trials whose annualised Sharpe ratios vary by 0.5: SR0 is
    0.1132 a day and the DSR 0.9004."""
    daily = 2.5 / math.sqrt(250)
    spread = math.sqrt(0.5 / 250)
    # Two values at +-spread repeated give the trials' sample variance exactly spread**2 (ddof=1
    # on 100 values differs by 1 %, within the paper's rounding).
    trials = [spread * (1 if i % 2 else -1) * math.sqrt(99 / 100) for i in range(100)]
    assert expected_max_sharpe(trials) == pytest.approx(0.1132, abs=5e-4)
    best = ReturnMoments(daily, -3.0, 10.0, 1250)
    assert deflated_sharpe(best, trials) == pytest.approx(0.9004, abs=2e-3)


def test_more_trials_deflate_more() -> None:
    best = ReturnMoments(0.08, 0.0, 3.0, 500)
    few = [0.01, -0.01, 0.03, 0.0]
    many = few * 50
    assert deflated_sharpe(best, many) < deflated_sharpe(best, few) < probabilistic_sharpe(best, 0)


def test_moments_of_a_normal_like_series() -> None:
    m = moments([0.01, -0.01, 0.02, -0.02, 0.0, 0.01, -0.01])
    assert m is not None and m.skew == pytest.approx(0.0, abs=1e-12)
    assert moments([0.01, 0.01, 0.01]) is None  # no variation: no Sharpe ratio
