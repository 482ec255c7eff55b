"""FRED CSV/JSON parsing: both headers, missing values, malformed files named by line."""

from __future__ import annotations

from datetime import date

import pytest

from bot.signals.fred import FredParseError, load_fred_csv, parse_fred_api_json, parse_fred_csv
from tests.unit.signals.data_paths import FIXTURES

FRED = FIXTURES / "fred"


def test_observation_date_header_parses_recorded_walcl_rows() -> None:
    series = load_fred_csv(str(FRED / "WALCL_observation_date.csv"), "WALCL")
    assert series.series_id == "WALCL"
    assert series.first_date == date(2025, 10, 1)
    assert series.values[0] == pytest.approx(6587119.0)
    assert series.missing == ()
    assert list(series.dates) == sorted(series.dates)


def test_legacy_date_header_parses_and_takes_series_id_from_header() -> None:
    series = parse_fred_csv((FRED / "DFF_DATE_header.csv").read_text(), source="DFF_DATE.csv")
    assert series.series_id == "DFF"
    assert series.value_at_or_before(date(2025, 12, 10)) == pytest.approx(3.89)
    assert series.value_at_or_before(date(2025, 12, 11)) == pytest.approx(3.64)


def test_dot_and_blank_values_are_missing_not_zero() -> None:
    series = load_fred_csv(str(FRED / "DFEDTARU_missing_values.csv"), "DFEDTARU")
    assert series.dates == (date(2025, 12, 8), date(2025, 12, 11))
    assert series.missing == (date(2025, 12, 9), date(2025, 12, 10))
    # the last value before a gap carries over; the gap itself is never read as 0
    assert series.value_at_or_before(date(2025, 12, 10)) == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("fixture", "line", "needle"),
    [
        pytest.param("malformed_value.csv", 3, "'65x1234' is not a number", id="bad_value"),
        pytest.param("malformed_columns.csv", 3, "expected 2 columns", id="missing_column"),
        pytest.param("malformed_date.csv", 3, "not YYYY-MM-DD", id="us_date_format"),
        pytest.param("malformed_order.csv", 3, "is not after", id="dates_out_of_order"),
        pytest.param("not_csv.html", 1, "header", id="html_error_page"),
    ],
)
def test_malformed_file_error_names_file_series_and_line(
    fixture: str, line: int, needle: str
) -> None:
    with pytest.raises(FredParseError) as caught:
        load_fred_csv(str(FRED / fixture), "WALCL")
    error = caught.value
    assert error.line == line
    assert fixture in str(error)
    assert "WALCL" in str(error)
    assert needle in str(error)


def test_header_naming_another_series_is_rejected() -> None:
    with pytest.raises(FredParseError, match="expected 'WALCL'"):
        parse_fred_csv("observation_date,DFF\n2025-01-01,4.33\n", "WALCL")


def test_empty_text_is_an_error() -> None:
    with pytest.raises(FredParseError, match="empty"):
        parse_fred_csv("\n\n", "DFF")


def test_bom_crlf_and_trailing_blank_lines_are_tolerated() -> None:
    series = parse_fred_csv("\ufeffDATE,DFF\r\n2025-01-02,4.33\r\n\r\n", "DFF")
    assert series.dates == (date(2025, 1, 2),)


def test_nan_value_is_rejected() -> None:
    with pytest.raises(FredParseError, match="not finite"):
        parse_fred_csv("DATE,DFF\n2025-01-02,nan\n", "DFF")


def test_api_json_parses_observations_and_missing_dot() -> None:
    series = parse_fred_api_json((FRED / "DFF_api.json").read_text(), "DFF")
    assert series.dates[-1] == date(2025, 12, 11)
    assert series.values[-1] == pytest.approx(3.64)
    assert series.missing == (date(2025, 12, 12),)


def test_api_json_with_error_body_is_a_parse_error() -> None:
    body = '{"error_code": 400, "error_message": "Bad Request. The value for variable api_key"}'
    with pytest.raises(FredParseError, match="no 'observations'"):
        parse_fred_api_json(body, "DFF", source="api")


def test_through_and_since_cut_a_series_for_point_in_time_use() -> None:
    series = load_fred_csv(str(FRED / "WALCL_observation_date.csv"), "WALCL")
    cut = series.through(date(2025, 11, 1))
    assert cut.last_date is not None and cut.last_date <= date(2025, 11, 1)
    assert series.since(date(2025, 11, 1)).first_date == date(2025, 11, 5)
    assert len(cut) + len(series.since(date(2025, 11, 2))) == len(series)
