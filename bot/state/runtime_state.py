"""Every runtime key the bot keeps in the store's key/value table, behind one typed accessor.

Writers (jobs) and readers (status, web, notify, the entry job) meet here instead of importing
each other's string constants. Values are stored as text exactly as before this module existed,
so a database written by an older qtbot reads the same.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring_ascii as _quoted
from typing import Any, Protocol, cast

from risk.limits import EquityMarks

# The store's own switches (`Store.risk_off`, `Store.set_risk_off`) use these two as well.
RISK_OFF_KEY = "runtime.risk_off"
EQUITY_MARKS_KEY = "risk.equity_marks"

ENTRIES_BLOCKED_KEY = "risk.entries_blocked"
LAST_PRICES_KEY = "risk.last_prices"
KILL_SINCE_KEY = "risk.kill_switch_since"
UNSELLABLE_KEY = "risk.unsellable"
DUST_KEY = "risk.dust"
EXIT_WAITS_KEY = "risk.exit_waits"
STOP_CHECK_KEY = "stops.venue_check"
PANIC_REQUEST_KEY = "runtime.panic_requested"
REGIME_KEY = "regime.current"
LIQUIDATIONS_KEY = "liquidations.current"
FLUSH_KEY = "liquidations.last_flush"
ENTRY_WAIT_PREFIX = "strategy.wait."
ENTRY_ERROR_PREFIX = "strategy.error."
FILL_CURSOR_PREFIX = "fills.cursor."
NOTIFY_CURSOR_KEY = "notify.journal_cursor"
SUMMARY_DAY_KEY = "notify.summary_day"
HEALTH_PROBE_KEY = "health.checked_at"
SNAPSHOT_PREFIX = "snapshot."


class KeyValueStore(Protocol):
    """What the accessors need of a store: the SQL `Store` and the backtest's `MemoryStore`."""

    def get_value(self, key: str) -> str | None: ...

    def set_value(self, key: str, value: str, at: datetime) -> None: ...


# Every risk run writes the same few prices and dusts and reads the fill cursors again: the
# texts and times are immutable, so the recent ones are kept.
@functools.lru_cache(maxsize=64)
def _text_map(pairs: tuple[tuple[str, str], ...]) -> str:
    """`json.dumps(dict(pairs))` for pairs with distinct keys (a dict's items, in its order):
    the same separators and ASCII escapes, without setting up an encoder per call, which cost
    several times the text itself (new prices and equity marks on nearly every risk run)."""
    return "{" + ", ".join([f"{_quoted(k)}: {_quoted(v)}" for k, v in pairs]) + "}"


@functools.lru_cache(maxsize=64)
def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


# Stored text -> the watermarks it decodes to. Each risk run reads the marks the previous one
# wrote: `set_equity_marks` files the marks it writes under their text, so the read decodes
# nothing. They are the marks the text decodes to (a date's ISO text and a Decimal's str read
# back as equal values with the same digits), and a text never decodes to anything else.
_MARKS_KEPT = 64
_marks_of_text: dict[str, EquityMarks | None] = {}


_UNKNOWN = object()


def _keep_marks(text: str, marks: EquityMarks | None) -> None:
    if text not in _marks_of_text and len(_marks_of_text) >= _MARKS_KEPT:
        _marks_of_text.clear()
    _marks_of_text[text] = marks


def _equity_marks(text: str) -> EquityMarks | None:
    # One lookup: the status page reads the marks from a thread while the risk job may clear
    # the table, so a test-then-read could miss.
    kept = _marks_of_text.get(text, _UNKNOWN)
    if kept is not _UNKNOWN:
        return cast(EquityMarks | None, kept)
    data = _json(text)
    marks = (
        EquityMarks(
            date.fromisoformat(data["day"]), Decimal(data["day_start"]), Decimal(data["peak"])
        )
        if data
        else None
    )
    _keep_marks(text, marks)
    return marks


def _json(text: str | None) -> Any:
    return json.loads(text) if text else None


