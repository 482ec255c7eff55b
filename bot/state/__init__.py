"""Persistence: SQLModel tables, the engine with SQLite pragmas, schema versioning, repositories."""
