"""The soak's verdicts on synthetic samples: steady memory and linear storage pass, a leak and
super-linear growth fail. The soak itself is `python -m tests.soak.soak --days 30`."""

from __future__ import annotations

import pytest

from tests.soak.soak import Sample, SoakReport, judge

MB = 2**20


def _report(rss: list[float], db: list[float]) -> SoakReport:
    report = SoakReport(days=30, speed=3000, mode="paper")
    report.samples = [Sample(0, 0, 0, 0, 0, 0, 0)] + [
        Sample(float(i), i / 10, int(r * MB), int(d * 1024), 0, i, i)
        for i, (r, d) in enumerate(zip(rss, db, strict=True))
    ]
    return report


@pytest.mark.parametrize(
    ("rss", "db", "problem"),
    [
        pytest.param([150.0] * 30, [100.0 + 10 * i for i in range(30)], None, id="steady"),
        pytest.param(
            [150.0 + (i % 3) for i in range(30)],
            [100.0 + 10 * i for i in range(30)],
            None,
            id="noise",
        ),
        pytest.param(
            [150.0 + 3 * i for i in range(30)],
            [100.0 + 10 * i for i in range(30)],
            "RSS grew",
            id="leak",
        ),
        pytest.param(
            [150.0] * 30,
            [100.0 + 20 * i * i for i in range(30)],
            "super-linearly",
            id="quadratic_db",
        ),
    ],
)
def test_soak_verdict(rss: list[float], db: list[float], problem: str | None) -> None:
    report = _report(rss, db)
    judge(report, max_rss_growth_pct=25.0)
    if problem is None:
        assert report.violations == []
    else:
        assert any(problem in v for v in report.violations), report.violations
