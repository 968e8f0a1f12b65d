"""Where a deployment's functions find each journey's state machine: one ARN pattern in the
environment (constant size whatever the number of journeys), or the explicit map local runs set."""

from __future__ import annotations

import json

import pytest

from journeys.runtime.catalog import Catalog, UnknownJourney

# What template.yaml's JOURNEY_STATE_MACHINE_ARN resolves to for a stack named journeys-dev.
DEPLOYED = "arn:aws:states:eu-west-1:123456789012:stateMachine:journeys-dev_{journey}:live"


@pytest.fixture
def environment(monkeypatch):
    for key in ("JOURNEY_STATE_MACHINE_ARN", "JOURNEY_STATE_MACHINES", "JOURNEYS_CATALOG"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_given_the_deployed_pattern_then_every_packaged_journey_has_its_live_alias_arn(environment):
    environment.setenv("JOURNEY_STATE_MACHINE_ARN", DEPLOYED)

    catalog = Catalog.packaged()

    assert catalog.state_machine_arn("lead-nurturing") == \
        "arn:aws:states:eu-west-1:123456789012:stateMachine:journeys-dev_lead-nurturing:live"
    assert set(catalog.state_machines) == set(catalog.rules) and len(catalog.rules) >= 4


def test_given_a_local_map_then_it_wins_over_the_pattern(environment):
    environment.setenv("JOURNEY_STATE_MACHINE_ARN", DEPLOYED)
    local = "arn:aws:states:us-east-1:123456789012:stateMachine:lead-nurturing"
    environment.setenv("JOURNEY_STATE_MACHINES", json.dumps({"lead-nurturing": local}))

    catalog = Catalog.packaged()

    assert catalog.state_machine_arn("lead-nurturing") == local
    assert catalog.state_machine_arn("sales-handoff").endswith(":stateMachine:journeys-dev_sales-handoff:live")


def test_given_a_catalog_file_then_its_journeys_get_arns_from_the_pattern(environment, tmp_path):
    (tmp_path / "catalog.json").write_text(json.dumps({"welcome": {"trigger": "event", "event": "signed_up"}}))
    environment.setenv("JOURNEYS_CATALOG", str(tmp_path / "catalog.json"))
    environment.setenv("JOURNEY_STATE_MACHINE_ARN", DEPLOYED)

    catalog = Catalog.packaged()

    assert catalog.triggered_by("signed_up") == ["welcome"]
    assert catalog.state_machine_arn("welcome").endswith(":stateMachine:journeys-dev_welcome:live")


def test_given_no_location_in_the_environment_then_a_journey_has_no_deployed_state_machine(environment):
    catalog = Catalog.packaged()

    with pytest.raises(UnknownJourney, match="has no deployed state machine"):
        catalog.state_machine_arn("lead-nurturing")
