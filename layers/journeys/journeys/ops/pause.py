"""Pause / resume: the journey's entry switch in JourneyTable (no redeploy). enter_contact reads it,
so the webhook, /events, start_journey and segment entry all answer NOT_ENTERED `journey paused`;
executions already running finish normally (a soft stop)."""

from __future__ import annotations

import getpass

from journeys import clock
from journeys.ops.stack import Stack


def who() -> str:
    """Who is operating: the local user name (recorded beside the switch and in stop causes)."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return "unknown"


def set_paused(stack: Stack, journey_id: str, paused: bool, by: str | None = None) -> dict:
    stack.state_machine(journey_id)  # a journey the stack does not have is an error, not a silent switch
    store = stack.journeys()
    store.set_entries_paused(journey_id, paused, by or who(), clock.iso(clock.now()))
    return store.entry_switch(journey_id)
