"""Which Host headers the status server answers: a guard against DNS rebinding.

A web page on an attacker's domain can make the browser resolve that domain to 127.0.0.1 and
read the loopback status page as "same origin". The browser still sends the attacker's name in
the Host header, so answering only the names the server is really reached by closes that hole.

Served by default: the bound host, `localhost`, `127.0.0.1` and `[::1]`, with any port or none.
The port is not what a rebinding attack varies (it needs its own name), and the port a browser
sends differs from the bound one behind `ssh -L 9000:127.0.0.1:8321` or `docker -p 9000:8321`.
`QTBOT_HTTP__ALLOWED_HOSTS` adds names (a reverse proxy's): `name` matches any port,
`name:port` only that one.
"""

from __future__ import annotations

import ipaddress

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
REFUSAL = "421 Misdirected Request: this host name is not served (see QTBOT_HTTP__ALLOWED_HOSTS)"


def _name_and_port(host: str) -> tuple[str, int | None] | None:
    """("name", port or None) of a Host header value, or None if it is malformed."""
    host = host.strip().lower()
    if host.startswith("["):  # an IPv6 literal: [::1] or [::1]:8321
        end = host.find("]")
        name, rest = host[: end + 1], host[end + 1 :]
        if end < 0 or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:] if rest else None
    else:
        name, colon, after = host.partition(":")
        port_text = after if colon else None
    if not name or (port_text is not None and not port_text.isdigit()):
        return None
    return name, None if port_text is None else int(port_text)


def _as_host_name(bound_host: str) -> str:
    try:
        address = ipaddress.ip_address(bound_host)
    except ValueError:
        return bound_host.lower()
    return f"[{address}]" if address.version == 6 else str(address)


def host_allowed(header: str | None, bound_host: str, extra: tuple[str, ...]) -> bool:
    """Whether a request with Host `header` may be answered."""
    parsed = _name_and_port(header) if header else None
    if parsed is None:
        return False
    name, port = parsed
    if name in (_as_host_name(bound_host), *LOOPBACK_NAMES):
        return True
    for entry in extra:
        allowed = _name_and_port(entry)
        if allowed is not None and allowed[0] == name and allowed[1] in (None, port):
            return True
    return False


def host_guard(bound_host: str, extra: tuple[str, ...]) -> Middleware:
    """aiohttp middleware: 421 with a short text, and no data, for any other Host."""

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not host_allowed(request.headers.get("Host"), bound_host, extra):
            return web.Response(status=421, text=REFUSAL)
        return await handler(request)

    return guard
