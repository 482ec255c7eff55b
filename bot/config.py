"""The one `Settings` tree: environment variables `QTBOT_*` (nested with `__`) and `.env`.

Percent values in settings (`20` means 20 %) are converted to fractions by the code that uses them,
once, at the composition root.  Every field is documented in `.env.example`; a test keeps the two
in step.  Unknown `QTBOT_*` names are errors, so a misspelt stop-loss is never silently ignored.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, DotEnvSettingsSource, SettingsConfigDict

from bot.config_section import SettingsSection
from bot.notify.settings import NotifySettings

ENV_PREFIX = "QTBOT_"
NESTED = "__"
LIVE_CONFIRM_PHRASE = "I-UNDERSTAND"

Mode = Literal["paper", "testnet", "live"]
Regime = Literal["tightening", "neutral", "easing"]
Pct = Annotated[float, Field(ge=0, le=100)]
_MAX_ACTIVATION_PCT = 10000


class ConfigError(Exception):
    """Invalid configuration; `problems` holds one human-readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class ExchangeSettings(SettingsSection):
    id: str = Field("binance", description="exchange id as ccxt names it (binance, bybit, okx)")
    mode: Mode = Field("paper", description="paper (simulated fills), testnet, or live (real)")
    api_key: SecretStr | None = Field(None, description="API key (testnet/live only)")
    secret: SecretStr | None = Field(None, description="API secret (testnet/live only)")
    password: SecretStr | None = Field(None, description="API passphrase (okx and some others)")
    live_confirm: str | None = Field(
        None, description=f"must be {LIVE_CONFIRM_PHRASE} for mode=live to start"
    )
    rest_url: str | None = Field(
        None, description="override the exchange REST base URL (proxy or local emulator)"
    )
    timeout_seconds: float = Field(10.0, gt=0, le=120, description="HTTP timeout per request")
    markets_refresh_minutes: int = Field(
        60, ge=1, le=1440, description="reload market precision/limits this often"
    )
    paper_starting_balance: str = Field(
        "USDT:10000", description="paper account start balances, ASSET:AMOUNT,..."
    )
    paper_slippage_pct: float = Field(
        0.05, ge=0, le=5, description="paper market-order slippage when only a ticker is known"
    )
    paper_fee_pct: float | None = Field(
        None, ge=0, le=5, description="paper fee override; empty = the market's maker/taker fees"
    )
    paper_match_seconds: int = Field(
        15, ge=1, le=3600, description="how often resting paper orders are matched"
    )

    @field_validator("id")
    @classmethod
    def _known_exchange(cls, value: str) -> str:
        value = value.strip().lower()
        if not re.fullmatch(r"[a-z0-9]+", value):
            raise ValueError("must be a ccxt exchange id such as binance, bybit or okx")
        import ccxt

        if value not in ccxt.exchanges:
            close = difflib.get_close_matches(value, ccxt.exchanges, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"is not an exchange ccxt knows{hint}")
        return value

    _rest_url = field_validator("rest_url")(classmethod(lambda cls, v: _http_url(v)))

    @field_validator("paper_starting_balance")
    @classmethod
    def _balances(cls, value: str) -> str:
        parse_balances(value)
        return value


class LogSettings(SettingsSection):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO", description="log level"
    )
    format: Literal["auto", "json", "console"] = Field(
        "auto", description="json lines, pretty console, or auto (console on a TTY, else json)"
    )

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class HttpSettings(SettingsSection):
    enabled: bool = Field(False, description="serve /healthz, /metrics and a status page")
    host: str = Field("127.0.0.1", description="bind address; keep loopback unless proxied")
    port: int = Field(8321, ge=1, le=65535, description="TCP port of the status server")

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        import ipaddress

        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", value):
                raise ValueError("must be an IP address or host name such as 127.0.0.1") from None
        return value


