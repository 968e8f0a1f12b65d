"""Shared fixtures: paths to the shared examples, a moto world on a virtual clock, journey files."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "journeys"
MONDAY_8AM = dt.datetime(2026, 1, 5, 8, 0, tzinfo=dt.timezone.utc)


def shared_contact(name: str) -> dict:
    return json.loads((SHARED / "contacts" / f"{name}.json").read_text())


@pytest.fixture
def ada() -> dict:
    return shared_contact("ada")


@pytest.fixture
def bob() -> dict:
    return shared_contact("bob")


@pytest.fixture
def write_journey(tmp_path):
    """Write a journey file from YAML text; returns its path."""

    def write(text: str, name: str = "test.journey.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


@pytest.fixture
def run(tmp_path):
    """Run a journey file for a contact on moto (fresh world per call) and return the trace."""
    from journeys.local.runner import run_journey
    from journeys.local.trace import build_trace

    def go(path, contact, event=None, start=MONDAY_8AM, **kwargs):
        result = run_journey(path, contact, event or {}, start=start, **kwargs)
        trace = build_trace(result)
        trace["_run"] = result
        return trace

    return go


def outcomes(trace: dict) -> dict[str, str]:
    return {step["id"]: step["outcome"] for step in trace["steps"]}


def emf_records(text: str) -> dict[str, list[dict]]:
    """Metric name -> the EMF records written for it."""
    records: dict[str, list[dict]] = {}
    for line in text.splitlines():
        if line.startswith('{"_aws"'):
            record = json.loads(line)
            for definition in record["_aws"]["CloudWatchMetrics"]:
                for metric in definition["Metrics"]:
                    records.setdefault(metric["Name"], []).append(
                        {"dimensions": definition["Dimensions"][0], "values": {k: record[k] for k in definition["Dimensions"][0]}})
    return records
