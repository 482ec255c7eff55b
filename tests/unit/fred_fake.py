"""A fake FRED on loopback serving the shipped series (`fredgraph.csv?id=SERIES`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from bot.signals.shipped_data import SHIPPED_DATA_DIR
from tests.http_loopback import serving


class ShippedFred(BaseHTTPRequestHandler):
    failing = False  # while set, every request gets a 500

    def do_GET(self) -> None:
        series = parse_qs(urlsplit(self.path).query)["id"][0]
        if type(self).failing:
            self.send_response(500)
            self.end_headers()
            return
        body = (SHIPPED_DATA_DIR / f"{series}.csv").read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def fred_serving() -> Iterator[tuple[str, type[ShippedFred]]]:
    """(the series URL, the handler class to make fail): a class of its own per server, so
    `failing` set by one test never reaches another."""
    handler = type("FredHandler", (ShippedFred,), {"failing": False})
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), handler)) as server:
        yield f"http://127.0.0.1:{server.server_port}/fredgraph.csv", handler