class DaemonSettings(SettingsSection):
    heartbeat_seconds: int = Field(30, ge=1, le=3600, description="heartbeat job interval")
    misfire_grace_seconds: int = Field(
        60, ge=1, le=86400, description="run a late job if it is at most this late"
    )
    reconcile_minutes: float = Field(
        5.0, gt=0, le=1440, description="compare the store with the venue this often"
    )
    clock_speed: float = Field(
        1.0, gt=0, le=100000, description="1 = real time; >1 runs an accelerated simulated clock"
    )
    clock_start: str | None = Field(
        None,
        description="accelerated clock: simulated = start + (now - start) x speed; ISO-8601 UTC",
    )

    @field_validator("clock_start")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is not None:
            from datetime import datetime

            try:
                datetime.fromisoformat(value)
            except ValueError as exc:
                raise ValueError("must be an ISO-8601 time such as 2025-12-01T00:00:00Z") from exc
        return value


class RiskSettings(SettingsSection):
    take_profit_tiers: str = Field(
        "20:25,50:25", description="GAIN%:SELL% of the original position, comma separated"
    )
    trailing_stop_pct: float | None = Field(
        15.0, gt=0, lt=100, description="trailing stop % below the high-water mark; off = none"
    )
    trailing_activation_pct: float | None = Field(
        None,
        gt=0,
        le=_MAX_ACTIVATION_PCT,
        description="gain % arming the trailing stop; empty=after last tier",
    )
    stop_loss_pct: float | None = Field(
        20.0, gt=0, lt=100, description="hard stop % below average entry; off = no hard stop"
    )
    breakeven_after_first_tier: bool = Field(
        True, description="raise the hard stop to entry+fees once tier 1 has fired"
    )
    max_asset_pct: Pct = Field(60.0, description="max share of equity in one asset")
    max_total_pct: Pct = Field(100.0, description="max share of equity in all positions")
    max_open_positions: int = Field(10, ge=1, le=1000, description="max positions held at once")
    daily_loss_limit_pct: float | None = Field(
        10.0,
        gt=0,
        le=100,
        description="pause entries after this % loss since UTC day start (off: none)",
    )
    max_drawdown_pct: float | None = Field(
        30.0,
        gt=0,
        le=100,
        description="pause entries below this % drawdown from the peak (off: none)",
    )
    kill_switch_cooldown_days: float | None = Field(
        7.0,
        ge=0,
        le=365,
        description="re-arm after a drawdown kill once flat this long (off: qtbot resume only)",
    )
    flatten_on_kill: bool = Field(
        False, description="also sell everything when the loss limit or drawdown trips"
    )
    risk_off: bool = Field(False, description="stop new entries; exits keep running")
    exchange_stop: bool = Field(
        True, description="keep a stop order resting on the exchange where it supports them"
    )
    exchange_stop_limit_offset_pct: float = Field(
        0.5, ge=0, le=20, description="limit price of that stop this % below its trigger"
    )
    exchange_stop_step_pct: float = Field(
        1.0, ge=0, le=50, description="move it up when the daemon's stop rose by more than this %"
    )
    exchange_stop_min_interval_seconds: int = Field(
        60, ge=1, le=86400, description="at most one move of that stop per this many seconds"
    )
    check_seconds: int = Field(60, ge=1, le=3600, description="risk job interval")

    @field_validator("take_profit_tiers")
    @classmethod
    def _tiers(cls, value: str) -> str:
        from risk.take_profit import parse_take_profit_tiers

        parse_take_profit_tiers(value)
        return value

    @model_validator(mode="after")
    def _trail_above_entry(self) -> RiskSettings:
        """An explicit activation must arm the trailing stop above the entry price (the rule
        freqtrade enforces as offset > trailing distance): a stop meant to lock in a gain must
        not lock in a loss. Empty activation (after the last tier) is not checked: the tiers
        and the break-even stop decide there."""
        trail, activation = self.trailing_stop_pct, self.trailing_activation_pct
        if trail is None or activation is None:
            return self
        hundred = Decimal(100)
        armed_at = (1 + Decimal(str(activation)) / hundred) * (1 - Decimal(str(trail)) / hundred)
        if armed_at < 1:
            needed = ((1 / (1 - Decimal(str(trail)) / hundred) - 1) * hundred).quantize(
                Decimal("0.01"), ROUND_CEILING
            )
            below = (1 - armed_at) * hundred
            if needed > _MAX_ACTIVATION_PCT:
                raise ValueError(
                    f"QTBOT_RISK__TRAILING_STOP_PCT={trail:g} is so wide that no activation up "
                    f"to {_MAX_ACTIVATION_PCT}% arms it above the entry price: narrow the "
                    "trailing stop (or leave the activation empty to arm after the last tier)"
                )
            raise ValueError(
                f"QTBOT_RISK__TRAILING_ACTIVATION_PCT={activation:g} arms the "
                f"{trail:g}% trailing stop {below:.2f}% below the entry price, locking in a "
                f"loss: set the activation to at least {needed}"
                " (or leave it empty to arm after the last tier)"
            )
        return self


