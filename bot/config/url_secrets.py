"""Credentials carried inside URLs: masked for display, listed for the log redactor.

A URL can hold a secret in two places: its userinfo (`https://user:pw@host`, or a token alone
as in `https://token@host`) and its query string (`?api_key=...`, `?token=...`,
`&password=...`). Both are masked wherever a URL is shown: settings (`qtbot config`) and any
string a log line carries.

Parsing is deliberately generous: the userinfo runs to the last `@` before the query, so an
unencoded `@` in a password (`u:p@ss@host`) is masked whole. Where that misreads a URL (a path
containing `@`), the result is masked too much, never too little.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

MASK = "***"

# A URL inside free text: scheme://, then anything up to whitespace, a quote or a bracket.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+")
# Query parameter names that carry credentials: api_key, apikey, access_token, password,
# passwd, passphrase, client_secret, signature, auth, key, ...
_SECRET_PARAM = re.compile(r"key|token|secret|pass|pwd|signature|auth|credential", re.I)
_PARAM = re.compile(r"(?P<lead>^|[&;])(?P<name>[^=&;#]*)=(?P<value>[^&;#]*)")


def _userinfo_end(rest: str) -> int:
    """Index of the `@` ending the userinfo in `rest` (the URL after `scheme://`), or -1."""
    query = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    return rest.rfind("@", 0, query)


def _split(url: str) -> tuple[str, str, str, str]:
    """(scheme://, userinfo, rest after the `@`, query without `?`) of one URL."""
    scheme, _, rest = url.partition("://")
    at = _userinfo_end(rest)
    userinfo, after = (rest[:at], rest[at + 1 :]) if at >= 0 else ("", rest)
    query = after.partition("?")[2].partition("#")[0]
    return scheme + "://", userinfo, after, query


def _mask_one(url: str) -> str:
    head, userinfo, after, _query = _split(url)
    if userinfo:
        user, colon, password = userinfo.partition(":")
        if not colon:  # a lone userinfo is usually a token (https://<token>@host)
            userinfo = MASK
        elif password:  # user:password keeps the user: who connects is useful to see
            userinfo = f"{user}:{MASK}"
        after = f"{userinfo}@{after}"
    path, question, query = after.partition("?")
    if question:
        query = _PARAM.sub(_mask_param, query)
    return head + path + question + query


def _mask_param(match: re.Match[str]) -> str:
    if not match["value"] or not _SECRET_PARAM.search(match["name"]):
        return match[0]
    return f"{match['lead']}{match['name']}={MASK}"


def mask_url_secrets(text: str) -> str:
    """`text` with the password (or lone token) and secret query values of every URL in it
    replaced by `***`; everything else unchanged."""
    if "://" not in text:
        return text
    return _URL.sub(lambda m: _mask_one(m[0]), text)


def mask_url(value: str) -> str:
    """`value`, read as one URL even where it is malformed (a space inside, say), with its
    secrets masked: for echoing a refused URL setting back in an error message."""
    return _mask_one(value) if "://" in value else value


def url_secrets(text: str) -> list[str]:
    """The passwords and secret query values of every URL in `text` (as written and
    percent-decoded), for the log redactor's list of values to mask wherever they appear.

    A lone userinfo is left out: it is as often a plain user name (postgresql://qtbot@host),
    which masked everywhere would blank ordinary words; inside a URL it is masked anyway."""
    found: list[str] = []
    for match in _URL.finditer(text):
        _head, userinfo, _after, query = _split(match[0])
        password = userinfo.partition(":")[2]
        parts = [password]
        parts += [m["value"] for m in _PARAM.finditer(query) if _SECRET_PARAM.search(m["name"])]
        for part in parts:
            found += [p for p in {part, unquote(part)} if p and p != MASK]
    return found
