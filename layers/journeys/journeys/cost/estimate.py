"""`journeys cost`: what N contacts cost, from what a rehearsal counted (journeys.local.metering)
priced with journeys.cost.prices; and the same paths in a naive design.

Every figure is per-contact count x unit price x N, kept as line items so the table can show each.
Dollar groups are rounded to the cent and the total is the sum of the rounded groups.

The naive design (one Lambda Task state per step), derived from each contact's traced path:
* every visited action, gate or split step is one Task state (1 transition) invoking one Lambda;
* a wait stays a Wait state (1 transition, no Lambda); an exit is a Succeed state (1 transition);
* a join or goto is an edge, no state (as ours);
* a state's retries, the journeys a step starts (start_journey) and the entry path cost what ours
  measured; DynamoDB reads/writes and emails are ours (the same work per step); a naive Lambda
  request lasts our measured average GB-seconds per request. A Choice after a naive gate is not
  counted, so the naive figure is a lower bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journeys.cost import prices as P
from journeys.local.metering import Counts

GROUPS = ("step_functions", "lambda", "dynamodb", "ses")
DEFAULT_MEMORY_MB = 128  # Lambda's own default, when neither the function nor Globals says
DEFAULT_ARCHITECTURE = "x86_64"
NO_LAMBDA_STEPS = {"wait", "exit", "join", "goto"}
NO_STATE_STEPS = {"join", "goto"}


@dataclass(frozen=True)
class Function:
    memory_mb: int
    architecture: str


@dataclass
class Measured:
    """One rehearsal of a journey in one mode: what the meter counted and the contacts' traces."""

    journey: str
    contacts: int
    counts: Counts  # everything the world did for these contacts
    own: Counts  # the contacts' own executions of this journey only
    traces: list[dict]
    workflow: str = "STANDARD"  # or EXPRESS
    mode: str | None = None  # the journey's `optimize` mode, when the model has one


@dataclass
class Item:
    group: str
    what: str
    per_contact: float
    price: P.Price

    def usd(self, contacts: int) -> float:
        return self.per_contact * contacts * self.price.usd


@dataclass
class Estimate:
    journey: str
    contacts: int
    per_contact: dict[str, float]
    items: list[Item]
    naive_items: list[Item]
    workflow: str = "STANDARD"
    mode: str | None = None
    naive_per_contact: dict[str, float] = field(default_factory=dict)

    def usd(self, naive: bool = False) -> dict[str, float]:
        return dollars(self.naive_items if naive else self.items, self.contacts)

    def to_json(self) -> dict[str, Any]:
        return {"journey": self.journey, "contacts": self.contacts,
                "per_contact": {key: round(value, 4) for key, value in self.per_contact.items()},
                "usd": self.usd(), "naive_usd": self.usd(naive=True)}


def dollars(items: list[Item], contacts: int) -> dict[str, float]:
    usd = {group: round(sum(item.usd(contacts) for item in items if item.group == group), 2) for group in GROUPS}
    usd["total"] = round(sum(usd.values()), 2)
    return usd


# ---------------------------------------------------------------------------- template.yaml
def functions(template: Path) -> dict[str, Function]:
    """Memory and architecture of each function folder (functions/<name>/), from the SAM template:
    the function's own MemorySize/Architectures, else Globals', else Lambda's defaults."""
    import yaml

    class CfnLoader(yaml.SafeLoader):
        pass

    CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)  # !Ref, !Sub ...: not needed here
    document = yaml.load(Path(template).read_text(encoding="utf-8"), Loader=CfnLoader) or {}
    defaults = (document.get("Globals") or {}).get("Function") or {}
    found: dict[str, Function] = {}
    for resource in (document.get("Resources") or {}).values():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        code = str(props.get("CodeUri") or "").rstrip("/")
        if not code:
            continue
        architectures = props.get("Architectures") or defaults.get("Architectures") or [DEFAULT_ARCHITECTURE]
        found[code.rsplit("/", 1)[-1]] = Function(int(props.get("MemorySize") or defaults.get("MemorySize") or DEFAULT_MEMORY_MB),
                                                  str(architectures[0]))
    return found


