"""The signals section of the settings (`QTBOT_SIGNALS__*`): Fed data sources, the regime rule
and the liquidation feeds and flush detector. Assembled in `bot.config.settings.Settings`."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.config.section import SettingsSection
from bot.config.values import existing_path, http_url
from bot.signals.flush import FlushParams
from bot.signals.liquidation_feeds import FEED_CAPABILITIES
from bot.signals.regime_types import CombineRule, Regime, RegimeParams


class SignalsSettings(SettingsSection):
    fed_source: Literal["fred", "file"] = Field(
        "fred", description="fred (download, cached) or file (CSV files in fed_data_dir)"
    )
    fed_data_dir: Path | None = Field(
        None, description="directory of FRED-format CSVs; empty = the copy shipped with qtbot"
    )
    fred_url: str | None = Field(
        None, description="FRED CSV (or API) endpoint override, for a mirror or proxy"
    )
    fred_api_key: SecretStr | None = Field(
        None, description="optional FRED API key; empty = public CSV download"
    )
    regime_override: Regime | None = Field(
        None, description="force the regime (tightening|neutral|easing); empty = classify"
    )
    regime_refresh_hours: float = Field(6.0, gt=0, le=168, description="Fed data refresh interval")
    regime_rule: Literal["sum", "rate_first", "balance_sheet_first", "any_tightening"] = Field(
        "sum", description="how balance sheet and rate combine into the regime (see README)"
    )
    bs_window_weeks: int = Field(
        13, ge=1, le=104, description="weeks of WALCL change that classify QT/QE"
    )
    bs_enter_change_pct: float = Field(
        1.0, gt=0, le=50, description="WALCL change % over the window that enters QT/QE"
    )
    bs_exit_change_pct: float = Field(
        0.25, ge=0, le=50, description="change % back inside which QT/QE ends (hysteresis)"
    )
    # Retired: the rate stance now changes only at FOMC decisions. The name stays known so
    # that an old .env setting it gets one line saying so, not "unknown setting; did you mean".
    rate_window_days: None = Field(
        None, description="retired: the rate stance changes only at FOMC decisions; leave empty"
    )
    fed_announcements_path: Path | None = Field(
        None, description="CSV of Fed balance-sheet announcements; empty = shipped copy"
    )
    fomc_calendar_path: Path | None = Field(
        None, description="CSV of FOMC decision dates; empty = shipped copy (2015-2026)"
    )
    liquidation_feeds: str = Field(
        "binance", description="venues streaming public liquidations, comma separated; none=off"
    )
    liquidation_symbols: str = Field(
        "BTC/USDT:USDT,ETH/USDT:USDT",
        description="perp symbols for per-symbol feeds (bybit, okx, gate, htx)",
    )
    liquidation_check_seconds: int = Field(
        60, ge=5, le=3600, description="liquidation aggregation and flush check interval"
    )
    flush_window_hours: float = Field(
        24.0, gt=0, le=168, description="window over which long liquidations are summed"
    )
    flush_min_long_usd: float = Field(
        50_000_000, ge=0, description="long liquidations (USD) in the window that can flush"
    )
    flush_min_multiple: float = Field(
        4.0, gt=0, le=1000, description="and at least this multiple of the trailing median"
    )
    flush_cooldown_hours: float = Field(
        72.0, ge=0, le=720, description="a flush stays active (and cannot repeat) this long"
    )
    flush_escalation_multiple: float | None = Field(
        2.0,
        ge=1,
        le=1000,
        description="...unless a window has this multiple of that flush's longs (off: never)",
    )

    _fred_url = field_validator("fred_url")(classmethod(lambda cls, v: http_url(v)))
    _paths = field_validator("fed_data_dir", "fed_announcements_path", "fomc_calendar_path")(
        classmethod(lambda cls, v: existing_path(v))
    )

    @field_validator("liquidation_symbols")
    @classmethod
    def _perp_symbols(cls, value: str) -> str:
        symbols = [v.strip() for v in value.split(",") if v.strip()]
        bad = [s for s in symbols if not re.fullmatch(r"[A-Z0-9]+/[A-Z0-9]+(:[A-Z0-9]+)?", s)]
        if bad or not symbols:
            raise ValueError(f"{bad or value!r}: use ccxt perp symbols such as BTC/USDT:USDT")
        return ",".join(symbols)

    @field_validator("liquidation_feeds")
    @classmethod
    def _feeds(cls, value: str) -> str:
        names = [v.strip().lower() for v in value.split(",") if v.strip()]
        if names == ["none"]:
            return "none"
        unknown = [n for n in names if n not in FEED_CAPABILITIES]
        if unknown or not names:
            raise ValueError(
                f"unknown liquidation feed {unknown or value!r}: use none or any of "
                f"{', '.join(sorted(FEED_CAPABILITIES))}"
            )
        return ",".join(names)

    def regime_params(self) -> RegimeParams:
        """The regime classifier's parameters (percent -> fractions)."""
        return RegimeParams(
            bs_window_weeks=self.bs_window_weeks,
            bs_enter_change=self.bs_enter_change_pct / 100,
            bs_exit_change=self.bs_exit_change_pct / 100,
            rule=CombineRule(self.regime_rule),
        )

    def flush_params(self) -> FlushParams:
        """The flush detector's parameters."""
        return FlushParams(
            window=timedelta(hours=self.flush_window_hours),
            min_long_usd=self.flush_min_long_usd,
            min_multiple=self.flush_min_multiple,
            cooldown=timedelta(hours=self.flush_cooldown_hours),
            escalation_multiple=self.flush_escalation_multiple,
        )

    @model_validator(mode="after")
    def _hysteresis(self) -> SignalsSettings:
        if self.bs_exit_change_pct >= self.bs_enter_change_pct:
            raise ValueError(
                "QTBOT_SIGNALS__BS_EXIT_CHANGE_PCT must be below QTBOT_SIGNALS__BS_ENTER_"
                "CHANGE_PCT (the gap is the hysteresis that keeps weekly noise out)"
            )
        return self

    @field_validator("rate_window_days", mode="before")
    @classmethod
    def _retired(cls, value: Any) -> None:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        raise ValueError(
            "retired: the rate stance now changes only at FOMC decisions (there is no window "
            "any more); delete this line"
        )

    @field_validator("regime_override", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value
