"""Credentials inside URLs, and blank or padded secrets.

A URL-valued setting (database, exchange REST override, FRED endpoint) can carry a password
(`https://user:pw@host`) or a key in its query (`?api_key=`, `?apikey=`, `?token=`,
`&password=`). `qtbot config` must show none of them, the log redactor must mask them in any
log line, and a secret of only whitespace must be refused in one line.
"""

from __future__ import annotations

import io
import json
import logging
import os
import typing
from pathlib import Path

import pytest
import structlog
from pydantic import SecretStr

from bot.config.settings import ConfigError, env_names, load_settings, public_view, secret_values
from bot.config.url_secrets import mask_url_secrets
from bot.runtime.logs import configure_logging
from tests.badinput.cases import field_info
from tests.conftest import run_qtbot

LONE_USER = "https://{s}@127.0.0.1:8900"
# Each form puts the secret where a URL can hold one.
URL_FORMS = [
    pytest.param("https://bot:{s}@127.0.0.1:8900", id="user_password"),
    pytest.param(LONE_USER, id="token_as_user"),
    pytest.param("https://127.0.0.1:8900/v1?api_key={s}", id="query_api_key"),
    pytest.param("https://127.0.0.1:8900/v1?series=WALCL&apikey={s}", id="query_apikey"),
    pytest.param("https://127.0.0.1:8900/v1?token={s}&x=1", id="query_token"),
    pytest.param("https://127.0.0.1:8900/v1?user=bot&password={s}", id="query_password"),
    pytest.param("https://bot:p%40{s}@127.0.0.1:8900", id="percent_encoded_password"),
    pytest.param("https://bot:p@{s}@127.0.0.1:8900", id="unencoded_at_in_password"),
]
URL_SETTINGS = {
    "QTBOT_EXCHANGE__REST_URL": ("exchange", "rest_url"),
    "QTBOT_SIGNALS__FRED_URL": ("signals", "fred_url"),
}
DB_FORMS = [
    pytest.param("postgresql+psycopg://bot:{s}@db.local:5432/qtbot", id="user_password"),
    pytest.param("postgresql://bot@db.local/qtbot?password={s}", id="query_password"),
    pytest.param("postgresql://bot:p%40{s}@db.local/qtbot", id="percent_encoded_password"),
]
SECRET = "urlsecret-5d1e8b"


