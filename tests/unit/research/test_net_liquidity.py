"""Net liquidity (WALCL - WTREGEN - RRPONTSYD) and the drain gate, on small made-up series."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.signals.fred import FredSeries
from bot.signals.net_liquidity import DrainGate, net_liquidity

WEDNESDAYS = tuple(date(2022, 1, 5) + timedelta(weeks=i) for i in range(30))


def test_rrp_in_billions_and_tga_are_taken_off_the_balance_sheet() -> None:
    walcl = FredSeries("WALCL", WEDNESDAYS[:2], (8_000_000.0, 8_100_000.0))
    rrp = FredSeries("RRPONTSYD", (date(2022, 1, 4), date(2022, 1, 12)), (1500.0, 1600.0))
    tga = FredSeries("WTREGEN", (date(2022, 1, 5),), (700_000.0,))
    assert net_liquidity(walcl, rrp).values == (6_500_000.0, 6_500_000.0)
    assert net_liquidity(walcl, rrp, tga).values == (5_800_000.0, 5_800_000.0)


def test_weeks_before_the_first_rrp_observation_are_left_out() -> None:
    walcl = FredSeries("WALCL", WEDNESDAYS[:3], (1.0, 2.0, 3.0))
    rrp = FredSeries("RRPONTSYD", (WEDNESDAYS[1],), (0.0,))
    assert net_liquidity(walcl, rrp).dates == WEDNESDAYS[1:3]


def test_the_gate_sees_a_drain_once_it_is_published() -> None:
    # Flat for 15 weeks, then down 1 % a week.
    values = tuple(100.0 if i < 15 else 100.0 * 0.99 ** (i - 14) for i in range(30))
    gate = DrainGate(FredSeries("NETLIQ", WEDNESDAYS, values), drain=0.05, window_weeks=13)
    fifth_week_down = WEDNESDAYS[19]  # 0.99**5 = -4.9 %: not yet
    assert gate.draining(fifth_week_down + timedelta(days=1)) is False
    sixth = WEDNESDAYS[20]  # -5.9 %, published the next day
    assert gate.draining(sixth) is False
    assert gate.draining(sixth + timedelta(days=1)) is True
    assert gate.change(sixth + timedelta(days=1)) == pytest.approx(0.99**6 - 1)
    assert gate.draining(WEDNESDAYS[0]) is None  # no trailing window known yet
