"""A disk that fills up on demand, for a `qtbot` child process (tests/e2e/test_disk_full.py).

Put this directory, instead of tests/netguard, on the child's PYTHONPATH: it installs the same
no-network guard, and once the file named by $STOREFAULT_FULL_FLAG exists every SQL write the
child sends fails as SQLite fails on a full disk. The error is raised where the driver would
raise it, so SQLAlchemy wraps it exactly as it wraps the real one; reads keep working.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from tests.no_network import install

install()

_FLAG = os.environ.get("STOREFAULT_FULL_FLAG")
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")

if _FLAG:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    def _disk_full(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith(_WRITES) and os.path.exists(_FLAG):
            raise sqlite3.OperationalError("database or disk is full")

    event.listen(Engine, "before_cursor_execute", _disk_full)
