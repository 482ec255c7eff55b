"""Where FRED series come from (files, FRED's CSV download, the FRED API) and the cache.

`CachedFredLoader.load` never raises: a failed download or an unreadable payload keeps the
last good snapshot from the `SnapshotCache` and says so in `SeriesLoad.warnings` / `.stale`.
The FRED API key travels in the query string; every URL that reaches a log line or a warning
goes through `redact_url` first, and error texts are scrubbed of the key as well.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Protocol

import structlog

from bot.config.signals import SignalsSettings
from bot.signals.fred import FredParseError, FredSeries, parse_fred_api_json, parse_fred_csv

log = structlog.get_logger(__name__)

FRED_CSV_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
FRED_API_URL = "https://api.stlouisfed.org/fred/series/observations"
REGIME_SERIES = ("WALCL", "DFEDTARU", "DFEDTARL", "DFF")
DEFAULT_TIMEOUT_S = 10.0
MAX_RESPONSE_BYTES = 20_000_000
USER_AGENT = "qtbot/0.1 (+https://fred.stlouisfed.org)"
_SECRET_PARAM = re.compile(r"(?i)(api_key=)[^&#\s]*")
_SERIES_ID = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class FredFetchError(RuntimeError):
    """A download that failed (network, HTTP status, timeout). Messages carry no secrets."""


def redact_url(url: str) -> str:
    """`url` with the value of any `api_key` query parameter replaced by `***`."""
    return _SECRET_PARAM.sub(r"\1***", url)


def _check_series_id(series_id: str) -> str:
    if not _SERIES_ID.match(series_id):
        raise FredFetchError(f"invalid FRED series id {series_id!r}")
    return series_id


class FredSource(Protocol):
    """Fetches the raw text of one series and knows how to parse it."""

    @property
    def name(self) -> str: ...

    def fetch_text(self, series_id: str) -> str:
        """Raw payload; raises `FredFetchError` on failure."""
        ...

    def parse(self, text: str, series_id: str) -> FredSeries:
        """Raises `FredParseError` on malformed text."""
        ...


@dataclass(frozen=True)
class LocalFredDirectory:
    """Series stored as `{directory}/{SERIES}.csv` (e.g. /work/shared/data or bot/data)."""

    directory: Path

    @property
    def name(self) -> str:
        return f"dir:{self.directory}"

    def path_for(self, series_id: str) -> Path:
        return Path(self.directory) / f"{_check_series_id(series_id)}.csv"

    def fetch_text(self, series_id: str) -> str:
        path = self.path_for(series_id)
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise FredFetchError(f"cannot read {path}: {exc.strerror or exc}") from None

    def parse(self, text: str, series_id: str) -> FredSeries:
        return parse_fred_csv(text, series_id, source=str(self.path_for(series_id)))


def _http_get(url: str, timeout_s: float, scrub: str | None = None) -> str:
    """GET `url` and return the body as text. Errors never contain `scrub` or the raw URL."""
    shown = redact_url(url)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body: bytes = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries the open response
        raise FredFetchError(f"HTTP {exc.code} from {shown}") from None
    except urllib.error.URLError as exc:
        reason = _scrubbed(str(exc.reason), scrub)
        raise FredFetchError(f"cannot reach {shown}: {reason}") from None
    except TimeoutError:
        raise FredFetchError(f"timed out after {timeout_s:g} s: {shown}") from None
    except OSError as exc:
        reason = _scrubbed(str(exc), scrub)
        raise FredFetchError(f"connection error for {shown}: {reason}") from None
    if len(body) > MAX_RESPONSE_BYTES:
        raise FredFetchError(f"response larger than {MAX_RESPONSE_BYTES} bytes from {shown}")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FredFetchError(f"response from {shown} is not UTF-8") from None


def _scrubbed(text: str, secret: str | None) -> str:
    text = redact_url(text)
    return text.replace(secret, "***") if secret else text


@dataclass(frozen=True)
class FredCsvDownload:
    """FRED's public CSV download (`fredgraph.csv?id=SERIES`); no key needed."""

    base_url: str = FRED_CSV_URL
    timeout_s: float = DEFAULT_TIMEOUT_S
    observation_start: date | None = None

    @property
    def name(self) -> str:
        return "fred-csv"

    def url_for(self, series_id: str) -> str:
        query = {"id": _check_series_id(series_id)}
        if self.observation_start is not None:
            query["cosd"] = self.observation_start.isoformat()
        return f"{self.base_url}?{urllib.parse.urlencode(query)}"

    def fetch_text(self, series_id: str) -> str:
        url = self.url_for(series_id)
        log.debug("fred_download", url=redact_url(url), series=series_id)
        return _http_get(url, self.timeout_s)

    def parse(self, text: str, series_id: str) -> FredSeries:
        return parse_fred_csv(text, series_id, source=redact_url(self.url_for(series_id)))


@dataclass(frozen=True)
class FredApi:
    """The FRED API (`fred/series/observations`, JSON). Needs an API key; never logs it."""

    api_key: str = field(repr=False)
    base_url: str = FRED_API_URL
    timeout_s: float = DEFAULT_TIMEOUT_S
    observation_start: date | None = None

    def __repr__(self) -> str:
        return f"FredApi(base_url={self.base_url!r}, api_key='***')"

    @property
    def name(self) -> str:
        return "fred-api"

    def url_for(self, series_id: str) -> str:
        query = {
            "series_id": _check_series_id(series_id),
            "api_key": self.api_key,
            "file_type": "json",
        }
        if self.observation_start is not None:
            query["observation_start"] = self.observation_start.isoformat()
        return f"{self.base_url}?{urllib.parse.urlencode(query)}"

    def fetch_text(self, series_id: str) -> str:
        url = self.url_for(series_id)
        log.debug("fred_download", url=redact_url(url), series=series_id)
        return _http_get(url, self.timeout_s, scrub=self.api_key)

    def parse(self, text: str, series_id: str) -> FredSeries:
        return parse_fred_api_json(text, series_id, source=redact_url(self.url_for(series_id)))


