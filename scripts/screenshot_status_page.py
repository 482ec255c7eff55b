"""The status page in a real headless browser, at desktop and phone width: the documented check.

Builds a fixture store (a paper lifecycle fed through the real order path, plus the exchange
stop, plan, open order and equity series a running daemon keeps: tests/unit/ops/trade_fixture),
serves it with the real status server on a loopback port, and has Chromium take a screenshot at
1280 px and at 390 px wide. The pictures are cropped to the page's length and written to
docs/screenshots/. Chromium is not needed by the test suite (CI has none); the suite checks the
HTML's structure instead (tests/unit/ops/test_page.py).

Usage (from the repository root; Debian: `apt-get install -y chromium`):

    .venv/bin/python scripts/screenshot_status_page.py [--out docs/screenshots] [--chromium PATH]

Exit 0 with the PNG paths printed; 1 with one line when Chromium is missing or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # the fixture lives in tests/, beside the package

# Imported after the path is set: the fixture and the server are this repository's.
from bot.ops.web.server import http_address, start_http, stop_http  # noqa: E402
from bot.services.context import Context  # noqa: E402
from tests.unit.ops.trade_fixture import build_page_store  # noqa: E402

WIDTHS = {"1280": (1280, 4000), "390": (390, 6000)}
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
BROWSER_DEADLINE_SECONDS = 120


def _crop_to_content(path: Path) -> None:
    """Cut the empty background below the page's last element (the window is made tall)."""
    from PIL import Image, ImageChops  # noqa: PLC0415 - only the screenshot step needs Pillow

    with Image.open(path) as image:
        rgb = image.convert("RGB")
        background = rgb.getpixel((rgb.width - 1, rgb.height - 1))
        bottom = rgb.height
        step = 8
        while bottom > step:
            band = rgb.crop((0, bottom - step, rgb.width, bottom))
            if ImageChops.difference(band, Image.new("RGB", band.size, background)).getbbox():
                break
            bottom -= step
        rgb.crop((0, 0, rgb.width, min(rgb.height, bottom + 24))).save(path, optimize=True)


def _shoot(browser: str, url: str, out: Path, size: tuple[int, int], profile: Path) -> None:
    command = [
        browser,
        *BROWSER_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={out}",
        url,
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=BROWSER_DEADLINE_SECONDS)
    if not out.is_file():
        raise RuntimeError(f"chromium wrote no screenshot to {out}")
    _crop_to_content(out)


async def _serve_and_shoot(browser: str, out_dir: Path, work: Path, ctx: Context) -> list[Path]:
    ctx.store.beat(
        "daemon",
        ctx.clock.now(),
        pid=4242,
        host="vps",
        mode="paper",
        exchange="binance",
        started_at=ctx.clock.now(),
    )
    runner = await start_http(ctx, host="127.0.0.1", port=0)
    shots = []
    try:
        url = f"http://{http_address(runner)}/"
        for name, size in WIDTHS.items():
            path = out_dir / f"status-page-{name}.png"
            # The browser blocks; the server must keep answering meanwhile.
            await asyncio.to_thread(_shoot, browser, url, path, size, work / f"profile-{name}")
            shots.append(path)
    finally:
        await stop_http(runner)
        ctx.store.close()
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    if shutil.which(args.chromium) is None:
        print(f"screenshot: no browser at {args.chromium!r}: apt-get install -y chromium")
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qtbot-page-") as tmp:
        try:
            # Built before the server's loop starts: the fixture drives the paper venue itself.
            ctx = build_page_store(Path(tmp) / "state")
            shots = asyncio.run(_serve_and_shoot(args.chromium, args.out, Path(tmp), ctx))
        except (subprocess.SubprocessError, RuntimeError, OSError) as exc:
            print(f"screenshot: chromium failed: {exc}")
            return 1
    for path in shots:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
