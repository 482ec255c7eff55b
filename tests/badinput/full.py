"""Every bad-settings case as its own real `python -m bot config` process (the suite runs them
in-process, and in rounds as subprocesses). Prints one line per case; exits 1 when a case
expected to pass fails, or a known gap (xfail) passes: then its mark should go.

Run: `python -m tests.badinput.full [--workers 2]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.badinput.cases import BadCase, all_cases
from tests.badinput.test_config_cases import check_output
from tests.conftest import run_qtbot


def verdict(case: BadCase) -> tuple[BadCase, bool, str]:
    with tempfile.TemporaryDirectory() as cwd:
        result = run_qtbot("config", cwd=Path(cwd), env=case.env)
    try:
        check_output(result.returncode, result.stdout, result.stderr, [case.names])
    except AssertionError:
        return (
            case,
            False,
            (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1],
        )
    return case, True, result.stderr.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    cases = all_cases()
    unexpected = 0
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        for case, ok, line in pool.map(verdict, cases):
            if ok and not case.xfail:
                label = "ok"
            elif not ok and case.xfail:
                label = "known gap"
            else:
                label = "FIXED? remove the xfail" if ok else "FAIL"
                unexpected += 1
            print(f"{label:<10} {case.case_id}: {line[:160]}")
    gaps = sum(1 for c in cases if c.xfail)
    print(f"{len(cases)} cases, {gaps} known gaps, {unexpected} unexpected")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
