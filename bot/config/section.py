"""The base of every settings section: frozen, unknown names refused, `off` turns rules off.

Its own module so sections defined next to their feature (e.g. bot.config.notify) share it
without importing bot.config.settings.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class SettingsSection(BaseModel):
    # Infinity and NaN pass most range checks (inf >= 0) but are never a sensible setting.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _off_means_none(cls, data: Any) -> Any:
        """`off` or `none` turns an optional setting off (an empty value means the default)."""
        if not isinstance(data, dict):
            return data
        cleaned = dict(data)
        for name, value in data.items():
            field = cls.model_fields.get(name)
            if (
                field is not None
                and isinstance(value, str)
                and value.strip().lower() in ("off", "none")
                and not field.is_required()
                and type(None) in getattr(field.annotation, "__args__", ())
            ):
                cleaned[name] = None
        return cleaned
