"""Config: defaults, validation messages naming the variable, typos, live confirmation, .env."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.config.settings import ConfigError, Settings, env_names, load_settings, public_view
from bot.config.values import parse_allocation
from risk.take_profit import TakeProfitTier, parse_take_profit_tiers


def test_defaults_are_paper_mode_with_playbook_tiers(workdir: Path) -> None:
    settings = load_settings()
    assert settings.exchange.mode == "paper"
    assert settings.exchange.id == "binance"
    assert parse_take_profit_tiers(settings.risk.take_profit_tiers) == (
        TakeProfitTier(Decimal("0.2"), Decimal("0.25")),
        TakeProfitTier(Decimal("0.5"), Decimal("0.25")),
    )
    assert settings.effective_database_url == "sqlite:///data/qtbot.sqlite"


def test_public_names_from_the_contract_are_accepted() -> None:
    contract = [
        "QTBOT_EXCHANGE__ID",
        "QTBOT_EXCHANGE__MODE",
        "QTBOT_EXCHANGE__API_KEY",
        "QTBOT_EXCHANGE__SECRET",
        "QTBOT_EXCHANGE__PASSWORD",
        "QTBOT_EXCHANGE__LIVE_CONFIRM",
        "QTBOT_EXCHANGE__REST_URL",
        "QTBOT_DATABASE_URL",
        "QTBOT_LOG__LEVEL",
        "QTBOT_LOG__FORMAT",
        "QTBOT_HTTP__ENABLED",
        "QTBOT_HTTP__HOST",
        "QTBOT_HTTP__PORT",
        "QTBOT_STRATEGY__BUDGET",
        "QTBOT_STRATEGY__ALLOCATION",
        "QTBOT_STRATEGY__TRANCHES",
        "QTBOT_STRATEGY__ENTRY_WINDOW_DAYS",
        "QTBOT_RISK__TAKE_PROFIT_TIERS",
        "QTBOT_RISK__TRAILING_STOP_PCT",
        "QTBOT_RISK__STOP_LOSS_PCT",
        "QTBOT_RISK__RISK_OFF",
        "QTBOT_SIGNALS__FED_SOURCE",
        "QTBOT_SIGNALS__FED_DATA_DIR",
        "QTBOT_SIGNALS__FRED_API_KEY",
        "QTBOT_SIGNALS__REGIME_OVERRIDE",
    ]
    assert set(contract) <= set(env_names())


def _problems(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    return info.value.problems


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(
            {"QTBOT_EXCHANGE__MODE": "lve"}, "QTBOT_EXCHANGE__MODE='lve'", id="unknown_mode"
        ),
        pytest.param(
            {"QTBOT_RISK__TRAILING_STOP_PCT": "ten"},
            "QTBOT_RISK__TRAILING_STOP_PCT='ten': Input should be a valid number",
            id="wrong_type",
        ),
        pytest.param(
            {"QTBOT_RISK__STOP_LOSS_PCT": "150"},
            "QTBOT_RISK__STOP_LOSS_PCT='150': Input should be less than 100",
            id="out_of_range",
        ),
        pytest.param(
            {"QTBOT_SIGNALS__FLUSH_MIN_LONG_USD": "inf"},
            "QTBOT_SIGNALS__FLUSH_MIN_LONG_USD='inf': Input should be a finite number",
            id="infinite_number",
        ),
        pytest.param(
            {"QTBOT_RISK__STOP_LOSS_PCT": "nan"},
            "QTBOT_RISK__STOP_LOSS_PCT='nan'",
            id="not_a_number",
        ),
        pytest.param(
            {"QTBOT_HTTP__PORT": "70000"}, "QTBOT_HTTP__PORT='70000'", id="port_out_of_range"
        ),
        pytest.param(
            {
                "QTBOT_EXCHANGE__MODE": "live",
                "QTBOT_EXCHANGE__API_KEY": "k",
                "QTBOT_EXCHANGE__SECRET": "s",
            },
            "QTBOT_EXCHANGE__LIVE_CONFIRM=I-UNDERSTAND",
            id="live_without_confirmation",
        ),
        pytest.param(
            {
                "QTBOT_EXCHANGE__MODE": "live",
                "QTBOT_EXCHANGE__API_KEY": "k",
                "QTBOT_EXCHANGE__SECRET": "s",
                "QTBOT_EXCHANGE__LIVE_CONFIRM": "yes",
            },
            "live mode trades real money",
            id="live_with_wrong_confirmation",
        ),
        pytest.param(
            {"QTBOT_EXCHANGE__MODE": "testnet"},
            "testnet mode needs exchange keys: set QTBOT_EXCHANGE__API_KEY and "
            "QTBOT_EXCHANGE__SECRET",
            id="testnet_without_keys",
        ),
        pytest.param(
            {"QTBOT_RISK__TAKE_PROFIT_TIERS": "20:60,50:50"},
            "sell percentages sum to 110%",
            id="tiers_over_100_percent",
        ),
        pytest.param(
            {"QTBOT_RISK__TAKE_PROFIT_TIERS": "50:25,20:25"},
            "gains strictly increasing",
            id="tiers_not_increasing",
        ),
        pytest.param(
            {"QTBOT_RISK__TRAILING_ACTIVATION_PCT": "5"},
            "TRAILING_ACTIVATION_PCT=5 arms the 20% trailing stop 16.00% below the entry price, "
            "locking in a loss: set the activation to at least 25.00",
            id="trailing_armed_below_entry",
        ),
        pytest.param(
            {"QTBOT_RISK__TRAILING_ACTIVATION_PCT": "17.64", "QTBOT_RISK__TRAILING_STOP_PCT": "15"},
            "at least 17.65",
            id="trailing_armed_just_below_entry",
        ),
        pytest.param(
            {
                "QTBOT_RISK__TRAILING_ACTIVATION_PCT": "10000",
                "QTBOT_RISK__TRAILING_STOP_PCT": "99.5",
            },
            "QTBOT_RISK__TRAILING_STOP_PCT=99.5 is so wide that no activation up to 10000%",
            id="trailing_too_wide_for_any_activation",
        ),
        pytest.param(
            {"QTBOT_STRATEGY__ALLOCATION": "BTC/USDT:60,ETH/USDT:30"},
            "weights sum to 90, they must sum to 100",
            id="allocation_not_100",
        ),
        pytest.param(
            {"QTBOT_STRATEGY__ALLOCATION": "BTCUSDT:100"},
            "'BTCUSDT' is not a spot symbol",
            id="allocation_bad_symbol",
        ),
        pytest.param(
            {"QTBOT_EXCHANGE__ID": "binanse"}, "did you mean binance?", id="exchange_typo"
        ),
        pytest.param(
            {"QTBOT_RISK__STOP_LOS_PCT": "5"},
            "QTBOT_RISK__STOP_LOS_PCT: unknown setting; did you mean QTBOT_RISK__STOP_LOSS_PCT?",
            id="typo_in_variable_name",
        ),
        pytest.param(
            {"QTBOT_EXCHANGE__REST_URL": "localhost:8900"},
            "must be an http(s) URL",
            id="rest_url_without_scheme",
        ),
        pytest.param(
            {"QTBOT_SIGNALS__REGIME_OVERRIDE": "bullish"},
            "QTBOT_SIGNALS__REGIME_OVERRIDE='bullish'",
            id="unknown_regime_override",
        ),
        pytest.param(
            {"QTBOT_LOG__FORMAT": "xml"}, "QTBOT_LOG__FORMAT='xml'", id="unknown_log_format"
        ),
        pytest.param(
            {"QTBOT_STRATEGY__BUDGET": "-5"},
            "QTBOT_STRATEGY__BUDGET='-5': Input should be greater than 0",
            id="negative_budget",
        ),
    ],
)
def test_invalid_setting_names_variable_value_and_fix(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    problems = _problems(monkeypatch, env)
    assert any(expected in p for p in problems), problems


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(
        monkeypatch,
        {
            "QTBOT_EXCHANGE__MODE": "x",
            "QTBOT_HTTP__PORT": "0",
            "QTBOT_RISK__TRAILING_STOP_PCT": "y",
        },
    )
    assert len(problems) == 3


def test_secret_value_is_not_echoed_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(
        monkeypatch,
        {
            "QTBOT_EXCHANGE__MODE": "live",
            "QTBOT_EXCHANGE__API_KEY": "sekrit-9f8e7d",
            "QTBOT_EXCHANGE__SECRET": "sekrit-1a2b3c",
        },
    )
    assert problems and not any("sekrit" in p for p in problems)


def test_dotenv_file_is_read_and_typos_in_it_are_errors(workdir: Path) -> None:
    Path(".env").write_text("QTBOT_RISK__STOP_LOSS_PCT=12\n")
    assert load_settings().risk.stop_loss_pct == 12
    Path(".env").write_text("QTBOT_RISK__TRAILNG_STOP_PCT=12\n")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "did you mean QTBOT_RISK__TRAILING_STOP_PCT?" in info.value.problems[0]


def test_environment_overrides_dotenv(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text("QTBOT_RISK__STOP_LOSS_PCT=12\n")
    monkeypatch.setenv("QTBOT_RISK__STOP_LOSS_PCT", "7")
    assert load_settings().risk.stop_loss_pct == 7


def test_empty_value_means_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTBOT_RISK__STOP_LOSS_PCT", "")
    assert load_settings(None).risk.stop_loss_pct == Settings().risk.stop_loss_pct


def test_public_view_masks_every_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTBOT_EXCHANGE__MODE", "testnet")
    monkeypatch.setenv("QTBOT_EXCHANGE__API_KEY", "key-AAAA1111")
    monkeypatch.setenv("QTBOT_EXCHANGE__SECRET", "sec-BBBB2222")
    monkeypatch.setenv("QTBOT_EXCHANGE__PASSWORD", "pw-CCCC3333")
    monkeypatch.setenv("QTBOT_SIGNALS__FRED_API_KEY", "fred-DDDD4444")
    monkeypatch.setenv("QTBOT_DATABASE_URL", "postgresql://bot:db-EEEE5555@localhost/qtbot")
    text = repr(public_view(load_settings(None)))
    for secret in ("AAAA1111", "BBBB2222", "CCCC3333", "DDDD4444", "EEEE5555"):
        assert secret not in text


def test_allocation_parser_rejects_mixed_quotes() -> None:
    with pytest.raises(ValueError, match="one quote currency"):
        parse_allocation("BTC/USDT:50,ETH/BTC:50")


def test_off_turns_an_optional_rule_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QTBOT_RISK__STOP_LOSS_PCT", "off")
    monkeypatch.setenv("QTBOT_RISK__TRAILING_STOP_PCT", "OFF")
    monkeypatch.setenv("QTBOT_STRATEGY__ANTI_CHASE_PCT", "none")
    settings = load_settings(None)
    assert settings.risk.stop_loss_pct is None and settings.risk.trailing_stop_pct is None
    assert settings.strategy.anti_chase_pct is None


def test_off_is_refused_where_a_rule_cannot_be_off(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(monkeypatch, {"QTBOT_RISK__MAX_OPEN_POSITIONS": "off"})
    assert problems[0].startswith("QTBOT_RISK__MAX_OPEN_POSITIONS='off'")


def test_strategy_cross_field_rules_are_config_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(
        monkeypatch,
        {
            "QTBOT_STRATEGY__START_REGIMES": "easing,tightening",
            "QTBOT_STRATEGY__PAUSE_REGIMES": "tightening",
        },
    )
    assert any("cannot both start plans and pause them" in p for p in problems)


def test_alts_over_the_alt_cap_are_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    problems = _problems(
        monkeypatch,
        {
            "QTBOT_STRATEGY__ALLOCATION": "BTC/USDT:50,SOL/USDT:50",
            "QTBOT_STRATEGY__ALT_CAP_PCT": "30",
        },
    )
    assert any("gives alts 50%" in p and "QTBOT_STRATEGY__ALT_CAP_PCT" in p for p in problems)


@pytest.mark.parametrize(
    "env",
    [
        pytest.param(
            {"QTBOT_RISK__TRAILING_ACTIVATION_PCT": "17.65", "QTBOT_RISK__TRAILING_STOP_PCT": "15"},
            id="armed_above_entry",
        ),
        pytest.param({"QTBOT_RISK__TRAILING_ACTIVATION_PCT": "25"}, id="armed_above_entry_default"),
        pytest.param(
            {"QTBOT_RISK__TRAILING_ACTIVATION_PCT": "5", "QTBOT_RISK__TRAILING_STOP_PCT": "4"},
            id="tight_trail_early_activation",
        ),
        pytest.param(
            {"QTBOT_RISK__TRAILING_ACTIVATION_PCT": "5", "QTBOT_RISK__TRAILING_STOP_PCT": "off"},
            id="no_trailing_stop",
        ),
    ],
)
def test_trailing_activation_that_arms_above_entry_is_accepted(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_settings(None).risk.trailing_activation_pct is not None
