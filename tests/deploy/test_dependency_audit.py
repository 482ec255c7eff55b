"""`make lint`'s dependency audit fails when pip-audit could not audit, and says so in one line.

A fake pip-audit replays what the real one (2.10) reports here, where the vulnerability
service knows none of the installed versions: every dependency "skipped", "No known
vulnerabilities found", exit 0. The Makefile's audit step runs with it in place of the real
one (`PIP_AUDIT=`); `STAMP=` keeps make from reinstalling the venv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.tools import REPO

NOT_ON_PYPI = "Dependency not found on PyPI and could not be audited: {} ({})"
EDITABLE = {"name": "qtbot", "skip_reason": "distribution marked as editable"}
OFFLINE_REPORT = {
    "dependencies": [
        {"name": "aiohttp", "skip_reason": NOT_ON_PYPI.format("aiohttp", "3.14.5")},
        {"name": "ccxt", "skip_reason": NOT_ON_PYPI.format("ccxt", "4.5.90")},
        EDITABLE,
    ],
    "fixes": [],
}
CLEAN_REPORT = {
    "dependencies": [
        {"name": "aiohttp", "version": "3.14.5", "vulns": []},
        {"name": "ccxt", "version": "4.5.90", "vulns": []},
        EDITABLE,
    ],
    "fixes": [],
}
NO_VULNS = "No known vulnerabilities found\n"
UNREACHABLE = (
    "ERROR:pip_audit._cli:Could not connect to OSV's vulnerability feed\n"
    "ERROR:pip_audit._cli:Tip: your network may be blocking this service. "
    "Try another service with `-s SERVICE`\n"
)


def _fake_pip_audit(tmp_path: Path, stdout: str, stderr: str, status: int) -> Path:
    """An executable that records its arguments, prints the given report and exits."""
    (tmp_path / "stdout").write_text(stdout)
    (tmp_path / "stderr").write_text(stderr)
    fake = tmp_path / "pip-audit"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import pathlib, sys\n"
        f"here = pathlib.Path({str(tmp_path)!r})\n"
        "(here / 'called').write_text(' '.join(sys.argv[1:]))\n"
        "sys.stdout.write((here / 'stdout').read_text())\n"
        "sys.stderr.write((here / 'stderr').read_text())\n"
        f"sys.exit({status})\n"
    )
    fake.chmod(0o755)
    return fake


def _make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "SKIP_AUDIT")
    }
    return subprocess.run(
        ["make", "--no-print-directory", "-s", *args, f"VENV={sys.prefix}", "STAMP="],
        cwd=REPO,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _audit(fake: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return _make("audit", f"PIP_AUDIT={fake}", env=env)


def _own_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """What the audit step printed, without make's own "make: *** ... Error 1"."""
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if line.strip() and not line.startswith("make")]


def test_an_audit_that_checked_nothing_fails_with_one_line(tmp_path: Path) -> None:
    fake = _fake_pip_audit(tmp_path, json.dumps(OFFLINE_REPORT), NO_VULNS, 0)
    result = _audit(fake)
    assert result.returncode != 0
    assert _own_lines(result) == [
        "pip-audit could not audit 2 of 2 dependencies (first: "
        + NOT_ON_PYPI.format("aiohttp", "3.14.5")
        + "): dependencies NOT audited; run `make lint` where PyPI's vulnerability data is "
        "reachable, or `SKIP_AUDIT=1 make lint` to skip the audit knowingly"
    ]
    assert "--skip-editable" in (tmp_path / "called").read_text()


def test_a_partial_audit_fails_too(tmp_path: Path) -> None:
    report: dict[str, Any] = json.loads(json.dumps(CLEAN_REPORT))
    report["dependencies"][1] = OFFLINE_REPORT["dependencies"][1]
    result = _audit(_fake_pip_audit(tmp_path, json.dumps(report), NO_VULNS, 0))
    assert result.returncode != 0
    [line] = _own_lines(result)
    assert line.startswith("pip-audit could not audit 1 of 2 dependencies (first: ")
    assert "ccxt (4.5.90)" in line


def test_an_unreachable_service_fails_with_one_line(tmp_path: Path) -> None:
    result = _audit(_fake_pip_audit(tmp_path, "", UNREACHABLE, 1))
    assert result.returncode != 0
    [line] = _own_lines(result)
    assert line.startswith("pip-audit could not audit (exit 1: ERROR:pip_audit._cli:Tip: ")
    assert "dependencies NOT audited" in line


def test_a_known_vulnerability_fails_and_names_it(tmp_path: Path) -> None:
    report: dict[str, Any] = json.loads(json.dumps(CLEAN_REPORT))
    report["dependencies"][0]["vulns"] = [
        {"id": "GHSA-xxxx-yyyy", "fix_versions": ["3.14.6"], "aliases": [], "description": ""}
    ]
    result = _audit(_fake_pip_audit(tmp_path, json.dumps(report), "Found 1 known...\n", 1))
    assert result.returncode != 0
    assert _own_lines(result) == [
        "pip-audit found 1 known vulnerabilities: aiohttp 3.14.5: GHSA-xxxx-yyyy (fix: 3.14.6)"
    ]


def test_a_complete_clean_audit_passes(tmp_path: Path) -> None:
    result = _audit(_fake_pip_audit(tmp_path, json.dumps(CLEAN_REPORT), NO_VULNS, 0))
    assert result.returncode == 0, result.stderr
    assert _own_lines(result) == ["pip-audit: 2 dependencies audited, no known vulnerabilities"]


@pytest.mark.parametrize("value", ["1", "yes"])
def test_skip_audit_skips_visibly_without_running_pip_audit(tmp_path: Path, value: str) -> None:
    fake = _fake_pip_audit(tmp_path, json.dumps(OFFLINE_REPORT), NO_VULNS, 0)
    result = _audit(fake, env={"SKIP_AUDIT": value})
    assert result.returncode == 0, result.stderr
    assert _own_lines(result) == [
        f"pip-audit skipped (SKIP_AUDIT={value}): dependencies NOT audited"
    ]
    assert not (tmp_path / "called").exists()


def test_make_lint_ends_with_the_checked_audit(tmp_path: Path) -> None:
    fake = tmp_path / "pip-audit"
    result = _make("-n", "lint", f"PIP_AUDIT={fake}")
    assert result.returncode == 0, result.stderr
    steps = result.stdout.strip().splitlines()
    assert steps[-1] == f"{sys.prefix}/bin/python scripts/audit_dependencies.py {fake}"
    assert not any("pip-audit " in step for step in steps), "pip-audit run bare, unchecked"
