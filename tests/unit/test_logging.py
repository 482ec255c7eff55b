"""Logging: JSON lines with UTC timestamps, stdlib routed through structlog, secrets never shown."""

from __future__ import annotations

import io
import json
import logging
import socket

import pytest
import structlog

from bot.runtime.logs import configure_logging
from exchanges.errors import RetryableError

SECRET = "s3cr3t-VALUE-42abc"


@pytest.fixture
def json_log() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("DEBUG", "json", secrets=[SECRET], stream=stream)
    yield stream
    configure_logging("INFO", "json")


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_have_utc_timestamp_level_event_and_context(json_log: io.StringIO) -> None:
    structlog.get_logger("t").bind(symbol="BTC/USDT").info("tier_taken", tier=1, gain_pct=20.4)
    (line,) = _lines(json_log)
    assert line["event"] == "tier_taken"
    assert line["level"] == "info"
    assert line["symbol"] == "BTC/USDT" and line["tier"] == 1
    assert line["timestamp"].endswith("Z")


def test_stdlib_loggers_are_routed_through_structlog(json_log: io.StringIO) -> None:
    logging.getLogger("ccxt.base").warning("rate limited on %s", "binance")
    (line,) = _lines(json_log)
    assert line["event"] == "rate limited on binance"
    assert line["logger"] == "ccxt.base"


def test_configured_secret_never_appears_in_log_output(json_log: io.StringIO) -> None:
    log = structlog.get_logger("t")
    log.info("connecting", api_key=SECRET)
    log.info("request", url=f"https://api.example/x?signature=abc&key={SECRET}")
    log.info(f"oops {SECRET} in the event text")
    log.info("nested", headers={"X-MBX-APIKEY": SECRET, "ok": [SECRET]})
    logging.getLogger("ccxt").error("POST failed with body %s", {"secret": SECRET})
    try:
        raise RuntimeError(f"failure mentioning {SECRET}")
    except RuntimeError:
        log.exception("failed")
    output = json_log.getvalue()
    assert len(_lines(json_log)) == 6
    assert SECRET not in output
    assert "***" in output


def test_secret_looking_fields_are_masked_even_if_not_configured(json_log: io.StringIO) -> None:
    structlog.get_logger("t").info("login", password="hunter2", token="abc.def.ghi")
    output = json_log.getvalue()
    assert "hunter2" not in output and "abc.def.ghi" not in output


def test_console_format_renders_without_json() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "console", stream=stream)
    structlog.get_logger("t").info("heartbeat", mode="paper")
    configure_logging("INFO", "json")
    assert "heartbeat" in stream.getvalue() and not stream.getvalue().startswith("{")


def _venue_outage() -> RetryableError:
    """The chain a DNS failure produces: gaierror -> the HTTP client's error -> the adapter's."""
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as dns:
            raise ConnectionError("Cannot connect to host api.binance.com:443") from dns
    except ConnectionError as http:
        error = RetryableError("binance: binance GET https://api.binance.com/api/v3/exchangeInfo")
        error.__cause__ = http
        return error


def _log_job_failure(error: Exception) -> None:
    try:
        raise error
    except Exception:
        structlog.get_logger("bot.runtime.daemon").error("job_failed", job="entry", exc_info=True)


def test_an_outage_is_one_warning_line_on_a_console() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "console", stream=stream)
    try:
        _log_job_failure(_venue_outage())
    finally:
        configure_logging("INFO", "json")
    (line,) = stream.getvalue().splitlines()
    assert "warning" in line and "job_failed" in line and "job=entry" in line
    assert "exchangeInfo" in line and "Name or service not known" in line
    assert "Traceback" not in line


def test_the_json_log_keeps_the_outage_structured(json_log: io.StringIO) -> None:
    _log_job_failure(_venue_outage())
    (line,) = _lines(json_log)
    assert line["level"] == "error" and line["event"] == "job_failed"
    frames = line["exception"]
    assert [f["exc_type"] for f in frames] == ["RetryableError", "ConnectionError", "gaierror"]


def test_a_bug_keeps_its_traceback_on_a_console() -> None:
    stream = io.StringIO()
    configure_logging("INFO", "console", stream=stream)
    try:
        _log_job_failure(KeyError("plan"))
    finally:
        configure_logging("INFO", "json")
    assert "Traceback" in stream.getvalue() and "KeyError" in stream.getvalue()
