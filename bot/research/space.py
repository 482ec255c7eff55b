"""The search space: which settings a study varies, over which values, and the trial settings
built from them through the validated settings models.

A parameter is named as its setting is, `section.field` (`risk.stop_loss_pct`), and given as a
list of values (`[10, 20, "off"]`) or a range `{low, high, step}` (`step` optional for floats).
Every value is checked against the settings model before a study starts, so a bad range is one
clear line, not a failed trial hours later.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.config.settings import Settings
from bot.research.candidates import CandidateError, check_candidate

# The sections a study may vary: the rules, the signal thresholds they read, and candidate
# signals that are not settings yet (`bot.research.candidates`).
SECTIONS = ("risk", "strategy", "signals", "research")
RESEARCH = "research"
Value = str | int | float | bool


class SpaceError(ValueError):
    """A search space that cannot be used; the message is one line saying how to fix it."""


@dataclass(frozen=True)
class Param:
    name: str  # section.field
    choices: tuple[Value, ...] = ()
    low: float | None = None
    high: float | None = None
    step: float | None = None
    integer: bool = False

    @property
    def section(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def field(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def env_name(self) -> str:
        return f"QTBOT_{self.section.upper()}__{self.field.upper()}"

    def grid_values(self) -> tuple[Value, ...]:
        """Every value a grid visits: the choices, or the range walked by its step."""
        if self.choices:
            return self.choices
        if self.low is None or self.high is None or self.step is None:
            raise SpaceError(f"{self.name}: a grid needs a step for the range (add step = ...)")
        count = round((self.high - self.low) / self.step) + 1
        values = [clean(self.low + i * self.step) for i in range(count)]
        return tuple(int(v) for v in values) if self.integer else tuple(values)


def clean(value: float) -> float:
    """Steps of 0.1 walk to 0.30000000000000004; a setting is written with a few digits."""
    return round(float(value), 6)


def _param(name: str, spec: Any) -> Param:
    if not isinstance(name, str) or name.count(".") != 1 or name.split(".")[0] not in SECTIONS:
        raise SpaceError(
            f"{name!r}: name a setting as section.field with section one of {', '.join(SECTIONS)}"
            " (e.g. risk.stop_loss_pct)"
        )
    section, field = name.split(".")
    if section == RESEARCH:
        try:
            check_candidate(field, "off")
        except CandidateError as exc:
            raise SpaceError(str(exc)) from None
    elif field not in getattr(Settings.model_fields[section].annotation, "model_fields", {}):
        raise SpaceError(f"{name}: {section} has no setting {field!r} (see .env.example)")
    if isinstance(spec, list):
        if not spec:
            raise SpaceError(f"{name}: the list of values is empty")
        if not all(isinstance(v, str | int | float | bool) for v in spec):
            raise SpaceError(f"{name}: list values must be numbers, text or true/false")
        return Param(name, choices=tuple(spec))
    if isinstance(spec, dict):
        unknown = sorted(set(spec) - {"low", "high", "step"})
        if unknown or "low" not in spec or "high" not in spec:
            raise SpaceError(f"{name}: a range is {{ low = ..., high = ..., step = ... }}")
        low, high, step = spec["low"], spec["high"], spec.get("step")
        numbers = [v for v in (low, high, step) if v is not None]
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
            raise SpaceError(f"{name}: low, high and step must be numbers")
        if low >= high:
            raise SpaceError(f"{name}: low ({low}) must be below high ({high})")
        if step is not None and (step <= 0 or step > high - low):
            raise SpaceError(f"{name}: step must be above 0 and at most high - low")
        integer = all(isinstance(v, int) for v in numbers)
        return Param(name, low=float(low), high=float(high), step=step, integer=integer)
    raise SpaceError(f"{name}: give a list of values or a range {{ low, high, step }}")


@dataclass(frozen=True)
class SearchSpace:
    params: tuple[Param, ...]

    @classmethod
    def parse(cls, table: Mapping[str, Any], base: Settings) -> SearchSpace:
        """`table` maps setting names to lists or ranges (the TOML file's `[params]`)."""
        if not table:
            raise SpaceError("the search space is empty: list at least one setting under [params]")
        space = cls(tuple(_param(name, spec) for name, spec in table.items()))
        space.check(base)
        return space

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def check(self, base: Settings) -> None:
        """Each value on its own against `base` (choices, range ends): the one clear line for a
        value no setting accepts. Combinations are checked per trial."""
        for param in self.params:
            ends = (param.low, param.high)
            values = param.choices or tuple(v for v in ends if v is not None)
            for value in values:
                if param.integer and isinstance(value, float):
                    value = int(value)
                try:
                    if param.section == RESEARCH:
                        check_candidate(param.field, value)
                    else:
                        trial_settings(base, {param.name: value})
                except (TrialSettingsError, CandidateError) as exc:
                    raise SpaceError(f"{param.name} value {value!r} is refused: {exc}") from None

    def grid(self) -> dict[str, list[Value]]:
        return {p.name: list(p.grid_values()) for p in self.params}

    def grid_size(self) -> int:
        size = 1
        for values in self.grid().values():
            size *= len(values)
        return size

    def grid_points(self) -> list[dict[str, Value]]:
        grid = self.grid()
        return [dict(zip(grid, combo, strict=True)) for combo in itertools.product(*grid.values())]


class TrialSettingsError(ValueError):
    """Settings a trial's values would make invalid (one line)."""


_SECTION_OF = {"RiskSettings": "RISK", "StrategySettings": "STRATEGY", "SignalsSettings": "SIGNALS"}


def _section_with(model: BaseModel, updates: Mapping[str, Value]) -> BaseModel:
    data = model.model_dump()
    data.update(updates)
    try:
        return type(model).model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        section = _SECTION_OF.get(type(model).__name__, "")
        where = f"QTBOT_{section}__{loc[0].upper()}: " if loc and section else ""
        raise TrialSettingsError(f"{where}{message}") from None


def trial_settings(base: Settings, values: Mapping[str, Value]) -> Settings:
    """`base` with `values` (section.field -> value) applied, each section validated again with
    its cross-field checks, as `load_settings` would have built it from the environment."""
    by_section: dict[str, dict[str, Value]] = {}
    for name, value in values.items():
        section, field = name.split(".", 1)
        if section == RESEARCH:
            continue
        by_section.setdefault(section, {})[field] = value
    update = {
        section: _section_with(getattr(base, section), fields)
        for section, fields in by_section.items()
    }
    return base.model_copy(update=update)


def env_text(value: Any) -> str:
    """A setting's value as an environment variable spells it (None = off)."""
    if value is None:
        return "off"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def env_lines(settings: Settings, names: Sequence[str]) -> list[str]:
    """`QTBOT_SECTION__FIELD=value` for `names`, read from the built settings (so `last`,
    `off` and normalised lists are spelt as the settings hold them)."""
    lines = []
    for name in names:
        section, field = name.split(".", 1)
        if section == RESEARCH:
            continue
        value = getattr(getattr(settings, section), field)
        if name == "risk.trailing_arm_after_tiers" and value is None:
            text = "last"
        else:
            text = env_text(value)
        lines.append(f"QTBOT_{section.upper()}__{field.upper()}={text}")
    return lines


def candidates_of(values: Mapping[str, Value]) -> dict[str, Value]:
    """The `research.*` values of a trial, by field name."""
    return {
        name.split(".", 1)[1]: value
        for name, value in values.items()
        if name.startswith(RESEARCH + ".")
    }
