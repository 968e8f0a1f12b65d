"""Shared by tests/integrations (imported by name, not a conftest.py: the suite's tests import the root
conftest as `conftest`, so a second one would shadow it). Fixtures for integration steps: the real HTTP test server of tests/actions on 127.0.0.1, an actions
file pointing at it, and short HTTP timeouts so a hanging endpoint costs well under a second."""

from __future__ import annotations

import datetime as dt
import json
import socket
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "actions"))

from actions_testserver import Reply, TestServer  # noqa: E402

SHARED_ACTIONS = Path(__file__).resolve().parents[3] / "shared" / "journeys" / "actions.yaml"
SHARED_BASE = "http://127.0.0.1:8765"

START = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)
SHARED = SHARED_ACTIONS.parent


def outcomes(trace: dict) -> dict[str, str]:
    return {step["id"]: step["outcome"] for step in trace["steps"]}


def details(trace: dict) -> dict[str, str]:
    return {step["id"]: step.get("detail", "") for step in trace["steps"]}


def contact(name: str) -> dict:
    return json.loads((SHARED / "contacts" / f"{name}.json").read_text())


def run_trace(path, who: dict, event: dict | None = None, **kwargs) -> dict:
    """One local run (fresh moto world) -> the `--json` trace, with the Run under `_run`."""
    from journeys.local.runner import run_journey
    from journeys.local.trace import build_trace

    result = run_journey(path, who, event or {}, start=kwargs.pop("start", START), **kwargs)
    trace = build_trace(result)
    trace["_run"] = result
    return trace


@pytest.fixture
def server():
    srv = TestServer()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def quick_http(monkeypatch):
    monkeypatch.setenv("JOURNEYS_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("JOURNEYS_HTTP_RETRIES", "2")


@pytest.fixture
def actions_file(tmp_path, server):
    """The shared actions.yaml with every base_url moved to the test server's random port."""
    path = tmp_path / "actions.yaml"
    path.write_text(SHARED_ACTIONS.read_text().replace(SHARED_BASE, server.url()))
    return path


@pytest.fixture
def write_actions(tmp_path):
    def write(items: list[dict]) -> Path:
        path = tmp_path / "more-actions.yaml"
        path.write_text(yaml.safe_dump(items))
        return path

    return write


def closed_base_url() -> str:
    """http://127.0.0.1:<port> where nothing listens: the port is bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"
