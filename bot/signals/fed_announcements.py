"""The Fed's balance-sheet announcements, shipped as data beside the FRED series.

The weekly balance sheet (WALCL) lags policy: QT1 started in October 2017 at $10B a month,
which a 13-week change does not show until 2018. The announcements are public facts, so the
regime classifier reads them as the authoritative balance-sheet policy from their effective
date (see `regime.py` for how the two are combined).

File format (`bot/data/fed_announcements.csv`):
`date,announced,kind,date_precision,source` — `date` is the day the change takes effect,
`announced` the day the Fed made it public (a backtest must not use it earlier), `kind` one of
`AnnouncementKind`, `date_precision` `exact` or `approx`, `source` a note naming the statement.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

from bot.signals.shipped_data import shipped_path
from bot.signals.text_file import UnreadableText, read_utf8


class BalanceSheet(StrEnum):
    """Balance-sheet policy state."""

    QT = "qt"
    QE = "qe"
    FLAT = "flat"


class AnnouncementKind(StrEnum):
    QT_START = "qt_start"
    QT_TAPER = "qt_taper"
    QT_END = "qt_end"
    QE_START = "qe_start"
    QE_TAPER = "qe_taper"
    QE_END = "qe_end"
    # Reserve-management bill purchases grow the balance sheet, but the Fed states they are
    # technical and carry no policy stance, so they map to FLAT rather than QE.
    RMP_START = "rmp_start"
    RMP_END = "rmp_end"

    @property
    def balance_sheet(self) -> BalanceSheet:
        """The policy state in force from the announcement's effective date."""
        return _STATE_AFTER[self]

    @property
    def label(self) -> str:
        """What the Fed announced, in words (`QT ends`)."""
        return _LABELS[self]


_STATE_AFTER: dict[AnnouncementKind, BalanceSheet] = {
    AnnouncementKind.QT_START: BalanceSheet.QT,
    AnnouncementKind.QT_TAPER: BalanceSheet.QT,
    AnnouncementKind.QT_END: BalanceSheet.FLAT,
    AnnouncementKind.QE_START: BalanceSheet.QE,
    AnnouncementKind.QE_TAPER: BalanceSheet.QE,
    AnnouncementKind.QE_END: BalanceSheet.FLAT,
    AnnouncementKind.RMP_START: BalanceSheet.FLAT,
    AnnouncementKind.RMP_END: BalanceSheet.FLAT,
}

_LABELS: dict[AnnouncementKind, str] = {
    AnnouncementKind.QT_START: "QT starts",
    AnnouncementKind.QT_TAPER: "QT slows",
    AnnouncementKind.QT_END: "QT ends",
    AnnouncementKind.QE_START: "QE starts",
    AnnouncementKind.QE_TAPER: "QE tapers",
    AnnouncementKind.QE_END: "QE ends",
    AnnouncementKind.RMP_START: "reserve-management purchases start",
    AnnouncementKind.RMP_END: "reserve-management purchases end",
}

ANNOUNCEMENT_COLUMNS = ("date", "announced", "kind", "date_precision", "source")


@dataclass(frozen=True)
class FedAnnouncement:
    effective: date
    announced: date
    kind: AnnouncementKind
    exact: bool
    source: str

    @property
    def balance_sheet(self) -> BalanceSheet:
        return self.kind.balance_sheet


class AnnouncementFileError(ValueError):
    """A malformed announcements file; the message names the file and line."""


def parse_announcements(text: str, source: str = "<text>") -> tuple[FedAnnouncement, ...]:
    """Parse the announcements CSV; rows come back sorted by effective date."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=None))
    rows: list[FedAnnouncement] = []
    header_seen = False
    try:
        for line_no, row in enumerate(reader, start=1):
            if not row or all(not cell.strip() for cell in row):
                continue
            if not header_seen:
                if tuple(cell.strip() for cell in row) != ANNOUNCEMENT_COLUMNS:
                    expected = ",".join(ANNOUNCEMENT_COLUMNS)
                    raise AnnouncementFileError(
                        f"{source} line {line_no}: header must be {expected}"
                    )
                header_seen = True
                continue
            rows.append(_parse_row(row, source, line_no))
    except csv.Error as exc:  # e.g. a field over the csv module's size limit
        raise AnnouncementFileError(f"{source} line {reader.line_num}: not CSV: {exc}") from None
    return tuple(sorted(rows, key=lambda a: (a.effective, a.announced)))


def _parse_row(row: list[str], source: str, line_no: int) -> FedAnnouncement:
    if len(row) != len(ANNOUNCEMENT_COLUMNS):
        raise AnnouncementFileError(
            f"{source} line {line_no}: expected {len(ANNOUNCEMENT_COLUMNS)} columns, "
            f"found {len(row)}"
        )
    effective_raw, announced_raw, kind_raw, precision_raw, note = (c.strip() for c in row)
    try:
        effective = date.fromisoformat(effective_raw)
        announced = date.fromisoformat(announced_raw)
    except ValueError:
        raise AnnouncementFileError(f"{source} line {line_no}: bad date") from None
    try:
        kind = AnnouncementKind(kind_raw)
    except ValueError:
        raise AnnouncementFileError(f"{source} line {line_no}: unknown kind {kind_raw!r}") from None
    if precision_raw not in ("exact", "approx"):
        raise AnnouncementFileError(
            f"{source} line {line_no}: date_precision must be exact or approx"
        )
    if announced > effective:
        raise AnnouncementFileError(
            f"{source} line {line_no}: announced {announced} after effective {effective}"
        )
    return FedAnnouncement(effective, announced, kind, precision_raw == "exact", note)


def load_announcements(path: str | Path | None = None) -> tuple[FedAnnouncement, ...]:
    """Load announcements from `path`, or the copy shipped in `bot/data` when None."""
    target = Path(path) if path is not None else shipped_path("fed_announcements.csv")
    try:
        text = read_utf8(target)
    except UnreadableText as exc:
        raise AnnouncementFileError(str(exc)) from None
    return parse_announcements(text, source=str(target))
