"""Deterministic client order ids: the same cause always gives the same id.

The order manager derives the id from what caused the order (plan, tranche, tier, attempt...),
so a retry after a crash or an unknown outcome reuses the id and the venue (or our lookup by
client id) recognises the order instead of placing it twice.

An id is the venue's prefix ("qtbot-", or "qtbot" where '-' is not allowed) followed by a
base-36 SHA-256 digest of the cause parts, filling the venue's maximum length. Base-36 digits
(0-9a-z) are valid on every venue we know; the shortest suffix (okx: 27 characters) still
carries ~139 bits.
"""

from __future__ import annotations

import hashlib
import string

from exchanges.venues import ClientIdRules, venue_spec

_DIGITS = string.digits + string.ascii_lowercase


def _base36(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 36)
        chars.append(_DIGITS[digit])
    return "".join(reversed(chars))


def _cause_digest(cause_parts: tuple[str, ...]) -> int:
    # Length-prefixed so ("ab", "c") and ("a", "bc") never collide.
    encoded = "".join(f"{len(p)}:{p};" for p in cause_parts).encode()
    return int.from_bytes(hashlib.sha256(encoded).digest(), "big")


def make_client_order_id(rules: ClientIdRules, *cause_parts: str) -> str:
    """The id for this cause under these rules; raises ValueError without a cause."""
    if not cause_parts:
        raise ValueError("a client order id needs at least one cause part")
    width = rules.max_length - len(rules.prefix)
    if width < 16:
        raise ValueError(f"venue allows only {rules.max_length} characters: too few for an id")
    client_id = rules.prefix + _base36(_cause_digest(cause_parts), width)
    if not rules.is_valid(client_id):  # pragma: no cover - guards a bad ClientIdRules entry
        raise ValueError(f"generated id {client_id!r} breaks the venue's rules")
    return client_id


def client_order_id(exchange_id: str, *cause_parts: str) -> str:
    """Deterministic client order id for `exchange_id` (e.g. "binance") from the cause, e.g.
    `client_order_id("binance", "plan-7", "tranche-2", "attempt-1")`."""
    return make_client_order_id(venue_spec(exchange_id).client_ids, *cause_parts)


def is_valid_client_order_id(exchange_id: str, client_order_id: str) -> bool:
    """Whether the venue would accept this id (length and charset)."""
    return venue_spec(exchange_id).client_ids.is_valid(client_order_id)
