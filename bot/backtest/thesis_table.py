"""The thesis report as rich tables a user can read: the pivots, then each claim against every
day of the same asset, with a verdict per claim."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.backtest.thesis import HORIZON_MONTHS, AssetOutcome, ThesisReport, Verdict
from bot.backtest.thesis_baseline import (
    CAVEAT,
    MAX_CHANCE,
    MIN_MEDIAN_PERCENTILE,
    MIN_PIVOTS,
    Baseline,
    ClaimBaseline,
    PivotValue,
)

_STYLE = {
    Verdict.HELD: "green",
    Verdict.FAILED: "bold red",
    Verdict.OPEN: "yellow",
    Verdict.NO_DATA: "dim",
    Verdict.NOT_TESTED: "dim",
}


def _pct(value: float | None) -> Text:
    if value is None:
        return Text("n/a", style="dim")
    return Text(f"{value * 100:+.1f}%", style="green" if value > 0 else "red")


def _drawdown(outcome: AssetOutcome) -> Text:
    if outcome.max_drawdown is None:
        return Text("n/a", style="dim")
    mark = "" if outcome.drawdown_complete else "*"
    return Text(f"{outcome.max_drawdown * 100:.1f}%{mark}")


def thesis_table(report: ThesisReport) -> Table:
    table = Table(
        title="Fed pivots and what crypto did next",
        caption=(
            "returns from the last daily close before the pivot; max DD = deepest fall of daily "
            "closes within 18 months (* = data ends sooner); verdict = every asset closed above "
            "its pivot price at some point 6–18 months later (true after most days anyway: see "
            "the next table)"
        ),
        caption_justify="left",
    )
    table.add_column("pivot", no_wrap=True)
    table.add_column("from → to", no_wrap=True)
    table.add_column("cause")
    table.add_column("asset", no_wrap=True)
    for months in HORIZON_MONTHS:
        table.add_column(f"{months}m", justify="right", no_wrap=True)
    table.add_column("max DD", justify="right", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    for outcome in report.outcomes:
        pivot = outcome.pivot
        arrow = "↑" if outcome.toward_easing else "↓"
        change = f"{arrow} {pivot.from_regime} → {pivot.to_regime}"
        verdict = str(outcome.verdict) + (" (strict)" if outcome.strict else "")
        for i, asset in enumerate(outcome.assets):
            first = i == 0
            table.add_row(
                pivot.date.isoformat() if first else "",
                change if first else "",
                "; ".join(pivot.causes) if first else "",
                asset.asset,
                *[_pct(r) for r in asset.returns],
                _drawdown(asset),
                Text(verdict, style=_STYLE[outcome.verdict]) if first else "",
                end_section=i == len(outcome.assets) - 1,
            )
    return table


def _compact(value: float | None) -> Text:
    """A return without decimals once it passes ±1000 %, so that wide columns stay narrow."""
    if value is None or abs(value) < 10:
        return _pct(value)
    return Text(f"{value * 100:+.0f}%", style="green" if value > 0 else "red")


def _cell(pivot: PivotValue) -> Text:
    if pivot.value is None or pivot.percentile is None:
        return Text("n/a", style="dim")
    text = _compact(pivot.value)
    text.append(f" p{pivot.percentile:.0f}", style="bold" if pivot.percentile >= 75 else "")
    if not pivot.counted:
        return Text(f"({text.plain})", style="dim")
    return text


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _measured_days(baseline: Baseline) -> list[int]:
    """Indexes of the pivot days some claim has a value for (pivots before the data add
    nothing but empty columns)."""
    return [
        i
        for i in range(len(baseline.pivot_days))
        if any(c.pivots[i].value is not None for c in baseline.claims)
    ]


def baseline_table(baseline: Baseline) -> Table:
    columns = _measured_days(baseline)
    table = Table(
        title="Each claim after the pivots toward easing vs after every day (same asset)",
        caption=(
            "supported: see the verdicts below; cell = the pivot's value and its percentile pNN "
            "among every day of the asset (p50 = a typical day); (…) = a later pivot of an easing "
            "episode already counted, shown but left out of the figures; above 6–18m = best "
            "close 6–18 months later vs the start price; true = value above zero; days true = the "
            "claim's "
            "base rate over every day; median day = the median value over every day; B&H pace = "
            "first-to-last-close buy and hold, compounded evenly over the horizon"
        ),
        caption_justify="left",
    )
    # Claim and pivot cells may wrap (the percentile under the return) so that six or more
    # pivots still fit a 140-column terminal.
    table.add_column("claim")
    table.add_column("asset", no_wrap=True)
    for i in columns:
        day = baseline.pivot_days[i]
        table.add_column(f"{day:%Y}\n{day:%m-%d}", justify="right")
    for header in ("median\npct", "pivots\ntrue", "days\ntrue", "median\nday", "B&H\npace"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("supported", no_wrap=True)
    for row in baseline.claims:
        median = row.median_percentile
        table.add_row(
            row.claim.label,
            row.asset,
            *[_cell(row.pivots[i]) for i in columns],
            "n/a" if median is None else f"{median:.0f}",
            f"{row.pivots_true}/{len(row.measured)}",
            _share(row.base_rate),
            _compact(row.all_days_median),
            _compact(row.buy_hold_pace) if row.claim.months else Text("-", style="dim"),
            _support(row),
        )
    return table


def _support(row: ClaimBaseline) -> Text:
    return Text("yes", style="green") if row.supported else Text("no", style="bold red")


def print_thesis(report: ThesisReport, console: Console) -> None:
    console.print(thesis_table(report))
    console.print(baseline_table(report.baseline))
    console.print(
        f"Verdict rule: supported only with at least {MIN_PIVOTS} pivots, a median pivot "
        f"percentile of at least {MIN_MEDIAN_PERCENTILE:.0f} and at most {MAX_CHANCE} chance "
        f"that random days beat the median day as often; {CAVEAT}."
    )
    for row in report.baseline.claims:
        console.print(f"- {row.asset}, {row.claim.text} — {row.verdict}.")
    console.print(f"Conclusion: {report.conclusion}.")
