"""Assemble `RegimeInputs` from loaded series: from a directory, the shipped copy, or loads.

The shipped copy (`bot/data`) holds WALCL from 2002 and DFEDTARU/DFEDTARL/DFF from
2015-01-01; it is a fallback and the CI fixture, not a live source.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from bot.feeds.fred_sources import REGIME_SERIES, SeriesLoad
from bot.signals.fed_announcements import FedAnnouncement, load_announcements
from bot.signals.fred import FredSeries, load_fred_csv
from bot.signals.regime_types import RegimeInputs
from bot.signals.shipped_data import SHIPPED_DATA_DIR


def inputs_from_directory(
    directory: str | Path, announcements: Sequence[FedAnnouncement] | None = None
) -> RegimeInputs:
    """Read `{directory}/{WALCL,DFEDTARU,DFEDTARL,DFF}.csv`; DFEDTARU/L and DFF optional.

    `announcements` default to the shipped file. Raises `FredParseError` / `OSError`.
    """
    base = Path(directory)

    def optional(series_id: str) -> FredSeries | None:
        path = base / f"{series_id}.csv"
        return load_fred_csv(str(path), series_id) if path.exists() else None

    return RegimeInputs(
        walcl=load_fred_csv(str(base / "WALCL.csv"), "WALCL"),
        target_upper=optional("DFEDTARU"),
        target_lower=optional("DFEDTARL"),
        effective_rate=optional("DFF"),
        announcements=tuple(load_announcements() if announcements is None else announcements),
    )


def shipped_inputs() -> RegimeInputs:
    """The series and announcements shipped in `bot/data`."""
    return inputs_from_directory(SHIPPED_DATA_DIR)


def inputs_from_loads(
    loads: Mapping[str, SeriesLoad], announcements: Sequence[FedAnnouncement]
) -> tuple[RegimeInputs | None, list[str]]:
    """Inputs from `CachedFredLoader.load_many(REGIME_SERIES, now)`; None without WALCL.

    Returns the loads' warnings too, so the job can log or journal them.
    """
    warnings = [
        w for series_id in REGIME_SERIES if series_id in loads for w in loads[series_id].warnings
    ]
    walcl = loads.get("WALCL")
    if walcl is None or walcl.series is None:
        warnings.append("WALCL unavailable: no regime can be computed")
        return None, warnings

    def series(series_id: str) -> FredSeries | None:
        load = loads.get(series_id)
        return None if load is None else load.series

    inputs = RegimeInputs(
        walcl=walcl.series,
        target_upper=series("DFEDTARU"),
        target_lower=series("DFEDTARL"),
        effective_rate=series("DFF"),
        announcements=tuple(announcements),
    )
    return inputs, warnings
