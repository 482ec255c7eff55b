"""The systemd unit: hardened, wired to the env file and state dir, accepted by systemd itself."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.tools import DEPLOY, tool

UNIT = DEPLOY / "qtbot.service"
MISSING_BINARY = re.compile(r"Command /opt/qtbot/\.venv/bin/qtbot is not executable")


def unit_settings(text: str) -> dict[str, list[str]]:
    """Key -> values (systemd allows repeated keys), across sections."""
    settings: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_unit_runs_the_daemon_as_notify_service_with_watchdog_and_env_file() -> None:
    s = unit_settings(UNIT.read_text())
    assert s["Type"] == ["notify"] and s["WatchdogSec"] and int(s["WatchdogSec"][0]) >= 60
    assert s["EnvironmentFile"] == ["/etc/qtbot/qtbot.env"]
    assert "QTBOT_DATA_DIR=/var/lib/qtbot" in s["Environment"]
    assert s["ExecStart"] == ["/opt/qtbot/.venv/bin/qtbot run"]
    assert s["User"] == ["qtbot"] and s["StateDirectory"] == ["qtbot"]
    assert s["StandardOutput"] == ["journal"] and s["StandardError"] == ["journal"]
    assert s["Restart"] == ["on-failure"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("NoNewPrivileges", "true", id="no_new_privileges"),
        pytest.param("ProtectSystem", "strict", id="read_only_system"),
        pytest.param("ProtectHome", "true", id="no_home"),
        pytest.param("PrivateTmp", "true", id="private_tmp"),
        pytest.param("CapabilityBoundingSet", "", id="no_capabilities"),
        pytest.param("ReadWritePaths", "/var/lib/qtbot", id="only_state_writable"),
        pytest.param("UMask", "0077", id="private_files"),
    ],
)
def test_unit_stays_hardened(key: str, value: str) -> None:
    assert unit_settings(UNIT.read_text()).get(key) == [value]


def _verify(unit: Path) -> subprocess.CompletedProcess[str]:
    analyze = tool("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    return subprocess.run(
        [analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60
    )


def test_systemd_accepts_the_unit_when_the_binary_exists(tmp_path: Path) -> None:
    # Point ExecStart at a binary that exists here; everything else is verified as shipped.
    unit = tmp_path / "qtbot.service"
    unit.write_text(UNIT.read_text().replace("/opt/qtbot/.venv/bin/qtbot run", "/bin/true run"))
    result = _verify(unit)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (result.stdout + result.stderr).strip()


def test_systemd_only_misses_the_not_yet_installed_binary(tmp_path: Path) -> None:
    unit = tmp_path / "qtbot.service"
    unit.write_text(UNIT.read_text())
    result = _verify(unit)
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and not MISSING_BINARY.search(line)
    ]
    assert problems == []


def test_systemd_rates_the_unit_exposure_low(tmp_path: Path) -> None:
    analyze = tool("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / "qtbot.service"
    unit.write_text(UNIT.read_text())
    result = subprocess.run(
        [analyze, "security", "--offline=true", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for qtbot\.service: ([0-9.]+)", result.stdout)
    if match is None:
        pytest.skip(f"this systemd-analyze cannot rate offline units: {result.stderr[:200]}")
    assert float(match[1]) <= 2.5, result.stdout


def test_journald_retention_caps_disk_use() -> None:
    s = unit_settings((DEPLOY / "journald-qtbot.conf").read_text())
    assert s["SystemMaxUse"] and s["MaxRetentionSec"] and s["SystemKeepFree"]
