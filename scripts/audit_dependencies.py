"""`make lint`'s dependency audit: pip-audit, failing when it could not audit.

pip-audit exits 0 and prints "No known vulnerabilities found" even when it audited nothing:
a dependency the vulnerability service does not know (a version PyPI never published, a wheel
from a private index) or could not be asked about is only listed as skipped. This runs it with
a JSON report and fails with one line unless every installed dependency was checked.
(`pip-audit --strict` would fail on the editable qtbot itself, which `--skip-editable` skips.)

Usage: python scripts/audit_dependencies.py [PIP_AUDIT]
SKIP_AUDIT=1 skips the audit and says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

EDITABLE = "marked as editable"
HINT = (
    "run `make lint` where PyPI's vulnerability data is reachable, "
    "or `SKIP_AUDIT=1 make lint` to skip the audit knowingly"
)


def _default_pip_audit() -> str:
    return str(Path(sys.executable).with_name("pip-audit"))


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _report(stdout: str) -> list[dict[str, Any]] | None:
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        return None
    deps = data.get("dependencies") if isinstance(data, dict) else None
    return deps if isinstance(deps, list) else None


def _vulnerable(deps: list[dict[str, Any]]) -> list[str]:
    found = []
    for dep in deps:
        for vuln in dep.get("vulns") or []:
            fixes = ", ".join(vuln.get("fix_versions") or []) or "none"
            found.append(f"{dep.get('name')} {dep.get('version')}: {vuln.get('id')} (fix: {fixes})")
    return found


def audit(pip_audit: str) -> tuple[int, str]:
    """(exit status, the one line to print)."""
    command = [pip_audit, "--skip-editable", "--progress-spinner", "off", "--format", "json"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
    except FileNotFoundError:
        return 1, f"pip-audit not found at {pip_audit}: `make lint` installs it (.[dev] extras)"
    except subprocess.TimeoutExpired:
        return 1, f"pip-audit did not finish in 15 minutes: dependencies NOT audited; {HINT}"
    deps = _report(result.stdout)
    if deps is None:
        reason = _last_line(result.stderr)
        return 1, (
            f"pip-audit could not audit (exit {result.returncode}: {reason}): "
            f"dependencies NOT audited; {HINT}"
        )
    vulnerable = _vulnerable(deps)
    if vulnerable:
        return 1, f"pip-audit found {len(vulnerable)} known vulnerabilities: " + "; ".join(
            vulnerable
        )
    if result.returncode != 0:
        return 1, f"pip-audit failed (exit {result.returncode}): {_last_line(result.stderr)}"
    audited = [d for d in deps if "skip_reason" not in d]
    skipped = [d for d in deps if EDITABLE not in str(d.get("skip_reason", EDITABLE))]
    if skipped or not audited:
        total = len(audited) + len(skipped)
        first = skipped[0]["skip_reason"] if skipped else "no dependency was reported"
        return 1, (
            f"pip-audit could not audit {len(skipped)} of {total} dependencies "
            f"(first: {first}): dependencies NOT audited; {HINT}"
        )
    return 0, f"pip-audit: {len(audited)} dependencies audited, no known vulnerabilities"


def main(argv: list[str]) -> int:
    if os.environ.get("SKIP_AUDIT", "") not in ("", "0"):
        print(
            f"pip-audit skipped (SKIP_AUDIT={os.environ['SKIP_AUDIT']}): dependencies NOT audited"
        )
        return 0
    status, line = audit(argv[1] if len(argv) > 1 else _default_pip_audit())
    print(line, file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
