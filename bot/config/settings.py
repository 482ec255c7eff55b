"""The one `Settings` tree: environment variables `QTBOT_*` (nested with `__`) and `.env`.

Percent values in settings (`20` means 20 %) are converted to fractions by the code that uses them,
once, at the composition root.  Every field is documented in `.env.example`; a test keeps the two
in step.  Unknown `QTBOT_*` names are errors, so a misspelt stop-loss is never silently ignored.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Literal

from dotenv.parser import parse_stream
from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, DotEnvSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.config.control import ControlSettings, TelegramSettings, control_needs_http
from bot.config.notify import NotifySettings
from bot.config.section import SettingsSection
from bot.config.signals import SignalsSettings
from bot.config.trading import RiskSettings, StrategySettings
from bot.config.url_secrets import MASK, mask_url, mask_url_secrets, url_secrets
from bot.config.values import http_url, parse_balances, parse_host_list

ENV_PREFIX = "QTBOT_"
NESTED = "__"
LIVE_CONFIRM_PHRASE = "I-UNDERSTAND"
BLANK_SECRET = "blank_secret"

Mode = Literal["paper", "testnet", "live"]


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
        # ~1 s to import: only when an exchange id is checked. ccxt ships no type stubs.
        import ccxt  # type: ignore[import-untyped]  # noqa: PLC0415

        if value not in ccxt.exchanges:
            close = difflib.get_close_matches(value, ccxt.exchanges, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"is not an exchange ccxt knows{hint}")
        return value

    _rest_url = field_validator("rest_url")(classmethod(lambda cls, v: http_url(v)))

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
    allowed_hosts: str | None = Field(
        None,
        description="extra Host names served, comma separated (a reverse proxy's name); "
        "empty = bound host and loopback names only",
    )
    client_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="drop a client that has not sent its request by then"
    )

    _allowed_hosts = field_validator("allowed_hosts")(
        classmethod(lambda cls, v: None if v is None else ",".join(parse_host_list(v)))
    )

    def allowed_host_list(self) -> tuple[str, ...]:
        """`allowed_hosts` as lower-case `name` or `name:port` entries."""
        return parse_host_list(self.allowed_hosts) if self.allowed_hosts else ()

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:

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
    stop_grace_seconds: float = Field(
        30.0,
        ge=0,
        le=600,
        description="on SIGTERM running jobs get this long to finish, then are cancelled (wall s)",
    )
    store_failure_limit: int = Field(
        3,
        ge=1,
        le=1000,
        description="exit 1 once this many job runs in a row cannot write the database",
    )

    @field_validator("clock_start")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                datetime.fromisoformat(value)
            except ValueError as exc:
                raise ValueError("must be an ISO-8601 time such as 2025-12-01T00:00:00Z") from exc
        return value


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
    control: ControlSettings = Field(default_factory=ControlSettings)
    telegram: TelegramSettings = Field(default_factory=TelegramSettings)

    @field_validator("database_url")
    @classmethod
    def _sqlalchemy_url(cls, value: str | None) -> str | None:

        if value is not None:
            try:
                make_url(value)
            except (ArgumentError, ValueError):  # ValueError: a port that is not a number
                raise ValueError(
                    "is not a SQLAlchemy URL (e.g. sqlite:///data/qtbot.sqlite or "
                    "postgresql+psycopg://user:pw@host/db)"
                ) from None
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _trimmed_secrets(cls, value: Any, info: ValidationInfo) -> Any:
        """Secrets lose surrounding whitespace (a pasted key often ends in a newline, which the
        venue would refuse with a puzzling message); one of only whitespace is an error."""
        if not isinstance(value, dict):
            return value
        trimmed, blank = dict(value), []
        for path in _secret_paths():
            if path[0] == info.field_name and isinstance(value.get(path[-1]), str):
                trimmed[path[-1]] = value[path[-1]].strip()
                if not trimmed[path[-1]]:
                    blank.append(env_name_for(path))
        if blank:
            raise PydanticCustomError(
                BLANK_SECRET,
                f"{' and '.join(sorted(blank))} {'is' if len(blank) == 1 else 'are'} only "
                "whitespace: paste the value itself (surrounding spaces and newlines are "
                "dropped), or leave it empty",
            )
        return trimmed

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
        control_needs_http(self.control.enabled, self.http.enabled)
        return self

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'qtbot.sqlite').as_posix()}"


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


@cache
def _secret_paths() -> frozenset[tuple]:
    return frozenset(
        path
        for path in env_names().values()
        if path[-1] in ("api_key", "secret", "password", "fred_api_key", "urls", "token")
    )


def _describe(error: Mapping[str, Any], secret_paths: frozenset[tuple]) -> str:
    loc = tuple(p for p in error.get("loc", ()) if not isinstance(p, int))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if not loc or error.get("type") == BLANK_SECRET:  # the message names its variables itself
        return message
    # pydantic-settings reports `exchange.mode` for nested values; map the path to the variable.
    name = env_name_for(loc[:2] if loc[0] in Settings.model_fields else loc)
    value = error.get("input")
    if loc[:2] in secret_paths or loc in secret_paths:
        shown = repr(MASK)
    else:  # a URL refused for its form may still carry a password
        shown = repr(mask_url(value) if isinstance(value, str) else value)
    if isinstance(value, dict):
        return f"{name}: {message}"
    return f"{name}={shown}: {message}"


def _check_dotenv_lines(path: Path) -> None:
    """python-dotenv skips lines it cannot parse with a warning; a skipped stop-loss line must
    be an error instead."""

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
        settings = Settings(_env_file=env_file, **overrides)
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


def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    return mask_url_secrets(value) if isinstance(value, str) else value


def public_view(settings: Settings) -> dict[str, Any]:
    """The effective config as plain data, every secret masked (safe to print and log): secret
    settings whole, and the password and secret query values of any URL-valued setting."""
    data = settings.model_dump(mode="json")
    for path in _secret_paths():
        section = data
        for part in path[:-1]:
            section = section[part]
        if section.get(path[-1]) is not None:
            section[path[-1]] = MASK
    data["database_url"] = settings.effective_database_url
    masked: dict[str, Any] = _masked(data)
    return masked


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, SecretStr):
        return [value.get_secret_value()]
    return [value] if isinstance(value, str) else []


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret, for the log redactor: secret settings, and the passwords and
    secret query values inside every URL-valued setting."""
    texts = _texts({**settings.model_dump(), "database_url": settings.effective_database_url})
    values = [secret for text in texts if "://" in text for secret in url_secrets(text)]
    # SQLAlchemy's own reading of the URL too, should it split a password differently.
    values.append(make_url(settings.effective_database_url).password or "")
    for path in _secret_paths():
        node: Any = settings
        for part in path:
            node = getattr(node, part)
        if isinstance(node, SecretStr):
            values.append(node.get_secret_value())
    return [value for value in dict.fromkeys(values) if value]
