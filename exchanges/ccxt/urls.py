"""Pointing a ccxt client's REST endpoints elsewhere (a loopback emulator, a recorded venue).

Kept free of ccxt imports: the synchronous `qtbot download-data` uses it without loading
ccxt's async half (aiohttp, close to a second).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


def rewrite_api_urls(urls: Any, rest_url: str) -> Any:
    """Every API URL becomes `rest_url` + its original path (recursively for nested maps)."""
    if isinstance(urls, str):
        return rest_url.rstrip("/") + urlsplit(urls).path
    if isinstance(urls, dict):
        return {key: rewrite_api_urls(value, rest_url) for key, value in urls.items()}
    return urls