class StrategySettings(SettingsSection):
    budget: Decimal = Field(
        Decimal("1000"), gt=0, description="total quote currency to deploy (e.g. USDT)"
    )
    allocation: str = Field(
        "BTC/USDT:60,ETH/USDT:40", description="SYMBOL:WEIGHT%, weights summing to 100"
    )
    core_assets: str = Field("BTC,ETH", description="base assets treated as core; others are alts")
    alt_cap_pct: Pct = Field(30.0, description="max share of the budget in alts")
    tranches: int = Field(4, ge=1, le=50, description="entry tranches per plan")
    entry_check_minutes: float = Field(
        60.0, gt=0, le=1440, description="how often the entry job looks for due tranches"
    )
    entry_window_days: float = Field(
        21.0, gt=0, le=120, description="days over which the tranches are spread"
    )

    order_type: Literal["limit", "market"] = Field("limit", description="tranche order type")
    limit_offsets_pct: str = Field(
        "0.2", description="% below the bid for limit tranches; a list is used in turn (ladder)"
    )
    reprice_after_hours: float = Field(
        24.0, gt=0, le=720, description="re-place an unfilled limit tranche after this long"
    )
    max_reprices: int = Field(2, ge=0, le=20, description="reprices before converting")
    convert_to_market: bool = Field(
        True, description="buy at market after the last reprice timed out"
    )
    start_regimes: str = Field("easing,neutral", description="regimes in which a plan may start")
    pause_regimes: str = Field("tightening", description="regimes that pause tranches")
    pivot_window_days: float | None = Field(
        None, gt=0, le=730, description="also require an easing pivot this recent; empty = no"
    )
    fomc_blackout_hours: float = Field(
        24.0, ge=0, le=168, description="no tranche this long before an FOMC decision; 0 = off"
    )
    anti_chase_pct: float | None = Field(
        15.0,
        gt=0,
        le=1000,
        description="hold a tranche this % above the N-day average (off: never)",
    )
    anti_chase_days: int = Field(20, ge=1, le=365, description="days in that average")
    anti_chase_action: Literal["delay", "skip"] = Field(
        "delay", description="delay the tranche, or skip it at once"
    )
    anti_chase_max_delay_days: float = Field(
        7.0, ge=0, le=120, description="skip a delayed tranche this long after its due time"
    )
    alt_lag_reference: str = Field("BTC", description="base asset the alts follow")
    alt_lag_gain_pct: float | None = Field(
        10.0,
        ge=0,
        le=1000,
        description="alt plans start once the reference gained this % (off: no)",
    )
    alt_lag_days: float | None = Field(
        30.0,
        ge=0,
        le=365,
        description="... or this many days after the reference plan began (off: no)",
    )
    flush_pull_forward: int = Field(
        1, ge=0, le=50, description="pending tranches a liquidation flush makes due now"
    )
    cycle_cooldown_days: float = Field(
        7.0, ge=0, le=365, description="wait after a position closed before a new plan"
    )
    budget_mode: Literal["fixed", "compounding"] = Field(
        "fixed", description="next cycle's budget: fixed, or adjusted by realised PnL"
    )

    @field_validator("allocation")
    @classmethod
    def _allocation(cls, value: str) -> str:
        parse_allocation(value)
        return value

    _codes = field_validator("core_assets", "alt_lag_reference")(
        classmethod(lambda cls, v: _asset_codes(v))
    )

    @field_validator("limit_offsets_pct")
    @classmethod
    def _offsets(cls, value: str) -> str:
        items = [item.strip() for item in value.split(",") if item.strip()]
        if not items:
            raise ValueError("must list at least one offset, e.g. 0.2 or 0.2,0.5,1")
        for item in items:
            number = _number(item, value)
            if not 0 <= number < 100:
                raise ValueError(f"offset {item}% must be at least 0 and below 100")
        return ",".join(items)

    @field_validator("start_regimes", "pause_regimes")
    @classmethod
    def _regimes(cls, value: str) -> str:
        names = [v.strip().lower() for v in value.split(",") if v.strip()]
        unknown = sorted(set(names) - {"tightening", "neutral", "easing"})
        if unknown:
            raise ValueError(f"unknown regime {unknown}: use tightening, neutral or easing")
        return ",".join(names)

    @model_validator(mode="after")
    def _consistent(self) -> StrategySettings:
        from bot.strategy.params import strategy_params_from_settings

        both = sorted(set(self.start_regimes.split(",")) & set(self.pause_regimes.split(",")))
        if both:
            raise ValueError(
                f"QTBOT_STRATEGY__START_REGIMES and QTBOT_STRATEGY__PAUSE_REGIMES both list "
                f"{', '.join(both)}: a regime cannot both start plans and pause them"
            )
        core = {a.strip().upper() for a in self.core_assets.split(",") if a.strip()}
        alts = sum(
            (
                w
                for symbol, w in parse_allocation(self.allocation)
                if symbol.split("/")[0] not in core
            ),
            Decimal(0),
        )
        if alts > Decimal(str(self.alt_cap_pct)):
            raise ValueError(
                f"QTBOT_STRATEGY__ALLOCATION gives alts {alts}% but QTBOT_STRATEGY__ALT_CAP_PCT "
                f"is {self.alt_cap_pct:g}%: lower the alt weights or raise the cap (otherwise part "
                "of the budget would silently never be deployed)"
            )

        try:
            strategy_params_from_settings(self)
        except ValueError as exc:
            raise ValueError(f"strategy settings disagree: {exc}") from None
        return self


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
    rate_window_days: int = Field(
        190, ge=1, le=1000, description="days a rate change keeps the state hiking/cutting"
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

    _fred_url = field_validator("fred_url")(classmethod(lambda cls, v: _http_url(v)))
    _paths = field_validator("fed_data_dir", "fed_announcements_path", "fomc_calendar_path")(
        classmethod(lambda cls, v: _existing(v))
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
        from bot.signals.liquidation_sources import FEED_CAPABILITIES

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

    @model_validator(mode="after")
    def _hysteresis(self) -> SignalsSettings:
        if self.bs_exit_change_pct >= self.bs_enter_change_pct:
            raise ValueError(
                "QTBOT_SIGNALS__BS_EXIT_CHANGE_PCT must be below QTBOT_SIGNALS__BS_ENTER_"
                "CHANGE_PCT (the gap is the hysteresis that keeps weekly noise out)"
            )
        return self

    @field_validator("regime_override", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED,
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="forbid",
        frozen=True,
        case_sensitive=False,
    )

    data_dir: Path = Field(Path("data"), description="state directory (database, lock file)")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; empty = sqlite file qtbot.sqlite under data_dir"
    )
    exchange: ExchangeSettings = Field(default_factory=ExchangeSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    strategy: StrategySettings = Field(default_factory=StrategySettings)
    signals: SignalsSettings = Field(default_factory=SignalsSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)

    @field_validator("database_url")
    @classmethod
    def _sqlalchemy_url(cls, value: str | None) -> str | None:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        if value is not None:
            try:
                make_url(value)
            except ArgumentError:
                raise ValueError(
                    "is not a SQLAlchemy URL (e.g. sqlite:///data/qtbot.sqlite or "
                    "postgresql+psycopg://user:pw@host/db)"
                ) from None
        return value

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        ex = self.exchange
        if ex.mode == "live" and ex.live_confirm != LIVE_CONFIRM_PHRASE:
            raise ValueError(
                "live mode trades real money: set "
                f"QTBOT_EXCHANGE__LIVE_CONFIRM={LIVE_CONFIRM_PHRASE} to confirm, "
                "or use QTBOT_EXCHANGE__MODE=paper|testnet"
            )
        if ex.mode in ("testnet", "live"):
            missing = [
                f"QTBOT_EXCHANGE__{name.upper()}"
                for name in ("api_key", "secret")
                if getattr(ex, name) is None
            ]
            if missing:
                raise ValueError(f"{ex.mode} mode needs exchange keys: set {' and '.join(missing)}")
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'qtbot.sqlite').as_posix()}"


