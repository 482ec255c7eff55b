"""A slice of the exchange-stop crash campaign (tests/chaos/stop_campaign.py): real daemons
SIGKILLed while the stop's own requests are in flight, before and after the venue acts.

The full campaign is `python -m tests.chaos.stop_campaign --runs 20`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.stop_campaign import run_stop_campaign

RUNS = 4


@pytest.mark.serial
def test_kills_around_stop_requests_leave_one_stop_no_gap_and_no_oversell(
    tmp_path: Path,
) -> None:
    report = run_stop_campaign(runs=RUNS, workdir=tmp_path, seed=5)

    assert report.violations == []
    figures = report.figures
    assert figures["kills_at_a_stop_request"] >= 2, report.kill_points  # else it proved little
    assert figures["max_live_stops_per_position"] == 1
    assert figures["oversells"] == 0
    # A position without a resting stop gets one, or is sold by the daemon's own stop, in the
    # risk-job run that first sees it (the next one when a fill lands mid-valuation), whatever
    # took its stop away: a kill, a cancel, a crash between two requests.
    assert figures["longest_unprotected_risk_runs"] <= 2, figures
