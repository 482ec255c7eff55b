"""`qtbot sweep` as a user runs it: JSON alone on stdout, the best trial reproduced exactly by
`qtbot backtest` with the printed environment lines, resuming a study, bad input in one line."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import research as research_cli
from bot.cli.main import app
from bot.signals.shipped_data import SHIPPED_DATA_DIR
from tests.unit.signals.data_paths import shared_file

# One walk-forward window: train 2020-04-01 -> 2020-07-01, test -> 2020-09-30, a month after
# the candles begin (so `qtbot backtest --from` loads history before the start). The values
# exclude the shipped defaults, so the reproduced run cannot pass on defaults alone.
SMALL = [
    "--from", "2020-04-01", "--to", "2020-10-01", "--train-years", "0.25", "--test-years", "0.25",
    "--workers", "1", "--top", "1", "--sampler", "random",
    "--param", "risk.stop_loss_pct=12|30",
    "--param", "risk.trailing_arm_after_tiers=1|last",
]  # fmt: skip


@pytest.fixture
def sweep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, candles: list[str]) -> Any:
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    storage = f"sqlite:///{tmp_path / 'study.sqlite'}"

    def invoke(*args: str) -> Any:
        argv = ["sweep", *(a for c in candles for a in ("--candles", c)), "--storage", storage]
        return CliRunner().invoke(app, [*argv, *args])

    return invoke


def test_best_trial_reproduces_exactly_with_qtbot_backtest(
    sweep: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    png = tmp_path / "wf.png"
    heatmap = "risk.stop_loss_pct,risk.trailing_arm_after_tiers"
    result = sweep(*SMALL, "--trials", "4", "--json", "--plot", str(png), "--heatmap", heatmap)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # JSON alone on stdout
    assert "qtbot: sweep: 4/4 trials" in result.stderr  # progress off a terminal: lines
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = report["reproduce"]
    assert again["expected"]["fills"] > 0
    assert any(line.startswith("QTBOT_RISK__STOP_LOSS_PCT=") for line in again["env"])
    print("\n".join(again["env"] + [again["command"]]))  # the lines a user would run
    for line in again["env"]:
        name, _, value = line.partition("=")
        monkeypatch.setenv(name, value)
    argv = shlex.split(again["command"])
    assert argv[:2] == ["qtbot", "backtest"]
    rerun = CliRunner().invoke(app, argv[1:])
    assert rerun.exit_code == 0, rerun.output
    summary = json.loads(rerun.stdout)
    assert summary["strategy"]["total_return"] == again["expected"]["total_return"]
    assert summary["fills"] == again["expected"]["fills"]

    window = report["windows"][0]
    assert window["trials"] == 4 and len(window["scores"]) + window["refused"] == 4
    assert set(report["out_of_sample"]) == {"walk_forward", "defaults", "buy_hold"}
    assert window["top"][0]["params"] == window["best"]["params"]
    assert 0 <= window["best"]["deflated_sharpe"] <= 1
    # The chained out-of-sample curve of one window is that window's test span, warmed up.
    assert report["test_spans"].startswith("warm")
    oos = report["out_of_sample"]
    assert oos["walk_forward"]["total_return"] == pytest.approx(
        window["best"]["test"]["total_return"], abs=1e-5
    )
    assert oos["buy_hold"]["total_return"] == pytest.approx(
        window["buy_hold"]["test"]["total_return"], abs=1e-5
    )


def test_best_trial_reproduces_on_the_real_data(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same on the shared BTC+ETH daily files, where the history loaded before `--from`
    moves the replay's last digits (a trial fed whole files was off by 2e-7)."""
    btc, eth = shared_file("BTC_USDT-1d.csv"), shared_file("ETH_USDT-1d.csv")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app,
        [
            "sweep", "--candles", str(btc), "--candles", str(eth),
            "--fed-data", str(btc.parent), "--storage", f"sqlite:///{tmp_path / 's.sqlite'}",
            "--from", "2020-08-16", "--to", "2021-11-16", "--train-years", "1",
            "--test-years", "0.25", "--workers", "1", "--top", "1", "--trials", "2",
            "--sampler", "random", "--param", "risk.stop_loss_pct=10|30",
            "--param", "strategy.tranches=6|8", "--json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    again = json.loads(result.stdout)["reproduce"]
    for line in again["env"]:
        name, _, value = line.partition("=")
        monkeypatch.setenv(name, value)
    rerun = CliRunner().invoke(app, shlex.split(again["command"])[1:])
    assert rerun.exit_code == 0, rerun.output
    summary = json.loads(rerun.stdout)
    assert summary["strategy"]["total_return"] == again["expected"]["total_return"]
    assert summary["fills"] == again["expected"]["fills"]


def test_text_report_for_people(capsys: pytest.CaptureFixture[str]) -> None:
    figures = {"score": 0.5, "total_return": 0.1, "fills": 3}
    curve = {"total_return": 0.1, "cagr": 0.1, "max_drawdown": -0.2, "sharpe": 1.0, "calmar": 0.5}
    window = {
        "train": ["2020-01-01", "2021-01-01"], "test": ["2021-01-01", "2022-01-01"],
        "trials": 10, "refused": 1,
        "best": {"params": {"risk.stop_loss_pct": 30}, "deflated_sharpe": 0.4,
                 "train": figures, "test": figures},
        "defaults": {"train": figures, "test": figures},
        "buy_hold": {"test": {"total_return": 0.5}},
    }  # fmt: skip
    report = {
        "objective": "sharpe", "sampler": "tpe", "trials_total": 10, "windows": [window],
        "out_of_sample": {"walk_forward": curve, "defaults": curve, "buy_hold": curve},
        "reproduce": {"expected": {}, "env": ["QTBOT_RISK__STOP_LOSS_PCT=30.0"],
                      "command": "qtbot backtest"},
    }  # fmt: skip
    research_cli._print(report)
    out = capsys.readouterr().out
    assert "walk-forward: objective sharpe, tpe sampler, 10 trials over 1 windows" in out
    assert "buy-and-hold +50.0%" in out and "  QTBOT_RISK__STOP_LOSS_PCT=30.0" in out


def test_the_same_study_name_resumes(sweep: Any) -> None:
    first = json.loads(sweep(*SMALL, "--trials", "1", "--top", "1", "--json").stdout)
    assert first["windows"][0]["trials"] == 1
    second = json.loads(sweep(*SMALL, "--trials", "2", "--test-spans", "flat", "--json").stdout)
    assert second["windows"][0]["trials"] == 2  # one more, not two more
    assert second["test_spans"].startswith("flat")
    flat = second["out_of_sample"]["buy_hold"]
    assert flat["total_return"] == pytest.approx(
        second["windows"][0]["buy_hold"]["test"]["total_return"], abs=1e-5
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "risk.stop_loss_pct=10..150"], "value 150 is refused"),
        (["--param", "risk.stop_los=10..20"], "risk has no setting 'stop_los'"),
        (["--param", "risk.stop_loss_pct=10|20", "--objective", "profit"], "objective 'profit'"),
        (["--param", "risk.stop_loss_pct=10|20", "--trials", "0"], "trials must be"),
        (["--param", "risk.stop_loss_pct=10|20", "--train-years", "9"], "too few for 9 years"),
        (["--param", "risk.stop_loss_pct=10|20", "--heatmap", "a,b"], "heatmap"),
        ([], "the search space is empty"),
        (["--param", "research.net_liquidity_drain_pct=off|2"], "RRPONTSYD.csv"),
        (["--param", "research.liquidity=1|2"], "unknown candidate"),
    ],
)
def test_bad_input_is_one_line_and_writes_no_study(
    sweep: Any, tmp_path: Path, args: list[str], message: str
) -> None:
    result = sweep(*args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("qtbot: ")
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "study.sqlite").exists()


