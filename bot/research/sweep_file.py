"""The sweep's input: a small TOML file (stdlib `tomllib`) and/or `--param` flags.

```toml
[sweep]                       # any option of `qtbot sweep`; flags given win
objective = "calmar"
sampler = "tpe"
trials = 100                  # per walk-forward window
heatmap = ["risk.stop_loss_pct", "risk.trailing_stop_pct"]

[params]                      # section.field = list of values, or a range
"risk.stop_loss_pct" = { low = 10, high = 40, step = 5 }
"risk.trailing_arm_after_tiers" = [0, 1, "last"]
"strategy.start_regimes" = ["easing", "easing,neutral"]
```

`--param risk.stop_loss_pct=10..40..5` is a range (step optional), `--param
strategy.start_regimes=easing|easing,neutral` a list (`|` between values).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

OPTIONS = (
    "objective",
    "sampler",
    "trials",
    "workers",
    "train_years",
    "test_years",
    "mode",
    "heatmap",
    "top",
    "seed",
    "study",
    "storage",
    "test_spans",
)


class SweepFileError(ValueError):
    """An unreadable sweep file or flag (one line)."""


def read_sweep_file(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(options, params) from the TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SweepFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SweepFileError(f"cannot read {path}: it is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise SweepFileError(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"sweep", "params"})
    if unknown:
        raise SweepFileError(f"{path}: unknown table(s) {unknown}: use [sweep] and [params]")
    options, params = data.get("sweep", {}), data.get("params", {})
    if not isinstance(options, dict) or not isinstance(params, dict):
        raise SweepFileError(f"{path}: [sweep] and [params] must be tables")
    bad = sorted(set(options) - set(OPTIONS))
    if bad:
        raise SweepFileError(f"{path}: unknown [sweep] option(s) {bad}: use {', '.join(OPTIONS)}")
    return options, params


def _scalar(text: str) -> str | int | float | bool:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text.strip()


def parse_param_flag(text: str) -> tuple[str, Any]:
    name, sep, spec = text.partition("=")
    if not sep or not name.strip() or not spec.strip():
        raise SweepFileError(
            f"--param {text!r}: write NAME=LOW..HIGH[..STEP] or NAME=A|B|C "
            "(e.g. risk.stop_loss_pct=10..40..5)"
        )
    if ".." in spec and "|" not in spec:
        parts = [_scalar(p) for p in spec.split("..")]
        if len(parts) not in (2, 3) or not all(isinstance(p, int | float) for p in parts):
            raise SweepFileError(f"--param {text!r}: a range is LOW..HIGH or LOW..HIGH..STEP")
        keys = ("low", "high", "step")
        return name.strip(), dict(zip(keys, parts, strict=False))
    return name.strip(), [_scalar(p) for p in spec.split("|")]