class SnapshotCache(Protocol):
    """Last good payload per key; the store implements it, `MemorySnapshotCache` in tests."""

    def get(self, key: str) -> tuple[datetime, str] | None: ...

    def put(self, key: str, fetched_at: datetime, text: str) -> None: ...


class MemorySnapshotCache:
    def __init__(self) -> None:
        self._items: dict[str, tuple[datetime, str]] = {}

    def get(self, key: str) -> tuple[datetime, str] | None:
        return self._items.get(key)

    def put(self, key: str, fetched_at: datetime, text: str) -> None:
        self._items[key] = (fetched_at, text)


@dataclass(frozen=True)
class SeriesLoad:
    """Outcome of one load. `series` is None only when nothing usable exists at all.

    `stale` is True when the series comes from an older snapshot because the fetch failed.
    """

    series_id: str
    series: FredSeries | None
    fetched_at: datetime | None
    stale: bool
    warnings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.series is not None and not self.stale


class CachedFredLoader:
    """Fetch through `source`, keep the last good payload in `cache`.

    `max_age`: a snapshot younger than this is used without fetching (None = always fetch).
    `now` is passed in by the caller; this class reads no clock.
    """

    def __init__(
        self, source: FredSource, cache: SnapshotCache, max_age: timedelta | None = None
    ) -> None:
        self._source = source
        self._cache = cache
        self._max_age = max_age

    def cache_key(self, series_id: str) -> str:
        return f"fred:{self._source.name}:{series_id}"

    def load(self, series_id: str, now: datetime) -> SeriesLoad:
        key = self.cache_key(series_id)
        warnings: list[str] = []
        cached = self._cached(key, warnings)
        if cached is not None and self._max_age is not None and now - cached[0] < self._max_age:
            series = self._parse_cached(cached[1], series_id, warnings)
            if series is not None:
                return SeriesLoad(series_id, series, cached[0], False, tuple(warnings))
        try:
            text = self._source.fetch_text(series_id)
            series = self._source.parse(text, series_id)
        except (FredFetchError, FredParseError) as exc:
            return self._fallback(series_id, cached, str(exc), warnings)
        except Exception as exc:  # never raise to the job: report and fall back
            problem = f"{type(exc).__name__}: {_scrubbed(str(exc), None)}"
            return self._fallback(series_id, cached, problem, warnings)
        try:
            self._cache.put(key, now, text)
        except Exception as exc:
            warnings.append(f"{series_id}: could not store snapshot ({type(exc).__name__})")
            log.warning("fred_snapshot_store_failed", series=series_id, error=type(exc).__name__)
        log.info(
            "fred_series_loaded",
            series=series_id,
            source=self._source.name,
            observations=len(series),
            last=str(series.last_date),
        )
        return SeriesLoad(series_id, series, now, False, tuple(warnings))

    def load_many(self, series_ids: tuple[str, ...], now: datetime) -> dict[str, SeriesLoad]:
        return {series_id: self.load(series_id, now) for series_id in series_ids}

    def _cached(self, key: str, warnings: list[str]) -> tuple[datetime, str] | None:
        try:
            return self._cache.get(key)
        except Exception as exc:
            warnings.append(f"snapshot cache unreadable for {key} ({type(exc).__name__})")
            return None

    def _parse_cached(self, text: str, series_id: str, warnings: list[str]) -> FredSeries | None:
        try:
            return self._source.parse(text, series_id)
        except FredParseError as exc:
            warnings.append(f"{series_id}: cached snapshot unreadable: {exc}")
            return None

    def _fallback(
        self,
        series_id: str,
        cached: tuple[datetime, str] | None,
        problem: str,
        warnings: list[str],
    ) -> SeriesLoad:
        warnings.append(f"{series_id}: fetch from {self._source.name} failed: {problem}")
        series = self._parse_cached(cached[1], series_id, warnings) if cached else None
        if series is None or cached is None:
            warnings.append(f"{series_id}: no usable snapshot")
            log.warning("fred_series_unavailable", series=series_id, problem=problem)
            return SeriesLoad(series_id, None, None, True, tuple(warnings))
        warnings.append(f"{series_id}: using snapshot fetched {cached[0].isoformat()}")
        log.warning(
            "fred_series_stale",
            series=series_id,
            problem=problem,
            snapshot_fetched_at=cached[0].isoformat(),
        )
        return SeriesLoad(series_id, series, cached[0], True, tuple(warnings))


def fred_source(signals: SignalsSettings) -> FredApi | FredCsvDownload:
    """The FRED source the settings choose: the API with a key, else the public CSV download;
    the daemon's regime job, `qtbot doctor` and `qtbot download-data --fed` all use this one."""
    if signals.fred_api_key:
        key = signals.fred_api_key.get_secret_value()
        return FredApi(key, base_url=signals.fred_url or FRED_API_URL)
    return FredCsvDownload(base_url=signals.fred_url or FRED_CSV_URL)
