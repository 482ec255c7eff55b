"""What `qtbot config` prints: every setting as an .env line (secrets masked), or with `--diff`
only those that differ from qtbot's defaults."""

from __future__ import annotations

from typing import Any

from bot.config.settings import Settings, public_view

# Settings whose "none" has a name of its own (read back by their validators).
_NONE_SPELLED = {"trailing_arm_after_tiers": "last"}


def default_settings() -> Settings:
    """qtbot's defaults, whatever the environment and .env say (no validation: the defaults
    are valid by construction, and validating would read the environment again)."""
    values = {
        name: field.get_default(call_default_factory=True)
        for name, field in Settings.model_fields.items()
    }
    return Settings.model_construct(**values)


def config_view(settings: Settings, diff: bool) -> dict[str, Any]:
    """The public view (secrets masked); with `diff`, only what differs from the defaults."""
    view = public_view(settings)
    if not diff:
        return view
    defaults = public_view(default_settings())
    changed: dict[str, Any] = {}
    for section, values in view.items():
        default = defaults.get(section)
        if isinstance(values, dict):
            fields = {k: v for k, v in values.items() if (default or {}).get(k, object()) != v}
            if fields:
                changed[section] = fields
        elif values != default:
            changed[section] = values
    return changed


def config_lines(view: dict[str, Any]) -> list[str]:
    """`QTBOT_SECTION__KEY=value` lines that read back as the same configuration."""
    lines = []
    for section, values in view.items():
        if isinstance(values, dict):
            fields = _section_fields(section)
            for key, value in values.items():
                field = fields.get(key)
                default_set = field is not None and field.default is not None
                text = _plain(value, off=default_set)
                if value is None and key in _NONE_SPELLED:
                    text = _NONE_SPELLED[key]
                lines.append(f"QTBOT_{section.upper()}__{key.upper()}={text}")
        else:
            lines.append(f"QTBOT_{section.upper()}={_plain(values)}")
    return lines


def _section_fields(section: str) -> dict[str, Any]:
    field = Settings.model_fields.get(section)
    model = field.annotation if field is not None else None
    return dict(getattr(model, "model_fields", {}))


def _plain(value: Any, off: bool = False) -> str:
    """`off` for a rule turned off whose default is on: an empty value would mean the
    default again, so the printed configuration must not be read back as something else."""
    if value is None:
        return "off" if off else ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
