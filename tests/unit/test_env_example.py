"""`.env.example` documents every setting with its default; this test keeps it in step."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from bot.config.settings import Settings, env_names, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def _example_entries() -> dict[str, tuple[str, str]]:
    entries: dict[str, tuple[str, str]] = {}
    comment = ""
    for line in EXAMPLE.read_text().splitlines():
        if line.startswith("# ") and not line.startswith("# ---"):
            comment = line[2:]
        elif line.startswith(("QTBOT_", "#QTBOT_")):  # `#QTBOT_`: default left unset on purpose
            name, _, value = line.removeprefix("#").partition("=")
            entries[name] = (value, comment)
            comment = ""
    return entries


def _default(path: tuple[str, ...]) -> str:
    model: type[BaseModel] = Settings
    for part in path[:-1]:
        model = model.model_fields[part].annotation  # type: ignore[assignment]
    value = model.model_fields[path[-1]].default
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_every_setting_is_documented_with_its_default() -> None:
    entries = _example_entries()
    names = env_names()
    assert set(entries) == set(names), (
        f"missing from .env.example: {sorted(set(names) - set(entries))}; "
        f"unknown in .env.example: {sorted(set(entries) - set(names))}"
    )
    for name, path in names.items():
        value, comment = entries[name]
        default = _default(path)
        assert value == default, f"{name}: example says {value!r}, default is {default!r}"
        assert comment, f"{name} has no one-line meaning above it"


def test_example_file_loads_as_a_valid_config(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text(EXAMPLE.read_text())

    assert load_settings(env).exchange.mode == "paper"
