"""The thesis report as a rich table a user can read."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.backtest.thesis import HORIZON_MONTHS, AssetOutcome, ThesisReport, Verdict

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
            "its pivot price at some point 6–18 months later"
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


def print_thesis(report: ThesisReport, console: Console) -> None:
    console.print(thesis_table(report))
    console.print(f"Conclusion: {report.conclusion}.")
