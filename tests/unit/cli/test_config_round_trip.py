"""`qtbot config` prints what an .env can hold: read back, it is the same configuration.

An empty value means "the default", so a rule turned off whose default is on must print as
`off` (and the trailing arming point's "after the last tier" as `last`), or pasting the
output into .env would silently turn it back on.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.config.settings import Settings, public_view

CHANGED = {
    "QTBOT_RISK__TRAILING_STOP_PCT": "off",
    "QTBOT_RISK__TRAILING_ARM_AFTER_TIERS": "last",
    "QTBOT_RISK__STOP_LOSS_PCT": "off",
    "QTBOT_RISK__DAILY_LOSS_LIMIT_PCT": "off",
}


def test_printed_configuration_reads_back_as_the_same(
    workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in CHANGED.items():
        monkeypatch.setenv(name, value)
    printed = CliRunner().invoke(app, ["config"])
    assert printed.exit_code == 0, printed.output
    for name in CHANGED:
        monkeypatch.delenv(name)
    env = workdir / "round-trip.env"
    lines = [line for line in printed.output.splitlines() if "***" not in line]
    env.write_text("\n".join(lines) + "\n")
    original = public_view(Settings())  # defaults, for the sanity check below
    read_back = public_view(Settings(_env_file=env))  # type: ignore[call-arg]
    risk = read_back["risk"]
    assert risk["trailing_stop_pct"] is None and risk["stop_loss_pct"] is None
    assert risk["trailing_arm_after_tiers"] is None and risk["daily_loss_limit_pct"] is None
    assert original["risk"]["trailing_arm_after_tiers"] == 0  # the default differs: 0