@dataclass(frozen=True)
class StopCheck:
    """The risk job's last look at the stops resting on the venue (one open-orders call).

    at: when the venue answered. open_ids: client ids of our exchange stops the venue listed
    as open then. vanished: per symbol, the last stop found gone at the venue without the
    daemon canceling it (client id, when found).
    """

    at: datetime
    open_ids: frozenset[str] = frozenset()
    vanished: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    def as_json(self) -> str:
        return json.dumps(
            {
                "at": self.at.isoformat(),
                "open": sorted(self.open_ids),
                "vanished": {s: [c, at.isoformat()] for s, (c, at) in self.vanished.items()},
            }
        )

    @staticmethod
    def from_json(text: str | None) -> StopCheck | None:
        data = _json(text)
        if not data:
            return None
        return StopCheck(
            datetime.fromisoformat(data["at"]),
            frozenset(data.get("open", [])),
            {s: (c, datetime.fromisoformat(at)) for s, (c, at) in data.get("vanished", {}).items()},
        )


class RuntimeState:
    """Typed reads and writes of the runtime keys of one store."""

    def __init__(self, store: KeyValueStore) -> None:
        self.store = store

    # --- risk job ------------------------------------------------------------------------

    def entries_blocked_text(self) -> str | None:
        """The stored JSON list, as text: the risk job journals only when it changes."""
        return self.store.get_value(ENTRIES_BLOCKED_KEY)

    def entries_blocked(self) -> list[str]:
        """What the risk job last said blocks every entry (empty: nothing, or no check yet)."""
        return list(_json(self.entries_blocked_text()) or [])

    def set_entries_blocked(self, reasons: list[str], now: datetime) -> str:
        text = json.dumps(sorted(reasons))
        self.store.set_value(ENTRIES_BLOCKED_KEY, text, now)
        return text

    def last_prices(self) -> dict[str, Decimal]:
        """The bid each open position was last valued at by the risk job."""
        return {
            s: Decimal(p) for s, p in (_json(self.store.get_value(LAST_PRICES_KEY)) or {}).items()
        }

    def set_last_prices(self, prices: dict[str, Decimal], now: datetime) -> None:
        self.store.set_value(
            LAST_PRICES_KEY, _text_map(tuple((s, str(p)) for s, p in prices.items())), now
        )

    def unsellable(self) -> list[str]:
        """Symbols whose holding was below the venue's minimum sale at the last risk check."""
        return list(_json(self.store.get_value(UNSELLABLE_KEY)) or [])

    def set_unsellable(self, symbols: list[str], now: datetime) -> None:
        self.store.set_value(UNSELLABLE_KEY, json.dumps(symbols), now)

    def dust(self) -> dict[str, Decimal]:
        """Each traded symbol's dust (its market's minimum amount) at the last risk check: a
        holding at or below it is no position, for `qtbot status` as for the daemon."""
        return {s: Decimal(d) for s, d in (_json(self.store.get_value(DUST_KEY)) or {}).items()}

    def set_dust(self, dust: dict[str, Decimal], now: datetime) -> None:
        text = _text_map(tuple((s, str(d)) for s, d in sorted(dust.items())))
        if text != self.store.get_value(DUST_KEY):
            self.store.set_value(DUST_KEY, text, now)

    def exit_waits(self) -> dict[str, str]:
        """Exit decisions (by cause) waiting for their base to be freed, with why."""
        text = self.store.get_value(EXIT_WAITS_KEY)
        if not text or text == "{}":  # nearly always, and read on every risk run
            return {}
        return dict(_json(text) or {})

    def set_exit_waits(self, waits: dict[str, str], now: datetime) -> None:
        self.store.set_value(EXIT_WAITS_KEY, json.dumps(waits, sort_keys=True), now)

    def stop_check(self) -> StopCheck | None:
        return StopCheck.from_json(self.store.get_value(STOP_CHECK_KEY))

    def set_stop_check(self, check: StopCheck, now: datetime) -> None:
        self.store.set_value(STOP_CHECK_KEY, check.as_json(), now)

    def kill_switch_since(self) -> datetime | None:
        text = self.store.get_value(KILL_SINCE_KEY)
        return datetime.fromisoformat(text) if text else None

    def set_kill_switch_since(self, since: datetime | None, now: datetime) -> None:
        self.store.set_value(KILL_SINCE_KEY, since.isoformat() if since else "", now)

    def equity_marks(self) -> EquityMarks | None:
        text = self.store.get_value(EQUITY_MARKS_KEY)
        return _equity_marks(text) if text else None

    def set_equity_marks(self, marks: EquityMarks, now: datetime) -> None:
        text = _text_map(
            (
                ("day", marks.day.isoformat()),
                ("day_start", str(marks.equity_day_start)),
                ("peak", str(marks.equity_peak)),
            )
        )
        self.store.set_value(EQUITY_MARKS_KEY, text, now)
        if (
            type(marks.day) is date
            and type(marks.equity_day_start) is Decimal
            and type(marks.equity_peak) is Decimal
        ):  # exactly what the text decodes to (a subclass would not be)
            _keep_marks(text, marks)

    def panic_requested(self) -> bool:
        """`qtbot panic` ran while a daemon held the lock: its next risk check flattens."""
        return bool(self.store.get_value(PANIC_REQUEST_KEY))

    def set_panic_requested(self, requested: bool, now: datetime) -> None:
        self.store.set_value(PANIC_REQUEST_KEY, "requested" if requested else "", now)

    # --- signals -------------------------------------------------------------------------

    def regime_snapshot(self) -> dict[str, Any] | None:
        """The regime the bot last traded on (JSON written by the regime refresh job)."""
        snapshot: dict[str, Any] | None = _json(self.store.get_value(REGIME_KEY))
        return snapshot

    def set_regime_snapshot(self, snapshot: dict[str, Any], now: datetime) -> None:
        self.store.set_value(REGIME_KEY, json.dumps(snapshot), now)

    def liquidations(self) -> dict[str, Any] | None:
        """The liquidation totals last computed by the liquidation check."""
        totals: dict[str, Any] | None = _json(self.store.get_value(LIQUIDATIONS_KEY))
        return totals

    def set_liquidations(self, totals: dict[str, Any], now: datetime) -> None:
        self.store.set_value(LIQUIDATIONS_KEY, json.dumps(totals), now)

    def last_flush(self) -> dict[str, Any] | None:
        flush: dict[str, Any] | None = _json(self.store.get_value(FLUSH_KEY))
        return flush

    def set_last_flush(self, flush: dict[str, Any], now: datetime) -> None:
        self.store.set_value(FLUSH_KEY, json.dumps(flush), now)

    # --- entry job -----------------------------------------------------------------------

    def entry_wait(self, symbol: str) -> str | None:
        """The gate a symbol's next tranche last waited on ('' or None: not waiting)."""
        return self.store.get_value(ENTRY_WAIT_PREFIX + symbol)

    def set_entry_wait(self, symbol: str, gate: str, now: datetime) -> None:
        self.store.set_value(ENTRY_WAIT_PREFIX + symbol, gate, now)

    def entry_error(self, symbol: str) -> str | None:
        """The last error the entry job journaled for a symbol ('' or None: none)."""
        return self.store.get_value(ENTRY_ERROR_PREFIX + symbol)

    def set_entry_error(self, symbol: str, error: str, now: datetime) -> None:
        self.store.set_value(ENTRY_ERROR_PREFIX + symbol, error, now)

    # --- order manager -------------------------------------------------------------------

    def fill_cursor(self, symbol: str) -> datetime | None:
        """Time of the newest venue fill recorded for `symbol`."""
        text = self.store.get_value(FILL_CURSOR_PREFIX + symbol)
        return _time(text) if text else None

    def set_fill_cursor(self, symbol: str, at: datetime, now: datetime) -> None:
        self.store.set_value(FILL_CURSOR_PREFIX + symbol, at.isoformat(), now)

    # --- operations ----------------------------------------------------------------------

    def notify_cursor(self) -> int | None:
        """Id of the last journal row the notifier has looked at."""
        text = self.store.get_value(NOTIFY_CURSOR_KEY)
        return int(text) if text else None

    def set_notify_cursor(self, journal_id: int, now: datetime) -> None:
        self.store.set_value(NOTIFY_CURSOR_KEY, str(journal_id), now)

    def summary_day(self) -> date | None:
        """The UTC day whose daily summary was last sent (or skipped)."""
        text = self.store.get_value(SUMMARY_DAY_KEY)
        return date.fromisoformat(text) if text else None

    def set_summary_day(self, day: date, now: datetime) -> None:
        self.store.set_value(SUMMARY_DAY_KEY, day.isoformat(), now)

    def set_health_checked_at(self, now: datetime) -> None:
        """/healthz proves the store is writable by writing this."""
        self.store.set_value(HEALTH_PROBE_KEY, now.isoformat(), now)

    # --- signal source cache -------------------------------------------------------------

    def snapshot(self, key: str) -> str | None:
        """The last good download cached under `key` (FRED series)."""
        return self.store.get_value(SNAPSHOT_PREFIX + key)

    def set_snapshot(self, key: str, payload: str, fetched_at: datetime) -> None:
        self.store.set_value(SNAPSHOT_PREFIX + key, payload, fetched_at)
