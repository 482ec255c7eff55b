"""The status page's HTML: self-contained (no external URL, no script), a phone viewport and
layout, the closed trades, the account also offline, one price chart per symbol with its
entries, tier sales, stops; checked on the structure, not in a browser (CI has none: the
browser check is scripts/screenshot_status_page.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bot.ops.web.health import Check, HealthReport
from bot.ops.web.page import render_page
from bot.ops.web.snapshot import take_snapshot
from bot.services.context import Context
from tests.unit.ops.seed import NOW, make_context
from tests.unit.ops.trade_fixture import END, build_lifecycle, build_page_store

HEALTHY = HealthReport((Check("heartbeat", True, "2 s ago"),))
VOID = {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "wbr", "source"}
SVG_LEAVES = {"line", "polyline", "circle", "path", "rect"}


class _Outline(HTMLParser):
    """Tags in order, checking each closes what it opened (a broken table shows as a mess)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    parser.close()
    assert parser.errors == [] and parser.stack == [], (parser.errors, parser.stack)
    return parser


@pytest.fixture(scope="module")
def page_ctx(tmp_path_factory: pytest.TempPathFactory) -> Context:
    return build_page_store(tmp_path_factory.mktemp("page"))


@pytest.fixture(scope="module")
def page(page_ctx: Context) -> str:
    return render_page(take_snapshot(page_ctx, END), HEALTHY, END)


def test_the_page_needs_nothing_from_elsewhere(page: str) -> None:
    outline = _outline(page)
    names = {tag for tag, _ in outline.tags}
    assert not names & {"script", "link", "img", "iframe", "object", "embed"}
    assert all(not k.startswith("on") for _, attrs in outline.tags for k in attrs)
    # The only URL is the SVG namespace name, which is never fetched.
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "url(" not in page and "@import" not in page


def test_phone_viewport_and_layout(page: str) -> None:
    outline = _outline(page)
    viewport = [a for t, a in outline.tags if t == "meta" and a.get("name") == "viewport"]
    assert viewport and "width=device-width" in (viewport[0]["content"] or "")
    assert "@media (max-width:600px)" in page and ".opt{display:none}" in page
    # Every table scrolls sideways inside its own box instead of widening the page.
    tables = page.count("<table>")
    assert tables >= 5 and page.count('<div class="scroll"><table>') == tables
    # Charts scale to the width they are given.
    svgs = [a for t, a in outline.tags if t == "svg"]
    assert len(svgs) == 3 and all("width" not in a and "viewbox" in a for a in svgs)


def _section(page: str, heading: str) -> str:
    start = page.index(f"<h2>{heading}</h2>")
    end = page.find("<h2>", start + 4)
    return page[start : end if end > 0 else None]


def test_closed_trades_table_with_human_numbers(page: str) -> None:
    section = _section(page, "Closed trades")
    rows = re.findall(r"<tr>(.*?)</tr>", section.split("<tbody>")[1])
    assert len(rows) == 3
    newest, _, oldest = rows
    assert "ETH/USDT" in newest and "panic" in newest and "-205.80" in newest
    assert "+2,051.14" in oldest and "59,000.00" in oldest and "trailing" in oldest
    assert re.search(r'<td class="[^"]*\bgain\b[^"]*">\+2,051.14</td>', oldest)
    assert re.search(r'<td class="[^"]*\bloss\b[^"]*">-205.80</td>', newest)


def test_account_cards_show_cash_equity_and_pnl(page: str) -> None:
    cards = _section(page, "Account")
    for text in ("11,936.14", "11,341.14", "paper ledger", "+1,867.16", "33.33 %", "+21.75 %"):
        assert text in cards, text


def test_cash_and_equity_are_known_offline(tmp_path: Path) -> None:
    """No valuation recorded (daemon never valued, market unreachable): the paper ledger's
    cash and the last known prices still give the account."""
    ctx = build_lifecycle(tmp_path)
    assert ctx.store.current_equity() is None
    html = render_page(take_snapshot(ctx, END), HEALTHY, END)
    cards = _section(html, "Account")
    assert "11,341.14" in cards and "11,936.14" in cards


def _chart(page: str, symbol: str) -> str:
    start = page.index(f"<figcaption>{symbol}")
    return page[start : page.index("</figure>", start)]


def test_a_price_chart_per_symbol_with_entries_tiers_and_stops(page: str) -> None:
    assert page.count('<svg class="chart"') == 3  # BTC, ETH, equity
    btc = _chart(page, "BTC/USDT")
    assert btc.count('class="mk-entry"') == 4  # 0.05, 0.05, 0.02, 0.01 bought
    assert btc.count('class="mk-tier"') == 3  # tier 1, tier 2, tier 1 of the open cycle
    assert btc.count('class="mk-exit"') == 2  # trailing stop, hard stop
    for level in ("lv-stop", "lv-trailing", "lv-tier", "lv-exchange"):
        assert f'class="{level}"' in btc, level
    assert "trailing stop 82,080.00" in btc and "next: tier 2 at 112,500.00" in btc
    eth = _chart(page, "ETH/USDT")
    assert eth.count('class="mk-entry"') == 1 and eth.count('class="mk-exit"') == 1
    assert "lv-" not in eth  # nothing open: no stop level


def test_plans_and_open_orders(page: str) -> None:
    plans = _section(page, "Entry plans")
    assert "ETH/USDT" in plans and "0 / 4" in plans and "0.00 / 1,000.00" in plans
    orders = _section(page, "Open orders")
    assert "stop_limit" in orders and "81,900.00" in orders and "2,650.00" in orders


def test_an_empty_store_renders_every_section_with_its_note(tmp_path: Path) -> None:
    ctx = make_context(tmp_path)
    html = render_page(take_snapshot(ctx, NOW), HEALTHY, NOW + timedelta(seconds=1))
    _outline(html)
    for note in ("no closed trades yet", "nothing traded yet", "no open positions"):
        assert note in html, note
    assert "10,000.00" in _section(html, "Account")  # the paper start balance, all cash
