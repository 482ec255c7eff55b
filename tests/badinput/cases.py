"""The bad-settings table, generated from `bot.config.settings.env_names()` and each field's
metadata.

Every accepted variable gets cases from its type (a word where a number belongs, a fraction
where an integer belongs, an unknown choice for a Literal, `maybe` for a bool) and from its
bounds (just outside each `ge`/`gt`/`le`/`lt`). Free-text fields get curated bad values in
`CURATED`; a field whose every value is valid (a secret, a free label) is listed in `EXEMPT`
with the reason. A new setting that none of these cover fails `uncovered_names()`, so the
table grows with `Settings`.

A case with `xfail` set is a known gap (config accepts it, or the message does not name the
variable): the suite pins it with `xfail(strict=True)`; `alone` marks a case whose problem is
found by a section-level check, which only runs when every field of the section is valid.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from bot.config.settings import Settings, env_names


@dataclass(frozen=True)
class BadCase:
    case_id: str
    env: dict[str, str]
    names: tuple[str, ...]  # variables the problem line must name
    xfail: str | None = None
    alone: bool = False

    @property
    def single(self) -> str | None:
        """The one variable set, for cases that set exactly one."""
        return next(iter(self.env)) if len(self.env) == 1 else None


@dataclass(frozen=True)
class Curated:
    value: str
    what: str
    xfail: str | None = None
    alone: bool = False


CURATED: dict[str, list[Curated]] = {
    "QTBOT_DATABASE_URL": [Curated("not a url", "not_a_url")],
    "QTBOT_EXCHANGE__ID": [
        Curated("notanexchange", "unknown_exchange"),
        Curated("bin ance", "space_in_id"),
    ],
    "QTBOT_EXCHANGE__REST_URL": [
        Curated("ftp://127.0.0.1", "not_http"),
        Curated("localhost:8900", "no_scheme"),
    ],
    "QTBOT_EXCHANGE__PAPER_STARTING_BALANCE": [
        Curated("USDT", "no_amount"),
        Curated("USDT:-5", "negative"),
        Curated("usdt:10", "lowercase_asset"),
    ],
    "QTBOT_HTTP__HOST": [Curated("not a host!", "not_a_host")],
    # Retired: any value is refused with a line saying what replaced it.
    "QTBOT_SIGNALS__RATE_WINDOW_DAYS": [Curated("190", "retired_setting")],
    "QTBOT_HTTP__ALLOWED_HOSTS": [Curated("proxy.example:99999", "port_out_of_range")],
    "QTBOT_DAEMON__CLOCK_START": [Curated("yesterday", "not_iso")],
    "QTBOT_RISK__TAKE_PROFIT_TIERS": [
        Curated("20:60,50:60", "sells_over_100pct"),
        Curated("50:25,20:25", "gains_not_ascending"),
        Curated("abc", "not_pairs"),
    ],
    "QTBOT_STRATEGY__ALLOCATION": [
        Curated("BTC/USDT:60,ETH/USDT:30", "weights_sum_90"),
        Curated("BTC/USDT:60,ETH/BTC:40", "two_quote_currencies"),
        Curated("BTCUSDT:100", "not_a_symbol"),
    ],
    "QTBOT_STRATEGY__CORE_ASSETS": [Curated("btc;eth!", "not_asset_codes")],
    "QTBOT_STRATEGY__LIMIT_OFFSETS_PCT": [
        Curated("abc", "not_a_number", alone=True),
        Curated("150", "over_100pct", alone=True),
    ],
    "QTBOT_STRATEGY__START_REGIMES": [Curated("boom", "unknown_regime")],
    "QTBOT_STRATEGY__PAUSE_REGIMES": [Curated("boom", "unknown_regime")],
    "QTBOT_STRATEGY__ALT_LAG_REFERENCE": [Curated("b-t-c!", "not_an_asset")],
    "QTBOT_SIGNALS__FED_DATA_DIR": [Curated("/nonexistent/fred", "missing")],
    "QTBOT_SIGNALS__FRED_URL": [Curated("notaurl", "not_a_url")],
    "QTBOT_SIGNALS__FED_ANNOUNCEMENTS_PATH": [Curated("/nonexistent/fed.csv", "missing")],
    "QTBOT_SIGNALS__FOMC_CALENDAR_PATH": [Curated("/nonexistent/fomc.csv", "missing")],
    "QTBOT_SIGNALS__LIQUIDATION_FEEDS": [Curated("nosuchvenue", "unknown_feed")],
    "QTBOT_SIGNALS__LIQUIDATION_SYMBOLS": [Curated("???", "not_symbols")],
    "QTBOT_NOTIFY__URLS": [Curated("notaurl-chaos-token", "not_apprise")],
    "QTBOT_NOTIFY__KINDS": [Curated("bogus", "unknown_kind")],
    "QTBOT_CONTROL__TOKEN": [Curated("short-token-chaos", "under_32_chars")],
    "QTBOT_TELEGRAM__TOKEN": [Curated("not-a-bot-token-chaos", "not_a_bot_token")],
    "QTBOT_TELEGRAM__CHAT_IDS": [Curated("@mychannel", "not_chat_ids")],
    "QTBOT_TELEGRAM__API_URL": [Curated("api.telegram.org", "no_scheme")],
}

EXEMPT: dict[str, str] = {
    "QTBOT_DATA_DIR": "any path; an unusable one is refused when the store opens "
    "(tests/badinput/test_files.py)",
    "QTBOT_EXCHANGE__API_KEY": "any text is a possible key",
    "QTBOT_EXCHANGE__SECRET": "any text is a possible secret",
    "QTBOT_EXCHANGE__PASSWORD": "any text is a possible passphrase",
    "QTBOT_SIGNALS__FRED_API_KEY": "any text is a possible key",
    "QTBOT_EXCHANGE__LIVE_CONFIRM": "only compared in live mode (cross-field cases)",
}

# Combinations each of whose values is valid alone.
CROSS: list[BadCase] = [
    BadCase(
        "live_without_confirmation",
        {
            "QTBOT_EXCHANGE__MODE": "live",
            "QTBOT_EXCHANGE__API_KEY": "fake-key-0001",
            "QTBOT_EXCHANGE__SECRET": "fake-secret-0001",
        },
        ("QTBOT_EXCHANGE__LIVE_CONFIRM",),
    ),
    BadCase(
        "live_with_wrong_confirmation",
        {
            "QTBOT_EXCHANGE__MODE": "live",
            "QTBOT_EXCHANGE__LIVE_CONFIRM": "yes",
            "QTBOT_EXCHANGE__API_KEY": "fake-key-0001",
            "QTBOT_EXCHANGE__SECRET": "fake-secret-0001",
        },
        ("QTBOT_EXCHANGE__LIVE_CONFIRM",),
    ),
    BadCase(
        "testnet_without_keys",
        {"QTBOT_EXCHANGE__MODE": "testnet"},
        ("QTBOT_EXCHANGE__API_KEY", "QTBOT_EXCHANGE__SECRET"),
    ),
    BadCase(
        "balance_sheet_exit_above_enter",
        {"QTBOT_SIGNALS__BS_ENTER_CHANGE_PCT": "1", "QTBOT_SIGNALS__BS_EXIT_CHANGE_PCT": "2"},
        ("QTBOT_SIGNALS__BS_EXIT_CHANGE_PCT", "QTBOT_SIGNALS__BS_ENTER_CHANGE_PCT"),
    ),
    BadCase(
        "trailing_armed_after_more_tiers_than_the_ladder_has",
        {"QTBOT_RISK__TAKE_PROFIT_TIERS": "20:25", "QTBOT_RISK__TRAILING_ARM_AFTER_TIERS": "2"},
        ("QTBOT_RISK__TRAILING_ARM_AFTER_TIERS", "QTBOT_RISK__TAKE_PROFIT_TIERS"),
    ),
    BadCase(
        "same_regime_starts_and_pauses",
        {"QTBOT_STRATEGY__START_REGIMES": "easing", "QTBOT_STRATEGY__PAUSE_REGIMES": "easing"},
        ("QTBOT_STRATEGY__START_REGIMES", "QTBOT_STRATEGY__PAUSE_REGIMES"),
    ),
    BadCase(
        "alts_allocated_over_alt_cap",
        {
            "QTBOT_STRATEGY__ALLOCATION": "BTC/USDT:50,SOL/USDT:50",
            "QTBOT_STRATEGY__ALT_CAP_PCT": "30",
        },
        ("QTBOT_STRATEGY__ALLOCATION", "QTBOT_STRATEGY__ALT_CAP_PCT"),
    ),
    BadCase(
        "control_enabled_without_token",
        {"QTBOT_CONTROL__ENABLED": "true", "QTBOT_HTTP__ENABLED": "true"},
        ("QTBOT_CONTROL__ENABLED", "QTBOT_CONTROL__TOKEN"),
    ),
    BadCase(
        "control_enabled_without_http",
        {"QTBOT_CONTROL__ENABLED": "true", "QTBOT_CONTROL__TOKEN": "c" * 40},
        ("QTBOT_CONTROL__ENABLED", "QTBOT_HTTP__ENABLED"),
    ),
    BadCase(
        "telegram_enabled_without_token_and_chats",
        {"QTBOT_TELEGRAM__ENABLED": "true"},
        ("QTBOT_TELEGRAM__TOKEN", "QTBOT_TELEGRAM__CHAT_IDS"),
    ),
]


def field_info(path: tuple[str, ...]) -> tuple[type[BaseModel], FieldInfo]:
    model: type[BaseModel] = Settings
    for part in path[:-1]:
        model = typing.cast(type[BaseModel], model.model_fields[part].annotation)
    return model, model.model_fields[path[-1]]


def _base_type(annotation: Any) -> tuple[Any, bool]:
    """(the non-None type, optional?) of `X`, `X | None`, `Optional[X]`."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return (args[0] if len(args) == 1 else annotation), True
    return annotation, False


