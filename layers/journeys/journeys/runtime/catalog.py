"""The journeys a deployment knows: entry rules by id, and where each state machine lives.

`journeys build` writes catalog.json into this package (so it ships in the layer); local runs
build a Catalog from journey files.

Where the state machines are: on AWS, JOURNEY_STATE_MACHINE_ARN is one ARN with `{journey}` in place
of the journey id (`arn:aws:states:<region>:<account>:stateMachine:<stack>_{journey}:live`, the
`live` alias of the state machine `journeys build` names `<stack>_<journey id>`): its size does not
grow with the number of journeys (Lambda's environment is capped at 4 KB in all). Local runs, whose
machines have other names, set JOURNEY_STATE_MACHINES (a JSON object id -> ARN), which wins.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from journeys.language.model import Entry, Journey

PACKAGED = Path(__file__).with_name("catalog.json")
ARN_PATTERN_ENV = "JOURNEY_STATE_MACHINE_ARN"
ARN_MAP_ENV = "JOURNEY_STATE_MACHINES"
JOURNEY_PLACEHOLDER = "{journey}"


class UnknownJourney(LookupError):
    pass


@dataclass
class Catalog:
    rules: dict[str, Entry]
    state_machines: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_journeys(cls, journeys: list[Journey], state_machines: dict[str, str] | None = None) -> "Catalog":
        return cls({j.id: j.entry for j in journeys}, dict(state_machines or {}))

    @classmethod
    def packaged(cls) -> "Catalog":
        """The catalog shipped in the layer (or the file JOURNEYS_CATALOG names: local runs write
        the catalog of the journeys they deployed), with ARNs from the Lambda environment."""
        path = Path(os.environ.get("JOURNEYS_CATALOG") or PACKAGED)
        raw = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        rules = {jid: Entry.model_validate(entry) for jid, entry in raw.items()}
        return cls(rules, state_machines_from_environment(rules))

    def to_json(self) -> str:
        return json.dumps({jid: rules.model_dump(mode="json", by_alias=True, exclude_none=True) for jid, rules in sorted(self.rules.items())}, indent=2) + "\n"

    def entry(self, journey_id: str) -> Entry:
        try:
            return self.rules[journey_id]
        except KeyError:
            raise UnknownJourney(f"unknown journey {journey_id!r} (known: {', '.join(sorted(self.rules)) or 'none'})") from None

    def state_machine_arn(self, journey_id: str) -> str:
        self.entry(journey_id)
        try:
            return self.state_machines[journey_id]
        except KeyError:
            raise UnknownJourney(f"journey {journey_id!r} has no deployed state machine") from None

    def triggered_by(self, event_name: str) -> list[str]:
        return sorted(jid for jid, rules in self.rules.items() if rules.trigger == "event" and rules.event == event_name)


def state_machines_from_environment(journey_ids) -> dict[str, str]:
    """Journey id -> state machine ARN: JOURNEY_STATE_MACHINE_ARN with each id filled in, then the
    explicit JOURNEY_STATE_MACHINES map (local runs) over it."""
    pattern = os.environ.get(ARN_PATTERN_ENV) or ""
    arns = {jid: pattern.replace(JOURNEY_PLACEHOLDER, jid) for jid in journey_ids} if JOURNEY_PLACEHOLDER in pattern else {}
    arns.update(json.loads(os.environ.get(ARN_MAP_ENV) or "{}"))
    return arns
