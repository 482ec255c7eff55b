"""Fixtures shared by unit-test modules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.store_contract_kit import BACKENDS, Backend, open_backend


@pytest.fixture(params=[pytest.param(name, id=name) for name in BACKENDS])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each store backend in turn (SQL on a real SQLite file, then memory), for the contract
    suites in test_store_contract.py and test_order_repo_contract.py."""
    opened = open_backend(request.param, tmp_path)
    yield opened
    opened.store.close()
