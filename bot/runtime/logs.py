"""structlog set up once: JSON lines or console, stdlib loggers routed through it, secrets redacted.

The redactor runs last in every chain (structlog's own events and stdlib records from ccxt,
apscheduler or sqlalchemy alike), so a secret cannot reach a log line whatever logged it.

On a console, a venue or data outage (an exception whose chain holds a retryable venue error,
a failed FRED download, a DNS or connection failure) is one warning line naming what could
not be reached: the daemon rides it out and retries, a 70-line traceback would bury it. The
JSON log keeps the caller's level and the structured exception.
"""

from __future__ import annotations

import logging
import re
import socket
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

from bot.config.settings import Settings, secret_values
from bot.config.url_secrets import mask_url_secrets
from bot.feeds.fred_sources import FredFetchError
from exchanges.errors import RetryableError

REDACTED = "***"
_SENSITIVE_KEY = re.compile(r"(api[_-]?key|secret|password|passphrase|token|signature)", re.I)
# Query-string and header forms that venues and FRED use, e.g. ?api_key=..., X-MBX-APIKEY: ...
_SENSITIVE_INLINE = re.compile(
    r"((?:api[_-]?key|apikey|secret|password|passphrase|token|signature)[\"']?\s*[=:]\s*[\"']?)"
    r"([^\s&\"',;}]+)",
    re.I,
)


class SecretRedactor:
    """structlog processor: masks known secret values and secret-looking fields in an event."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def _clean(self, value: Any, key: str | None = None) -> Any:
        if key is not None and _SENSITIVE_KEY.search(key) and value not in (None, "", False):
            return REDACTED
        if isinstance(value, str):
            for secret in self._secrets:
                value = value.replace(secret, REDACTED)
            # Credentials inside any URL (user:pw@, ?api_key=), configured or not: a library's
            # error message quotes the URL it failed on.
            value = mask_url_secrets(value)
            return _SENSITIVE_INLINE.sub(rf"\1{REDACTED}", value)
        if isinstance(value, dict):
            return {k: self._clean(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._clean(v) for v in value)
        if isinstance(value, BaseException):
            return self._clean(repr(value))
        return value

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
        for key in list(event):
            if key in ("_record", "_from_structlog"):
                continue
            event[key] = self._clean(event[key], None if key == "event" else key)
        return event


# An exception anywhere in the chain of one of these means "could not reach it", not a bug.
OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    RetryableError,
    FredFetchError,
    ConnectionError,
    TimeoutError,
    socket.gaierror,
)
MAX_OUTAGE_TEXT = 300


def _exception_of(exc_info: Any) -> BaseException | None:
    if exc_info is True:
        exc_info = sys.exc_info()
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        value = exc_info[1]
        return value if isinstance(value, BaseException) else None
    return None


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def outage_text(exc: BaseException) -> str | None:
    """One line for an outage (what failed, and the root cause), or None for any other error."""
    chain = _chain(exc)
    if not any(isinstance(e, OUTAGE_TYPES) for e in chain):
        return None
    top, root = chain[0], chain[-1]
    text = f"{type(top).__name__}: {top}"
    if root is not top:
        text += f" <- {type(root).__name__}: {root}"
    return " ".join(text.split())[:MAX_OUTAGE_TEXT]


def outage_as_one_line(logger: Any, method: str, event: MutableMapping[str, Any]) -> Any:
    """structlog processor (console only): an outage's traceback becomes an `outage` field."""
    exc = _exception_of(event.get("exc_info"))
    text = None if exc is None else outage_text(exc)
    if text is None:
        return event
    del event["exc_info"]
    event["outage"] = text
    event["level"] = "warning"  # the daemon carries on and retries: nothing to fix in qtbot
    return event


def configure_cli_logging(settings: Settings) -> None:
    """Logging for a command that prints a report: only errors, on stderr (stdout is the
    report, or its JSON); the warnings the report carries itself are not printed twice."""
    configure_logging("ERROR", settings.log.format, secret_values(settings), stream=sys.stderr)


def configure_logging(
    level: str = "INFO",
    fmt: str = "auto",
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> None:
    """Configure structlog and the stdlib root logger; safe to call again (tests do)."""
    stream = stream or sys.stderr
    if fmt == "auto":
        fmt = "console" if stream.isatty() else "json"
    redactor = SecretRedactor(secrets)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    renderer: Any
    if fmt == "json":
        # No local variables in tracebacks: they are where secrets would hide.
        tail: list[Any] = [
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        ]
        renderer = structlog.processors.JSONRenderer(default=str)
    else:
        tail = [outage_as_one_line, structlog.processors.format_exc_info]
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())

    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Exceptions are rendered to data first so the redactor sees their text too.
            *tail,
            redactor,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Chatty libraries: their INFO is our DEBUG.
    for name in ("apscheduler", "sqlalchemy", "ccxt", "aiohttp", "asyncio"):
        logging.getLogger(name).setLevel(max(logging.getLevelName(level), logging.WARNING))
