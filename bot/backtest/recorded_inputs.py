"""The strategy's signals from recorded files (FRED CSVs, FOMC calendar, liquidation
aggregates), computed as the daemon would under the given settings. Shared by `qtbot
backtest`, `qtbot thesis` and parameter studies."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bot.backtest.fed_signals import RecordedSignals, recorded_signals
from bot.config.settings import Settings
from bot.feeds.fed_inputs import inputs_from_directory
from bot.signals.calendar import FomcCalendar, load_fomc_calendar
from bot.signals.fed_announcements import load_announcements
from bot.signals.liquidation_history import load_liquidation_bars
from bot.signals.liquidations import LiquidationBar
from bot.signals.shipped_data import SHIPPED_DATA_DIR


def fomc_calendar(fed_data: Path | None, configured: str | Path | None) -> FomcCalendar:
    """The FOMC decisions: `fomc_decisions.csv` beside the Fed data when given, else the
    configured (or shipped) calendar; regime pivots happen only at these decisions."""
    own = Path(fed_data) / "fomc_decisions.csv" if fed_data is not None else None
    return load_fomc_calendar(own if own is not None and own.exists() else configured)


def build_signals(
    settings: Settings, fed_data: Path | None, liquidations: Sequence[Path] = ()
) -> RecordedSignals:
    """The strategy's signals as the daemon would compute them under `settings`, from recorded
    data: the Fed series in `fed_data` (None = `QTBOT_SIGNALS__FED_DATA_DIR`, else the shipped
    copy) with the configured announcements, classifier rule and override; the FOMC calendar
    (`fomc_decisions.csv` in `fed_data` if there, else the configured one); flushes from the
    liquidation files with the configured detector."""

    s = settings.signals
    directory = fed_data or s.fed_data_dir or SHIPPED_DATA_DIR
    inputs = inputs_from_directory(directory, load_announcements(s.fed_announcements_path))
    calendar = fomc_calendar(fed_data, s.fomc_calendar_path)
    bars: list[LiquidationBar] = []
    for path in liquidations:
        bars.extend(load_liquidation_bars(path))
    return recorded_signals(
        inputs,
        bars,
        calendar,
        s.regime_params(),
        s.flush_params(),
        s.regime_override,
    )
