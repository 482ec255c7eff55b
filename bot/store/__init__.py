"""Persistence: SQLModel tables, the engine with SQLite pragmas, schema versioning, repositories."""

from bot.store.db import StoreError, integrity_ok, open_store
from bot.store.repo import Store

__all__ = ["Store", "StoreError", "integrity_ok", "open_store"]
