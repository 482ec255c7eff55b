"""A fast slice of the exchange fault campaign (tests/chaos/faults.py): a real daemon lives
through replies lost after the venue acted and through throttling.

The full campaign is `python -m tests.chaos.faults --cycles 2`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.fault_phases import PHASES_BY_NAME
from tests.chaos.faults import MAX_RATE_UNDER_THROTTLE, run_fault_campaign

SLICE = ["order_timeout", "rate_limit_429"]


@pytest.mark.serial
def test_daemon_survives_venue_faults_backs_off_and_ends_in_step_with_the_venue(
    tmp_path: Path,
) -> None:
    report = run_fault_campaign(
        tmp_path,
        [PHASES_BY_NAME[name] for name in SLICE],
        phase_seconds=3.0,
        recovery_seconds=1.0,
        seed=9,
    )
    assert report.violations == []
    assert report.exit_status == 0
    assert all(phase.alive for phase in report.phases)
    throttled = next(p for p in report.phases if p.name.endswith(":rate_limit_429"))
    assert 0 < throttled.rate <= MAX_RATE_UNDER_THROTTLE
    assert report.figures["faulted_requests"] >= 3
