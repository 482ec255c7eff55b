"""A fast slice of the crash campaign: a real `qtbot run` SIGKILLed and restarted, nothing lost.

The full campaign (200 runs) is `make chaos`; see tests/chaos/campaign.py for the invariants.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.campaign import run_campaign


@pytest.mark.serial
def test_sigkill_at_random_moments_loses_nothing_and_sends_nothing_twice(tmp_path: Path) -> None:
    report = run_campaign(runs=8, workdir=tmp_path, seed=11, min_fills=2)
    assert report.runs >= 8
    assert report.violations == []
    # The slice must have traded, or it proved nothing.
    assert report.figures["orders_sent"] >= 2 and report.figures["fills"] >= 2