def _bounds(field: FieldInfo) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for item in field.metadata:
        if isinstance(item, annotated_types.Ge):
            out.append((f"below_min_{item.ge}", str(Decimal(str(item.ge)) - 1)))
        elif isinstance(item, annotated_types.Gt):
            out.append((f"at_exclusive_min_{item.gt}", str(item.gt)))
        elif isinstance(item, annotated_types.Le):
            out.append((f"above_max_{item.le}", str(Decimal(str(item.le)) + 1)))
        elif isinstance(item, annotated_types.Lt):
            out.append((f"at_exclusive_max_{item.lt}", str(item.lt)))
    return out


def generated(name: str, path: tuple[str, ...]) -> list[tuple[str, str]]:
    """(what, bad value) pairs implied by the field's type and bounds."""
    _model, field = field_info(path)
    kind, _optional = _base_type(field.annotation)
    cases: list[tuple[str, str]] = []
    if kind is bool:
        cases.append(("not_a_bool", "maybe"))
    elif kind is int:
        cases += [("not_a_number", "many"), ("not_an_integer", "1.5")]
    elif kind in (float, Decimal):
        cases.append(("not_a_number", "abc"))
    elif typing.get_origin(kind) is Literal or (isinstance(kind, type) and issubclass(kind, Enum)):
        cases.append(("unknown_choice", "bogus-choice"))
    elif kind in (str, SecretStr, Path):
        return []  # curated or exempt
    return cases + _bounds(field)


def all_cases() -> list[BadCase]:
    cases: list[BadCase] = []
    for name, path in env_names().items():
        for what, value in generated(name, path):
            cases.append(BadCase(f"{name}-{what}", {name: value}, (name,)))
        for cur in CURATED.get(name, []):
            cases.append(
                BadCase(f"{name}-{cur.what}", {name: cur.value}, (name,), cur.xfail, cur.alone)
            )
    return cases + CROSS


def uncovered_names() -> list[str]:
    covered = {n for case in all_cases() for n in case.env} | set(EXEMPT)
    return sorted(set(env_names()) - covered)


def rounds(cases: list[BadCase]) -> list[list[BadCase]]:
    """Single-variable, expected-to-pass cases grouped so that each variable appears at most
    once per round: one CLI run per round checks a line per variable."""
    pending = [c for c in cases if c.single and not c.xfail and not c.alone and c not in CROSS]
    out: list[list[BadCase]] = []
    while pending:
        seen: set[str] = set()
        batch, rest = [], []
        for case in pending:
            if case.single in seen:
                rest.append(case)
            else:
                seen.add(case.single or "")
                batch.append(case)
        out.append(batch)
        pending = rest
    return out
