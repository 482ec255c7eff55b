"""Apprise, imported only when needed, and the check that notification URLs are usable."""

from __future__ import annotations

import contextlib
import importlib
import logging
import warnings
from collections.abc import Sequence
from typing import Any


def import_apprise() -> Any:
    # Apprise imports the deprecated stdlib `imghdr` (lazily, in its PGP helper); that warning
    # is theirs, not ours.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise  # noqa: PLC0415 - ~0.3 s: only when notifications are set up

        with contextlib.suppress(ImportError):
            importlib.import_module("apprise.utils.pgp")
    apprise_log = logging.getLogger("apprise")
    if apprise_log.level == logging.NOTSET:
        # Apprise's INFO/DEBUG lines can carry service URLs, and those carry tokens.
        apprise_log.setLevel(logging.WARNING)
    return apprise


def invalid_urls(urls: Sequence[str]) -> list[int]:
    """1-based positions of the URLs Apprise cannot use (its own log of them is muted: the
    rejected text may be a token)."""
    apprise = import_apprise()
    apprise_log = logging.getLogger("apprise")
    was = apprise_log.disabled
    apprise_log.disabled = True
    try:
        return [i for i, url in enumerate(urls, start=1) if not apprise.Apprise().add(url)]
    finally:
        apprise_log.disabled = was