def test_a_bad_storage_url_is_one_line(sweep: Any, tmp_path: Path, candles: list[str]) -> None:
    argv = ["sweep", "--candles", candles[0], "--param", "risk.stop_loss_pct=10|20"]
    result = CliRunner().invoke(app, [*argv, "--storage", "nonsense"])
    assert result.exit_code == 2
    assert "is neither a database URL" in result.stderr


def test_net_liquidity_candidate_is_judged_out_of_sample(sweep: Any, tmp_path: Path) -> None:
    """A research candidate runs through the same walk-forward; its trials are flagged as not
    replayable by `qtbot backtest`, and the printed env lines never carry it."""
    fed = tmp_path / "fed"
    shutil.copytree(SHIPPED_DATA_DIR, fed)
    rrp = ["observation_date,RRPONTSYD"]
    rrp += [f"2020-{m:02d}-01,{v}" for m, v in ((1, 0.0), (4, 200.0), (6, 900.0), (8, 1500.0))]
    (fed / "RRPONTSYD.csv").write_text("\n".join(rrp) + "\n")
    result = sweep(
        *SMALL, "--fed-data", str(fed), "--sampler", "grid", "--trials", "2", "--top", "2",
        "--param", "research.net_liquidity_drain_pct=off|1",
        "--param", "risk.stop_loss_pct=30", "--param", "risk.trailing_arm_after_tiers=last",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    top = report["windows"][0]["top"]
    assert {t["params"]["research.net_liquidity_drain_pct"] for t in top} == {1, "off"}
    assert all(t["test_score"] is not None for t in top)
    again = report["reproduce"]
    assert not any("RESEARCH" in line for line in again["env"])
    chosen = report["windows"][0]["best"]["params"]["research.net_liquidity_drain_pct"]
    assert again["candidates_on"] == ({} if chosen == "off" else {"net_liquidity_drain_pct": 1})