# ---------------------------------------------------------------------------- the estimate
def estimate(measured: Measured, contacts: int, settings: dict[str, Function]) -> Estimate:
    counts, n = measured.counts, max(measured.contacts, 1)
    gb_s = {arch: 0.0 for arch in P.LAMBDA_GB_SECOND}
    for function, ms in counts.lambda_ms.items():
        spec = settings.get(function, Function(DEFAULT_MEMORY_MB, DEFAULT_ARCHITECTURE))
        gb_s[spec.architecture] = gb_s.get(spec.architecture, 0.0) + ms / 1000 * spec.memory_mb / 1024
    lambda_requests = counts.lambda_total / n
    per_contact = {
        "transitions": counts.transitions / n, "lambda_requests": lambda_requests,
        "lambda_gb_s": sum(gb_s.values()) / n, "dynamodb_read_units": counts.dynamodb_read_units / n,
        "dynamodb_write_units": counts.dynamodb_write_units / n, "emails": counts.emails / n,
    }
    shared = _shared_items(per_contact)
    items = _workflow_items(measured, per_contact, n) + _lambda_items(lambda_requests, {a: v / n for a, v in gb_s.items()}) + shared

    naive = naive_per_contact(measured)
    per_request = {arch: (value / counts.lambda_total if counts.lambda_total else 0.0) for arch, value in gb_s.items()}
    naive_gb_s = {arch: naive["lambda_requests"] * value for arch, value in per_request.items()}
    naive["lambda_gb_s"] = sum(naive_gb_s.values())
    naive_items = ([Item("step_functions", "state transitions (Standard)", naive["transitions"], P.STANDARD_TRANSITION)]
                   + _lambda_items(naive["lambda_requests"], naive_gb_s) + shared)
    naive.update({key: per_contact[key] for key in ("dynamodb_read_units", "dynamodb_write_units", "emails")})
    return Estimate(measured.journey, contacts, per_contact, items, naive_items, measured.workflow, measured.mode, naive)


def _workflow_items(measured: Measured, per_contact: dict[str, float], n: int) -> list[Item]:
    if measured.workflow.upper() != "EXPRESS":
        return [Item("step_functions", "state transitions (Standard)", per_contact["transitions"], P.STANDARD_TRANSITION)]
    counts = measured.counts
    lambda_ms = sum(counts.lambda_ms.values()) / max(len(counts.execution_ms), 1)  # Tasks take no virtual time here
    step = P.EXPRESS_DURATION_STEP_MS
    billed_s = sum(math.ceil((ms + lambda_ms) / step) * step / 1000 for ms in counts.execution_ms)
    return [Item("step_functions", "Express requests", counts.executions / n, P.EXPRESS_REQUEST),
            Item("step_functions", "Express duration (64 MB)", billed_s * P.EXPRESS_MEMORY_CHUNK_GB / n, P.EXPRESS_GB_SECOND)]


def _lambda_items(requests: float, gb_s: dict[str, float]) -> list[Item]:
    items = [Item("lambda", "Lambda requests", requests, P.LAMBDA_REQUEST)]
    items += [Item("lambda", f"Lambda duration ({arch})", value, P.LAMBDA_GB_SECOND[arch])
              for arch, value in gb_s.items() if value]
    return items


def _shared_items(per_contact: dict[str, float]) -> list[Item]:
    return [Item("dynamodb", "DynamoDB read request units", per_contact["dynamodb_read_units"], P.DYNAMODB_READ_UNIT),
            Item("dynamodb", "DynamoDB write request units", per_contact["dynamodb_write_units"], P.DYNAMODB_WRITE_UNIT),
            Item("ses", "SES emails", per_contact["emails"], P.SES_EMAIL)]


def naive_shape(trace: dict) -> tuple[int, int]:
    """(transitions, Lambda requests) of one traced path with one Lambda Task state per step."""
    transitions = requests = 0
    for step in trace.get("steps", []):
        if step["type"] in NO_STATE_STEPS:
            continue
        transitions += 1
        requests += step["type"] not in NO_LAMBDA_STEPS
    return transitions, requests


def naive_per_contact(measured: Measured) -> dict[str, float]:
    """Per contact: the traced paths redrawn naively; what lies outside them (retries, journeys
    started, the entry path) as measured."""
    n = max(measured.contacts, 1)
    shapes = [naive_shape(trace) for trace in measured.traces]
    own_states = sum(trace.get("transitions", 0) for trace in measured.traces)
    outside_transitions = measured.counts.transitions - own_states
    outside_requests = measured.counts.lambda_total - measured.own.lambda_total
    return {"transitions": (sum(t for t, _ in shapes) + outside_transitions) / n,
            "lambda_requests": (sum(r for _, r in shapes) + outside_requests) / n}
