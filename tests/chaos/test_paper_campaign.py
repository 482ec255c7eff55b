"""A fast slice of the paper-mode crash campaign: the paper ledger is the venue.

The full campaign is `python -m tests.chaos.campaign --mode paper --runs 200`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chaos.campaign import run_campaign


@pytest.mark.serial
def test_sigkilled_paper_daemon_never_accepts_an_id_twice_nor_loses_a_fill(
    tmp_path: Path,
) -> None:
    report = run_campaign(runs=3, workdir=tmp_path, seed=3, mode="paper", min_fills=1)
    assert report.runs >= 3
    assert report.violations == []
    # The slice must have traded, or it proved nothing.
    assert report.figures["orders_sent"] >= 2 and report.figures["paper_fills"] >= 1
