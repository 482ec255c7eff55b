"""The search space: names, ranges and lists checked against the settings models up front;
trial settings built through those models; env lines that `load_settings` reads back."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pytest

from bot.config.settings import Settings, load_settings
from bot.research.space import SearchSpace, SpaceError, env_lines, trial_settings
from bot.research.sweep_file import SweepFileError, parse_param_flag, read_sweep_file
from bot.research.windows import walk_forward_windows

BASE = Settings(_env_file=None)


def test_ranges_and_lists_become_grid_values() -> None:
    space = SearchSpace.parse(
        {
            "risk.stop_loss_pct": {"low": 10, "high": 30, "step": 10},
            "risk.trailing_stop_pct": {"low": 0.1, "high": 0.3, "step": 0.1},
            "risk.trailing_arm_after_tiers": [0, 1, "last"],
        },
        BASE,
    )
    grid = space.grid()
    assert grid["risk.stop_loss_pct"] == [10, 20, 30]
    assert grid["risk.trailing_stop_pct"] == [0.1, 0.2, 0.3]  # not 0.30000000000000004
    assert space.grid_size() == 27


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"risk.stop_loss": [10]}, "risk has no setting 'stop_loss'"),
        ({"stop_loss_pct": [10]}, "name a setting as section.field"),
        ({"exchange.mode": ["live"]}, "name a setting as section.field"),
        (
            {"risk.stop_loss_pct": {"low": 10, "high": 150}},
            "150 is refused: QTBOT_RISK__STOP_LOSS_PCT: Input should be less than",
        ),
        ({"risk.stop_loss_pct": {"low": 40, "high": 10}}, "low (40) must be below high (10)"),
        ({"risk.stop_loss_pct": []}, "the list of values is empty"),
        ({"risk.take_profit_tiers": ["20:25,10:25"]}, "must be greater than the previous"),
        ({"strategy.start_regimes": ["bullish"]}, "unknown regime"),
        ({"risk.stop_loss_pct": "10-40"}, "give a list of values or a range"),
        ({}, "the search space is empty"),
    ],
)
def test_a_bad_space_is_one_clear_line(table: dict[str, object], message: str) -> None:
    with pytest.raises(SpaceError) as caught:
        SearchSpace.parse(table, BASE)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_trial_settings_run_the_cross_field_checks() -> None:
    with pytest.raises(ValueError, match="TRAILING_ARM_AFTER_TIERS=3"):
        trial_settings(BASE, {"risk.trailing_arm_after_tiers": 3})  # the ladder has 2 tiers
    built = trial_settings(BASE, {"risk.stop_loss_pct": "off", "strategy.tranches": 6})
    assert built.risk.stop_loss_pct is None and built.strategy.tranches == 6
    assert built.risk.take_profit_tiers == BASE.risk.take_profit_tiers


def test_env_lines_read_back_to_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "risk.stop_loss_pct": "off",
        "risk.trailing_arm_after_tiers": "last",
        "risk.trailing_stop_pct": 22.5,
        "risk.breakeven_after_first_tier": False,
        "strategy.start_regimes": "easing",
        "strategy.tranches": 3,
    }
    built = trial_settings(BASE, values)
    lines = env_lines(built, list(values))
    assert "QTBOT_RISK__STOP_LOSS_PCT=off" in lines
    assert "QTBOT_RISK__TRAILING_ARM_AFTER_TIERS=last" in lines
    for line in lines:
        name, _, text = line.partition("=")
        monkeypatch.setenv(name, text)
    loaded = load_settings(env_file=None)
    assert loaded.risk == built.risk
    assert loaded.strategy == built.strategy


def test_param_flags() -> None:
    assert parse_param_flag("risk.stop_loss_pct=10..40..5") == (
        "risk.stop_loss_pct",
        {"low": 10, "high": 40, "step": 5},
    )
    assert parse_param_flag("strategy.start_regimes=easing|easing,neutral") == (
        "strategy.start_regimes",
        ["easing", "easing,neutral"],
    )
    assert parse_param_flag("risk.trailing_arm_after_tiers=0|1|last")[1] == [0, 1, "last"]
    with pytest.raises(SweepFileError, match=r"NAME=LOW\.\.HIGH"):
        parse_param_flag("risk.stop_loss_pct")
    with pytest.raises(SweepFileError, match="a range is"):
        parse_param_flag("risk.stop_loss_pct=a..b")


def test_sweep_file(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[sweep]\ntrials = 5\n[params]\n"risk.stop_loss_pct" = [10, 20]\n')
    assert read_sweep_file(good) == ({"trials": 5}, {"risk.stop_loss_pct": [10, 20]})
    for text, message in (
        ("[sweep\n", "is not valid TOML"),
        ("[sweeps]\n", "unknown table"),
        ("[sweep]\ntrails = 5\n", "unknown [sweep] option"),
    ):
        bad = tmp_path / "bad.toml"
        bad.write_text(text)
        with pytest.raises(SweepFileError, match=message.replace("[", r"\[")):
            read_sweep_file(bad)
    with pytest.raises(SweepFileError, match="cannot read"):
        read_sweep_file(tmp_path / "missing.toml")


def test_rolling_and_anchored_windows_tile_the_test_spans() -> None:
    rolling = walk_forward_windows(date(2017, 8, 17), date(2026, 8, 22), 3, 1)
    assert len(rolling) == 6
    assert [f"{w.train_end:%Y-%m-%d}" for w in rolling[:2]] == ["2020-08-17", "2021-08-17"]
    for before, after in itertools.pairwise(rolling):
        assert before.test_end == after.train_end  # no gap, no overlap out of sample
        assert after.train_end - after.train_start == rolling[0].train_end - rolling[0].train_start
    anchored = walk_forward_windows(date(2017, 8, 17), date(2026, 8, 22), 3, 1, "anchored")
    assert {w.train_start for w in anchored} == {rolling[0].train_start}
    with pytest.raises(ValueError, match="too few for 3 years of training"):
        walk_forward_windows(date(2024, 1, 1), date(2026, 1, 1), 3, 1)
