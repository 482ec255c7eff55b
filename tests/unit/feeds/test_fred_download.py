"""`qtbot download-data --fed` against a loopback fake of FRED's CSV download."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner, Result

from bot.cli.main import app
from bot.feeds.fed_inputs import inputs_from_directory
from tests.http_loopback import serving


class FakeFred:
    """`/fredgraph.csv?id=SERIES[&cosd=YYYY-MM-DD]` from `series`; `failing` answers 500."""

    def __init__(self) -> None:
        start = date(2024, 1, 3)
        self.series: dict[str, list[tuple[date, str]]] = {
            "WALCL": [(start + timedelta(weeks=i), str(7_700_000 + i)) for i in range(10)],
            "DFEDTARU": [(start + timedelta(days=i), "5.50") for i in range(60)],
            "DFEDTARL": [(start + timedelta(days=i), "5.25") for i in range(60)],
            "DFF": [(start + timedelta(days=i), "." if i == 5 else "5.33") for i in range(60)],
        }
        self.failing: set[str] = set()
        self.queries: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                fake.queries.append(query)
                series_id = query.get("id", "")
                if series_id in fake.failing or series_id not in fake.series:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                since = date.fromisoformat(query.get("cosd", "1900-01-01"))
                rows = [f"{d.isoformat()},{v}\n" for d, v in fake.series[series_id] if d >= since]
                body = (f"observation_date,{series_id}\n" + "".join(rows)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fredgraph.csv"


@pytest.fixture
def fred() -> Iterator[FakeFred]:
    fake = FakeFred()
    with serving(fake.httpd):
        yield fake


def _fed(fred: FakeFred, tmp_path: Path, datadir: str = "data") -> Result:
    env: dict[str, str | None] = dict.fromkeys(k for k in os.environ if k.startswith("QTBOT_"))
    env["QTBOT_SIGNALS__FRED_URL"] = fred.url
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        return CliRunner().invoke(app, ["download-data", "--fed", "--datadir", datadir], env=env)


def test_fed_series_land_where_the_regime_reads_them(fred: FakeFred, tmp_path: Path) -> None:
    result = _fed(fred, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        "FRED WALCL: +10 observations (last 2024-03-06), 10 rows in data/WALCL.csv"
    )
    inputs = inputs_from_directory(tmp_path / "data")
    assert len(inputs.walcl) == 10 and inputs.effective_rate is not None
    assert len(inputs.effective_rate) == 59  # the "." day is a gap, kept in the file
    dff = (tmp_path / "data" / "DFF.csv").read_text().splitlines()
    assert dff[0] == "observation_date,DFF" and dff[6] == "2024-01-08,."
    assert all("cosd" not in q for q in fred.queries)


def test_a_rerun_asks_only_from_the_last_date_and_takes_revisions(
    fred: FakeFred, tmp_path: Path
) -> None:
    assert _fed(fred, tmp_path).exit_code == 0
    walcl = fred.series["WALCL"]
    last_day = walcl[-1][0]
    walcl[-1] = (last_day, "7700100")  # FRED revises the last week
    walcl.append((last_day + timedelta(weeks=1), "7700200"))
    fred.queries.clear()
    result = _fed(fred, tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "FRED WALCL: +1 observations (last 2024-03-13), 11 rows" in result.stdout
    assert fred.queries[0] == {"id": "WALCL", "cosd": last_day.isoformat()}
    assert _fed(fred, tmp_path, "fresh").exit_code == 0
    for name in ("WALCL", "DFEDTARU", "DFEDTARL", "DFF"):
        assert (tmp_path / "data" / f"{name}.csv").read_bytes() == (
            tmp_path / "fresh" / f"{name}.csv"
        ).read_bytes()


def test_a_failed_series_is_one_line_and_its_file_is_unchanged(
    fred: FakeFred, tmp_path: Path
) -> None:
    assert _fed(fred, tmp_path).exit_code == 0
    before = (tmp_path / "data" / "DFF.csv").read_bytes()
    fred.failing.add("DFF")
    result = _fed(fred, tmp_path)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("qtbot: FRED DFF: HTTP 500")
    assert "DFF.csv is unchanged" in result.stderr
    assert (tmp_path / "data" / "DFF.csv").read_bytes() == before
    assert not list((tmp_path / "data").glob("*.tmp"))