def _http_url(value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError("must be an http(s) URL such as http://127.0.0.1:8900")
    return value.rstrip("/") if value else value


def _existing(value: Path | None) -> Path | None:
    try:
        missing = value is not None and not value.exists()
    except OSError as exc:  # e.g. a name longer than the file system allows
        raise ValueError(f"cannot be used as a path: {exc.strerror}") from None
    if missing:
        raise ValueError("does not exist; give an existing path or leave it empty")
    return value


def _asset_codes(value: str) -> str:
    codes = [v.strip().upper() for v in value.split(",") if v.strip()]
    bad = [c for c in codes if not re.fullmatch(r"[A-Z0-9]+", c)]
    if bad or not codes:
        raise ValueError(f"{bad or value!r} are not asset codes such as BTC,ETH")
    return ",".join(codes)


# --- human-friendly list forms -------------------------------------------------------------


def _pairs(value: str, what: str) -> list[tuple[str, str]]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise ValueError(f"must list at least one {what}")
    pairs = []
    for item in items:
        left, sep, right = item.rpartition(":")
        if not sep or not left.strip() or not right.strip():
            raise ValueError(f"{item!r} is not of the form {what}")
        pairs.append((left.strip(), right.strip()))
    return pairs


def _number(text: str, item: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} in {item!r} is not a number") from exc
    if not number.is_finite():
        raise ValueError(f"{text!r} in {item!r} is not a finite number")
    return number


def parse_allocation(value: str) -> tuple[tuple[str, Decimal], ...]:
    """`"BTC/USDT:60,ETH/USDT:40"` -> (("BTC/USDT", 60), ...); weights in percent summing to 100."""
    allocation: list[tuple[str, Decimal]] = []
    for symbol, weight_text in _pairs(value, "SYMBOL:WEIGHT%"):
        if not re.fullmatch(r"[A-Z0-9]+/[A-Z0-9]+", symbol):
            raise ValueError(f"{symbol!r} is not a spot symbol such as BTC/USDT")
        if any(symbol == seen for seen, _ in allocation):
            raise ValueError(f"{symbol} is listed twice")
        weight = _number(weight_text, f"{symbol}:{weight_text}")
        if not 0 < weight <= 100:
            raise ValueError(f"weight of {symbol} must be above 0 and at most 100")
        allocation.append((symbol, weight))
    total = sum(weight for _, weight in allocation)
    if abs(total - 100) > Decimal("0.000001"):
        raise ValueError(f"weights sum to {total}, they must sum to 100")
    quotes = {symbol.split("/")[1] for symbol, _ in allocation}
    if len(quotes) > 1:
        raise ValueError(f"all symbols must share one quote currency, got {sorted(quotes)}")
    return tuple(allocation)


def parse_balances(value: str) -> dict[str, Decimal]:
    """`"USDT:10000,BTC:0.1"` -> {"USDT": 10000, "BTC": 0.1}."""
    balances: dict[str, Decimal] = {}
    for asset, amount_text in _pairs(value, "ASSET:AMOUNT"):
        if not re.fullmatch(r"[A-Z0-9]+", asset):
            raise ValueError(f"{asset!r} is not an asset code such as USDT")
        amount = _number(amount_text, f"{asset}:{amount_text}")
        if amount < 0:
            raise ValueError(f"balance of {asset} must not be negative")
        balances[asset] = amount
    return balances


# --- names, loading and error messages ------------------------------------------------------


def env_names(model: type[BaseModel] = Settings, prefix: str = ENV_PREFIX) -> dict[str, tuple]:
    """Every accepted environment variable -> its field path, e.g. QTBOT_RISK__STOP_LOSS_PCT."""
    names: dict[str, tuple] = {}
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for sub, path in env_names(annotation, "").items():
                names[f"{prefix}{name.upper()}{NESTED}{sub}"] = (name, *path)
        else:
            names[f"{prefix}{name.upper()}"] = (name,)
    return names


def env_name_for(loc: Iterable[Any]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return ENV_PREFIX + NESTED.join(p.upper() for p in parts) if parts else ENV_PREFIX + "*"


def _unknown_names(present: Iterable[str]) -> list[str]:
    known = env_names()
    problems = []
    for name in sorted({n.upper() for n in present}):
        if not name.startswith(ENV_PREFIX) or name in known or name == "QTBOT_ENV_FILE":
            continue
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else "; see .env.example for valid names"
        problems.append(f"{name}: unknown setting{hint}")
    return problems


def _secret_paths() -> set[tuple]:
    return {
        path
        for path in env_names().values()
        if path[-1] in ("api_key", "secret", "password", "fred_api_key", "urls")
    }


def _describe(error: Mapping[str, Any], secret_paths: set[tuple]) -> str:
    loc = tuple(p for p in error.get("loc", ()) if not isinstance(p, int))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if not loc:  # a model-level check: the message names its variables itself
        return message
    # pydantic-settings reports `exchange.mode` for nested values; map the path to the variable.
    name = env_name_for(loc[:2] if loc[0] in Settings.model_fields else loc)
    value = error.get("input")
    shown = "'***'" if loc[:2] in secret_paths or loc in secret_paths else repr(value)
    if isinstance(value, dict):
        return f"{name}: {message}"
    return f"{name}={shown}: {message}"


def _check_dotenv_lines(path: Path) -> None:
    """python-dotenv skips lines it cannot parse with a warning; a skipped stop-loss line must
    be an error instead."""
    from dotenv.parser import parse_stream

    try:
        with path.open(encoding="utf-8") as stream:
            bad = [
                f"{path} line {b.original.line}: cannot read {b.original.string.strip()!r}; "
                "write NAME=value"
                for b in parse_stream(stream)
                if b.error
            ]
    except UnicodeDecodeError:
        raise ConfigError([f"cannot read {path}: it is not UTF-8 text"]) from None
    if bad:
        raise ConfigError(bad)


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Build `Settings` from the environment and `env_file`; `ConfigError` lists every problem."""
    env_file = os.environ.get("QTBOT_ENV_FILE", env_file)
    present = list(os.environ)
    if env_file and Path(env_file).is_file():
        _check_dotenv_lines(Path(env_file))
        try:
            present += list(DotEnvSettingsSource(Settings, env_file=env_file).env_vars)
        except (UnicodeDecodeError, OSError) as exc:
            reason = "it is not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else exc
            raise ConfigError([f"cannot read {env_file}: {reason}"]) from None
    problems = _unknown_names(present)
    try:
        settings = Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        secret_paths = _secret_paths()
        problems += [
            _describe(error, secret_paths)
            for error in exc.errors()
            # unknown names were already reported above, with a suggestion
            if not (error["type"] == "extra_forbidden" and problems)
        ]
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError(problems)
    return settings


def _mask_url(url: str) -> str:
    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", url)


def public_view(settings: Settings) -> dict[str, Any]:
    """The effective config as plain data, every secret masked (safe to print and log)."""
    data = settings.model_dump(mode="json")
    for path in _secret_paths():
        section = data
        for part in path[:-1]:
            section = section[part]
        if section.get(path[-1]) is not None:
            section[path[-1]] = "***"
    data["database_url"] = _mask_url(settings.effective_database_url)
    return data


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret, for the log redactor."""
    values = []
    for path in _secret_paths():
        node: Any = settings
        for part in path:
            node = getattr(node, part)
        if isinstance(node, SecretStr) and node.get_secret_value():
            values.append(node.get_secret_value())
    match = re.search(r"://[^:/@]+:([^@]+)@", settings.effective_database_url)
    if match:
        values.append(match.group(1))
    return values
