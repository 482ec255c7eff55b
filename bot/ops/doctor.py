"""`qtbot doctor`'s checks that need no venue: the result type, config, database and FRED.

Each check returns one `CheckResult`: pass, warn (works, but look at it), fail (qtbot will not
work as configured) or skip (does not apply to this configuration). The venue and liquidation
checks are in `bot.ops.doctor_venue`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.config.settings import Settings, public_view
from bot.feeds.fred_sources import (
    REGIME_SERIES,
    FredFetchError,
    fred_source,
)
from bot.signals.fred import FredParseError
from bot.state.db import StoreError
from bot.state.models import KeyValue
from bot.state.store import Store

WRITE_PROBE_KEY = "doctor.write_probe"


class Outcome(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    outcome: Outcome
    detail: str

    def line(self) -> str:
        return f"{self.outcome.upper():<4}  {self.name:<14} {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.name, "outcome": self.outcome.value, "detail": self.detail}


def exit_status(results: list[CheckResult]) -> int:
    """1 when any check failed; warnings alone still exit 0 (they are printed loudly)."""
    return 1 if any(r.outcome is Outcome.FAIL for r in results) else 0


def config_result(settings: Settings) -> CheckResult:
    mode = settings.exchange.mode
    symbols = ", ".join(settings.strategy.symbols)
    return CheckResult(
        "config", Outcome.PASS, f"valid: {mode} on {settings.exchange.id}, trading {symbols}"
    )


def database_result(settings: Settings, now: datetime) -> CheckResult:
    """Opens without creating or migrating, schema current, and a write is accepted (rolled
    back: doctor changes nothing)."""
    where = public_view(settings)["database_url"]
    try:
        store = Store.open_if_present(settings.effective_database_url)
    except StoreError as exc:
        return CheckResult("database", Outcome.FAIL, f"{where}: {exc}")
    if store is None:
        return _no_database_yet(settings, where)
    try:
        with store.engine.connect() as conn:
            transaction = conn.begin()
            table = KeyValue.__table__  # type: ignore[attr-defined]
            conn.execute(table.delete().where(table.c.key == WRITE_PROBE_KEY))
            conn.execute(table.insert().values(key=WRITE_PROBE_KEY, value="", updated_at=now))
            transaction.rollback()
    except SQLAlchemyError as exc:
        reason = " ".join(str(getattr(exc, "orig", exc)).split())[:200]
        return CheckResult("database", Outcome.FAIL, f"{where}: opens, but cannot write: {reason}")
    finally:
        store.close()
    return CheckResult("database", Outcome.PASS, f"{where}: opens, schema current, writable")


def _no_database_yet(settings: Settings, where: str) -> CheckResult:
    if settings.database_url is not None:
        return CheckResult(
            "database", Outcome.WARN, f"{where}: no qtbot tables yet (`qtbot run` creates them)"
        )
    directory = Path(settings.data_dir)
    parent = next((p for p in (directory, *directory.parents) if p.exists()), Path("."))
    if not _writable(parent):
        return CheckResult(
            "database",
            Outcome.FAIL,
            f"{where}: {parent} is not writable: the daemon cannot "
            "create its database; fix the permissions or set QTBOT_DATA_DIR",
        )
    return CheckResult(
        "database", Outcome.WARN, f"{where}: not created yet (`qtbot run` creates it)"
    )


def _writable(directory: Path) -> bool:
    probe = directory / ".qtbot-doctor-probe"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError:
        return False
    return True


def fred_result(settings: Settings) -> CheckResult:
    """One series downloaded and parsed from the configured FRED source (blocking HTTP)."""
    s = settings.signals
    if s.fed_source == "file":
        return CheckResult(
            "fred",
            Outcome.SKIP,
            "QTBOT_SIGNALS__FED_SOURCE=file: the Fed series are read "
            f"from {s.fed_data_dir or 'the copy shipped with qtbot'}",
        )
    source = fred_source(s)
    series_id = REGIME_SERIES[0]
    try:
        series = source.parse(source.fetch_text(series_id), series_id)
    except (FredFetchError, FredParseError) as exc:
        return CheckResult(
            "fred",
            Outcome.FAIL,
            f"{source.name}: {exc} (the daemon falls back to its cached or "
            "shipped copy, which ages)",
        )
    last = series.dates[-1].isoformat() if series.dates else "none"
    return CheckResult("fred", Outcome.PASS, f"{source.name}: {series_id} read, last {last}")
