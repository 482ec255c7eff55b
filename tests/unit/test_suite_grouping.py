"""`make test` relies on xdist's `--dist loadgroup` keeping each module (and the `serial`
campaigns) on one worker: a module fixture such as a daemon run is built once, and two
campaigns never share the cores. pytest 9.2 with pytest-xdist 3.8 lost the grouping without a
word (pytest-xdist#1386); this test says so instead."""

from __future__ import annotations

import pytest


def test_make_test_runs_each_module_on_one_worker(request: pytest.FixtureRequest) -> None:
    config = request.config
    if not hasattr(config, "workerinput") or not config.getvalue("loadgroup"):
        pytest.skip("only meaningful under `make test` (xdist with --dist loadgroup)")
    # xdist carries the group in the node id: without it the scheduler hands tests out singly.
    assert request.node.nodeid.endswith("@tests/unit/test_suite_grouping.py"), (
        f"--dist loadgroup did not group this test with pytest {pytest.__version__}: "
        "keep pytest within pyproject.toml's dev pin"
    )