def secret_names() -> list[str]:
    """Every setting typed as a secret."""
    return sorted(
        name
        for name, path in env_names().items()
        if SecretStr
        in (field_info(path)[1].annotation, *typing.get_args(field_info(path)[1].annotation))
    )


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.upper().startswith("QTBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize("form", URL_FORMS)
@pytest.mark.parametrize("name", sorted(URL_SETTINGS))
def test_config_view_masks_secrets_in_url_settings(
    clean_env: pytest.MonkeyPatch, name: str, form: str
) -> None:
    clean_env.setenv(name, form.format(s=SECRET))
    view = public_view(load_settings(None))
    section, key = URL_SETTINGS[name]
    assert SECRET not in json.dumps(view)
    assert "***" in view[section][key]
    assert view[section][key].startswith("https://")  # the URL itself stays readable


@pytest.mark.parametrize("form", DB_FORMS)
def test_config_view_masks_database_url_secrets(clean_env: pytest.MonkeyPatch, form: str) -> None:
    clean_env.setenv("QTBOT_DATABASE_URL", form.format(s=SECRET))
    view = public_view(load_settings(None))
    assert SECRET not in json.dumps(view)
    assert "db.local" in view["database_url"] and "***" in view["database_url"]


def test_plain_urls_are_shown_unchanged() -> None:
    for url in (
        "http://127.0.0.1:8321/",
        "sqlite:///data/qtbot.sqlite",
        "https://api.stlouisfed.org/fred/series/observations?series_id=WALCL&file_type=json",
        "https://h/p?email=a@b.example",  # an @ after the ? is not userinfo
    ):
        assert mask_url_secrets(url) == url


@pytest.mark.parametrize("form", URL_FORMS)
def test_url_passwords_and_keys_of_configured_urls_are_redactor_secrets(
    clean_env: pytest.MonkeyPatch, form: str
) -> None:
    clean_env.setenv("QTBOT_EXCHANGE__REST_URL", form.format(s=SECRET))
    listed = any(SECRET in value for value in secret_values(load_settings(None)))
    # A lone user part is masked inside URLs but not listed: it is as often a plain user name
    # (postgresql://qtbot@host), and listed it would blank that word in every log line.
    assert listed is (form != LONE_USER)


def test_database_password_is_a_redactor_secret(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("QTBOT_DATABASE_URL", f"postgresql://bot:{SECRET}@db.local/qtbot")
    assert SECRET in secret_values(load_settings(None))


def test_log_lines_quoting_urls_are_redacted(clean_env: pytest.MonkeyPatch) -> None:
    configured = "cfgsecret-0a9f3c"
    clean_env.setenv("QTBOT_EXCHANGE__REST_URL", f"https://bot:{configured}@127.0.0.1:8900")
    stream = io.StringIO()
    configure_logging("DEBUG", "json", secret_values(load_settings(None)), stream=stream)
    try:
        log = structlog.get_logger("t")
        log.info("request_failed", url=f"https://bot:{SECRET}@venue.example/api")
        log.info(f"GET https://venue.example/x?apikey={SECRET}&symbol=BTCUSDT failed")
        log.warning("fred", error=RuntimeError(f"404 for https://f.example/?api_key={SECRET}"))
        logging.getLogger("aiohttp.client").error(
            "cannot connect to %s", f"https://{SECRET}@venue.example/"
        )
        logging.getLogger("ccxt").warning("retrying %s", f"/api?token={SECRET}")
        log.info("echo", detail=f"the venue echoed {configured} back")  # configured, no URL
        try:
            raise ConnectionError(f"https://venue.example/?password={SECRET}")
        except ConnectionError:
            log.exception("crashed")
    finally:
        configure_logging("INFO", "json")
    output = stream.getvalue()
    assert len(output.splitlines()) == 7
    assert SECRET not in output and configured not in output
    assert output.count("***") >= 7
    assert "venue.example" in output  # only the secret part went


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("QTBOT_DATABASE_URL", "postgresql://bot:{s}@db:notaport/q", id="db_bad_port"),
        pytest.param(
            "QTBOT_EXCHANGE__REST_URL", "https://bot:{s}@a host/?apikey={s}", id="space_in_url"
        ),
        pytest.param("QTBOT_SIGNALS__FRED_URL", "ftp://f.example/?api_key={s}", id="not_http"),
    ],
)
def test_a_refused_url_setting_is_echoed_masked(
    clean_env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    clean_env.setenv(name, value.format(s=SECRET))
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{name}='") and "***" in problem
    assert SECRET not in problem


# --- blank and padded secrets ----------------------------------------------------------------


@pytest.mark.parametrize("name", secret_names())
@pytest.mark.parametrize("blank", ["   ", "\n", " \t\r\n "], ids=["spaces", "newline", "mixed"])
def test_whitespace_only_secret_is_one_config_error(
    clean_env: pytest.MonkeyPatch, name: str, blank: str
) -> None:
    clean_env.setenv(name, blank)
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{name} is only whitespace")
    assert "\n" not in problem


def test_secrets_lose_surrounding_whitespace(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("QTBOT_EXCHANGE__MODE", "testnet")
    clean_env.setenv("QTBOT_EXCHANGE__API_KEY", "  key-with-newline-1234\n")
    clean_env.setenv("QTBOT_EXCHANGE__SECRET", "\tsecret-5678 \r\n")
    clean_env.setenv("QTBOT_SIGNALS__FRED_API_KEY", "fred key 9\n")  # inner space is kept
    settings = load_settings(None)
    assert settings.exchange.api_key is not None and settings.exchange.secret is not None
    assert settings.exchange.api_key.get_secret_value() == "key-with-newline-1234"
    assert settings.exchange.secret.get_secret_value() == "secret-5678"
    assert settings.signals.fred_api_key is not None
    assert settings.signals.fred_api_key.get_secret_value() == "fred key 9"


def test_cli_refuses_a_blank_key_in_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text('QTBOT_EXCHANGE__SECRET="  "\n')
    result = run_qtbot("run", "--once", cwd=tmp_path, env={"QTBOT_EXCHANGE__API_KEY": "   "})
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == [
        "qtbot: config error: QTBOT_EXCHANGE__API_KEY and QTBOT_EXCHANGE__SECRET are only "
        "whitespace: paste the value itself (surrounding spaces and newlines are dropped), "
        "or leave it empty"
    ]
    assert not (tmp_path / "data").exists()  # refused before anything was created


def test_cli_config_shows_no_url_secret(tmp_path: Path) -> None:
    env = {
        "QTBOT_DATABASE_URL": f"sqlite:///{tmp_path}/q.sqlite?password={SECRET}a",
        "QTBOT_EXCHANGE__REST_URL": f"https://bot:{SECRET}b@127.0.0.1:8900/?apikey={SECRET}c",
        "QTBOT_SIGNALS__FRED_URL": f"https://127.0.0.1:8900/fred?api_key={SECRET}d&token=x{SECRET}",
    }
    text = run_qtbot("config", cwd=tmp_path, env=env)
    as_json = run_qtbot("config", "--json", cwd=tmp_path, env=env)
    for result in (text, as_json):
        assert result.returncode == 0, result.stderr
        assert SECRET not in result.stdout + result.stderr
    assert "QTBOT_EXCHANGE__REST_URL=https://bot:***@127.0.0.1:8900/?apikey=***" in text.stdout
    assert json.loads(as_json.stdout)["signals"]["fred_url"] == (
        "https://127.0.0.1:8900/fred?api_key=***&token=***"
    )
