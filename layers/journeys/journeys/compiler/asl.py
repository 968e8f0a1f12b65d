"""Journey -> Amazon States Language (Standard workflow, JSONPath), deterministic.

Shape of the execution state (`$`), kept small:
  contact  the fresh contact, as the last Task read it
  event    the entry event
  data     integration results by data key ({status, headers, body})
  checks   outcomes of the gates/splits ahead, evaluated by the Task before them
  wake     timestamps of the scheduled waits ahead (until, until_time, optimized send)
  seq      how many Tasks have run: with the execution and step it keys idempotency

Why checks are precomputed: Choice rules cannot express list `contains`, relative times or our
missing-field semantics, so the one Python evaluator decides and the Choice only branches on the
answer. The Task that runs before a gate/split evaluates it; after a Wait (the contact may have
changed) a small "After <wait>" Task refreshes the contact first — only where one is needed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from journeys.gcpause import paused_gc
from journeys.language.durations import parse_wait
from journeys.language.model import CONTROL, INTEGRATIONS, MESSAGING, STATE_NAME_MAX, UPDATES, Journey, Step, state_name_length
from journeys.compiler.graph import END, EXIT, Graph, ends_journey

FUNCTIONS = {
    **{t: "MessagingFunctionArn" for t in MESSAGING},
    **{t: "UpdatesFunctionArn" for t in UPDATES},
    **{t: "ActionsFunctionArn" for t in INTEGRATIONS},
    **{t: "ControlFunctionArn" for t in CONTROL},
}
CONTROL_FUNCTION = "ControlFunctionArn"
GOAL_ERROR = "GoalReached"  # steps/runtime.py raises it; Lambda names errors by class
LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
RETRY = [
    {"ErrorEquals": LAMBDA_TRANSIENT, "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2.0,
     "MaxDelaySeconds": 60, "JitterStrategy": "FULL"},
    # A send still in progress (an earlier attempt timed out mid-call): wait, then ask again.
    {"ErrorEquals": ["StepInProgress"], "IntervalSeconds": 30, "MaxAttempts": 5, "BackoffRate": 2.0,
     "MaxDelaySeconds": 300, "JitterStrategy": "FULL"},
]
END_STATE = "End"
GOAL_STATE = "Goal reached"
# An email Task may be told to wait (quiet hours, the send rate: runtime/policies.py raises these):
# its Catch keeps the time, waits until it and runs the Task again. Costs nothing unless it happens.
EMAIL_TYPES = ("send_email", "send_optimized_email", "send_notification_email")
DEFERRALS = ["QuietHoursDeferral", "SendRateDeferral"]


@dataclass
class Node:
    name: str
    kind: str  # task | refresh | skip | choice | wait | sched_wait | event_wait | succeed | defer | defer_wait
    step: Step | None = None
    edges: list[str | None] = field(default_factory=list)  # target state names; None = end of journey
    lookahead: dict[str, dict] = field(default_factory=dict)
    exit_when: bool = False


@dataclass
class StateInfo:
    """What a state means for the trace: its step (None for generated states) and its role."""

    step_id: str | None
    role: str


@dataclass
class Compiled:
    journey: Journey
    asl: dict[str, Any]
    states: dict[str, StateInfo]
    passthrough: dict[tuple[str, str | None], list[str]]  # steps (join, goto) crossed on an edge

    def to_json(self) -> str:
        with paused_gc():
            return protect_dollar_braces(json.dumps(self.asl, indent=2, ensure_ascii=False)) + "\n"


# SAM/CloudFormation's DefinitionSubstitutions rewrite every ${...} in the definition's text. Our
# placeholders are whole JSON strings; any other "${" is the user's (e.g. "Total: ${{ order.total }}")
# and is written as the JSON escape \u0024{, which decodes to the same text but matches no placeholder.
PLACEHOLDERS = sorted(set(FUNCTIONS.values()) | {CONTROL_FUNCTION})


def protect_dollar_braces(text: str) -> str:
    text = text.replace("${", "\\u0024{")
    for name in PLACEHOLDERS:
        text = text.replace(f'"\\u0024{{{name}}}"', f'"${{{name}}}"')
    return text


def compile_journey(journey: Journey) -> Compiled:
    with paused_gc():
        return _Compiler(journey).run()


class _Compiler:
    def __init__(self, journey: Journey):
        self.journey = journey
        self.graph = Graph(journey.steps, journey.id)
        # Unreachable steps (a warning) get no state: AWS rejects a state nothing leads to.
        dead = set(self.graph.unreachable())
        self.live = [step for step in journey.steps if step.id not in dead]
        self.nodes: dict[str, Node] = {}
        self.entry_state: dict[str, str] = {}  # step id -> the state where the step begins
        self.passthrough: dict[tuple[str, str | None], list[str]] = {}
        self.names: set[str] = set()
        self.infos: dict[str, StateInfo] = {}

    # ------------------------------------------------------------------ phase 1: nodes
    def run(self) -> Compiled:
        self._name_states()
        for step in self.live:
            self._node(step)
        start, crossed = self._resolve(self.journey.steps[0].id)
        self._plan_lookahead()
        start = self._insert_start(start)
        states: dict[str, Any] = {}
        while len(states) < len(self.nodes):  # emitting may add End / Goal reached / recovery states
            for name in [n for n in self.nodes if n not in states]:
                states[name] = self._emit(self.nodes[name])
        if crossed:
            self.passthrough[("", start)] = crossed
        asl = {
            "Comment": f"{self.journey.name} (journey '{self.journey.id}', compiled from {self.journey.id}.journey.yaml; do not edit)",
            "StartAt": start,
            "States": states,
        }
        return Compiled(self.journey, asl, self.infos, self.passthrough)

    def _name_states(self) -> None:
        labels: dict[str, int] = {}
        for step in self.live:
            labels[step.label] = labels.get(step.label, 0) + 1
        self.label = {}
        for step in self.live:
            name = step.label if labels[step.label] == 1 else _with_suffix(step.label, f" ({step.id})")
            self.label[step.id] = self._unique(name)

    def _unique(self, name: str) -> str:
        candidate, n = _clip(name, STATE_NAME_MAX), 2
        while candidate in self.names or candidate in (END_STATE, GOAL_STATE):
            candidate, n = _with_suffix(name, f" #{n}"), n + 1
        self.names.add(candidate)
        return candidate

    def _add(self, node: Node, role: str) -> Node:
        self.nodes[node.name] = node
        self.infos[node.name] = StateInfo(node.step.id if node.step else None, role)
        return node

    def _node(self, step: Step) -> None:
        name, s = self.label[step.id], step.settings
        if step.type in ("join", "goto"):
            return  # crossed on edges, no state (recorded in passthrough for the trace)
        self.entry_state[step.id] = name
        if step.id in self.journey.skipped:
            self._add(Node(name, "skip", step), "skip")
        elif step.type == "send_optimized_email":
            best = self._unique(_with_suffix(name, ": best time"))
            self.entry_state[step.id] = best
            self._add(Node(best, "sched_wait", step), "best_time")
            self._add(Node(name, "task", step), "task")
        elif ends_journey(step, self.journey.id):
            self._add(Node(name, "succeed", step), "exit")  # a plain end: no Lambda, status SUCCEEDED
        elif step.type in FUNCTIONS:
            self._add(Node(name, "task", step), "task")
        elif step.type == "wait":
            kind = "event_wait" if s.get("for_event") else "wait" if s.get("duration") else "sched_wait"
            self._add(Node(name, kind, step), "wait")
        elif step.type in ("gate", "split"):
            self._add(Node(name, "choice", step), "choice")
        elif step.type == "exit":
            self._add(Node(name, "succeed", step), "exit")

    def _resolve(self, step_id: str) -> tuple[str | None, list[str]]:
        """The state a reference lands on, and the join/goto steps crossed to get there."""
        crossed: list[str] = []
        while step_id not in (END, EXIT):
            step = self.graph.by_id[step_id]
            if step.type == "goto":
                crossed.append(step_id)
                step_id = step.settings["step"]
            elif step.type == "join":
                crossed.append(step_id)
                step_id = self.graph.default_next(step)
            else:
                return self.entry_state[step_id], crossed
        return None, crossed

    def _edges(self) -> None:
        for node in list(self.nodes.values()):
            step = node.step
            if node.kind == "sched_wait" and step.type == "send_optimized_email":
                node.edges = [self.label[step.id]]
                continue
            targets = [] if node.kind == "succeed" else self.graph.successors(step)
            for target in targets:
                state, crossed = self._resolve(target)
                node.edges.append(state)
                if crossed:
                    self.passthrough.setdefault((node.name, state), crossed)

    # ------------------------------------------------------------------ phase 2: lookahead
    def _closure(self, target: str | None) -> dict[str, dict]:
        """What must be known before reaching `target`: checks of choices, wake times of waits.

        A depth-first walk through choices and skips, each visited once (choices whose branches
        meet again would otherwise be walked once per path: exponential), in preorder."""
        needs: dict[str, dict] = {}
        seen: set[str] = set()
        stack = [target]
        while stack:
            name = stack.pop()
            if name is None or name in seen:
                continue
            seen.add(name)
            node = self.nodes[name]
            if node.kind == "skip":
                stack.append(node.edges[0])
            elif node.kind == "sched_wait":
                needs.setdefault("wake", {})[node.step.key] = _wake_spec(node.step)
            elif node.kind == "choice":
                needs.setdefault("checks", {})[node.step.key] = _check_spec(node.step)
                stack.extend(reversed(node.edges))  # the first branch is walked first
        return needs

    def _plan_lookahead(self) -> None:
        self._edges()
        exit_when = self.journey.entry.exit_when is not None
        for node in list(self.nodes.values()):
            if node.kind == "task":
                for edge in node.edges:
                    _merge(node.lookahead, self._closure(edge))
            elif node.kind in ("wait", "sched_wait", "event_wait"):
                for index, edge in enumerate(node.edges):
                    node.edges[index] = self._after_wait(node, index, edge, exit_when)

    def _after_wait(self, wait: Node, index: int, target: str | None, exit_when: bool) -> str | None:
        """After a wait the contact may have changed: refresh it where something ahead reads it."""
        landing = target
        while landing is not None and self.nodes[landing].kind == "skip":
            landing = self.nodes[landing].edges[0]
        if landing is not None and self.nodes[landing].kind == "task":
            self.nodes[landing].exit_when |= exit_when
            return target
        needs = self._closure(target)
        goal = exit_when and landing is not None and self.nodes[landing].kind != "succeed"
        if not needs and not goal:
            return target
        suffix = "" if len(wait.edges) == 1 else (" (event)" if index == 0 else " (timeout)")
        name = self._unique(_with_suffix(f"After {wait.name}", suffix))
        refresh = self._add(Node(name, "refresh", None, [target], needs, goal), "refresh")
        if (wait.name, target) in self.passthrough:
            self.passthrough[(name, target)] = self.passthrough.pop((wait.name, target))
        return refresh.name

    def _insert_start(self, start: str | None) -> str:
        needs = self._closure(start)
        if start is not None and not needs:
            return start
        node = self._add(Node(self._unique("Start"), "refresh", None, [start], needs), "refresh")
        return node.name

    # ------------------------------------------------------------------ phase 3: ASL
    def _emit(self, node: Node) -> dict[str, Any]:
        step, kind = node.step, node.kind
        if kind in ("task", "refresh"):
            return self._task(node)
        if kind == "skip":
            return self._then({"Type": "Pass", "Comment": f"{step.type} · step {step.id} · skipped: incomplete settings"}, node.edges[0])
        if kind == "succeed":
            why = f"{step.type} · step {step.id}" if step else "goal reached (exit_when) · generated" if node.name == GOAL_STATE else "end of the journey · generated"
            return {"Type": "Succeed", "Comment": why}
        if kind == "wait":
            seconds = parse_wait(step.settings["duration"])
            return self._then({"Type": "Wait", "Comment": f"wait {step.settings['duration']} · step {step.id}", "Seconds": seconds}, node.edges[0])
        if kind == "sched_wait":
            what = "best send time" if step.type == "send_optimized_email" else "wait until"
            return self._then({"Type": "Wait", "Comment": f"{what} · step {step.id}", "TimestampPath": f"$.wake.{step.key}"}, node.edges[0])
        if kind == "event_wait":
            return self._event_wait(node)
        if kind == "defer":
            return {"Type": "Pass", "Comment": f"send deferred (quiet hours or send rate) · step {step.id} · generated",
                    "Parameters": {"until.$": "States.StringToJson($.deferral.Cause)", "error.$": "$.deferral.Error", "seq.$": "$.seq"},
                    "ResultPath": "$.deferral", "Next": node.edges[0]}
        if kind == "defer_wait":
            return {"Type": "Wait", "Comment": f"until the deferred send may go · step {step.id} · generated",
                    "TimestampPath": "$.deferral.until.errorMessage", "Next": node.edges[0]}
        if kind == "choice":
            return self._choice(node)
        raise AssertionError(kind)

    def _then(self, state: dict, target: str | None) -> dict:
        if target is None:
            state["End"] = True
        else:
            state["Next"] = target
        return state

    def _target(self, target: str | None) -> str:
        """A Next for places that cannot say End (Choice, Catch)."""
        if target is None:
            self._end_state()
            return END_STATE
        return target

    def _end_state(self) -> None:
        if END_STATE not in self.nodes:
            self._add(Node(END_STATE, "succeed"), "end")

    def _payload(self, node: Node) -> dict[str, Any]:
        payload: dict[str, Any] = {"journey": {"id": self.journey.id, "timezone": self.journey.timezone}}
        if self.journey.policies is not None:
            payload["journey"]["policies"] = self.journey.policies.model_dump()
        if node.step is not None:
            step = node.step
            payload["step"] = {"id": step.id, "type": step.type, "settings": step.settings}
            if step.apply_to is not None:
                payload["step"]["apply_to"] = step.apply_to.model_dump(by_alias=True, exclude_none=True)
            if step.type in INTEGRATIONS:
                payload["step"]["data_key"] = step.result_key
        else:
            payload["step"] = {"id": None, "type": "refresh"}
        if node.exit_when:
            payload["exit_when"] = self.journey.entry.exit_when.model_dump(by_alias=True, exclude_none=True)
        if node.lookahead:
            payload["lookahead"] = node.lookahead
        payload["execution.$"] = "$$.Execution.Id"
        payload["state.$"] = "$"
        return payload

    def _task(self, node: Node) -> dict[str, Any]:
        step = node.step
        function = FUNCTIONS[step.type] if step is not None else CONTROL_FUNCTION
        comment = f"{step.type} · step {step.id}" if step else "refresh the contact" + (", check exit_when" if node.exit_when else "") + " · generated"
        state: dict[str, Any] = {
            "Type": "Task",
            "Comment": comment,
            "Resource": "${" + function + "}",
            "Parameters": self._payload(node),
            "Retry": RETRY,
        }
        catches = []
        if node.exit_when:
            catches.append({"ErrorEquals": [GOAL_ERROR], "ResultPath": None, "Next": self._goal_state()})
        if step is not None and step.type in EMAIL_TYPES and node.kind == "task":
            catches.append({"ErrorEquals": DEFERRALS, "ResultPath": "$.deferral", "Next": self._deferral(node)})
        target = node.edges[0]
        recover = self._recovery(node) if node.lookahead and node.kind == "task" else target
        catches.append({"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": self._target(recover)})
        state["Catch"] = catches
        return self._then(state, target)

    def _recovery(self, node: Node) -> str:
        """A failed Task did not evaluate what lies ahead: a refresh does, then the journey goes on."""
        name = self._unique(f"Recover after {node.name}")
        self._add(Node(name, "refresh", None, [node.edges[0]], node.lookahead), "refresh")
        return name

    def _deferral(self, node: Node) -> str:
        """A send told to wait: a Pass keeps until when (and the seq, so only this Task reads it as
        its own), a Wait holds the contact until then, and the same Task runs again."""
        keep = self._unique(_with_suffix(node.name, ": deferred"))
        wait = self._unique(_with_suffix(node.name, ": waits to send"))
        self._add(Node(keep, "defer", node.step, [wait]), "defer")
        self._add(Node(wait, "defer_wait", node.step, [node.name]), "defer")
        return keep

    def _goal_state(self) -> str:
        if GOAL_STATE not in self.nodes:
            self._add(Node(GOAL_STATE, "succeed"), "goal")
        return GOAL_STATE

    def _choice(self, node: Node) -> dict[str, Any]:
        step, key = node.step, f"$.checks.{node.step.key}"
        present = {"Variable": key, "IsPresent": True}
        if step.type == "gate":
            rules = [{"And": [present, {"Variable": key, "BooleanEquals": True}], "Next": self._target(node.edges[0])}]
            default = self._target(node.edges[1])
        else:
            branches = step.settings["branches"]
            rules = [
                {"And": [present, {"Variable": key, "StringEquals": branch["name"]}], "Next": self._target(edge)}
                for branch, edge in zip(branches, node.edges)
            ]
            default = self._target(node.edges[len(branches)] if step.settings.get("default") else node.edges[0])
        return {"Type": "Choice", "Comment": f"{step.type} · step {step.id}", "Choices": rules, "Default": default}

    def _event_wait(self, node: Node) -> dict[str, Any]:
        step = node.step
        for_event = step.settings["for_event"]
        payload = self._payload(node)
        payload["task_token.$"] = "$$.Task.Token"
        return {
            "Type": "Task",
            "Comment": f"wait for event '{for_event['event']}' · step {step.id}",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "${" + CONTROL_FUNCTION + "}", "Payload": payload},
            "TimeoutSeconds": parse_wait(for_event["timeout"]),
            "ResultPath": "$.received",
            "Retry": RETRY,
            "Catch": [
                {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timed_out", "Next": self._target(node.edges[1])},
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": self._target(node.edges[1])},
            ],
            **({"Next": node.edges[0]} if node.edges[0] is not None else {"End": True}),
        }


def _clip(text: str, units: int) -> str:
    """The longest start of `text` within `units` UTF-16 code units (a state name's measure)."""
    text = text[:units]  # a character is one or two code units
    while state_name_length(text) > units:
        text = text[:-1]
    return text


def _with_suffix(name: str, suffix: str) -> str:
    """`name` + `suffix` within a state name's length: the name gives way, the suffix (what tells
    clashing states apart) stays whole."""
    return _clip(name, STATE_NAME_MAX - state_name_length(suffix)) + suffix


def _merge(into: dict[str, dict], more: dict[str, dict]) -> None:
    for section, entries in more.items():
        into.setdefault(section, {}).update(entries)


def _check_spec(step: Step) -> dict[str, Any]:
    s = step.settings
    if step.type == "gate":
        return {"gate": s["when"]}
    branches = s["branches"]
    if "weight" in branches[0]:
        return {"random": [{"name": b["name"], "weight": b["weight"]} for b in branches], "seed": step.id}
    return {"split": [{"name": b["name"], "when": b["when"]} for b in branches]}


def _wake_spec(step: Step) -> dict[str, Any]:
    s = step.settings
    if step.type == "send_optimized_email":
        return {"best_time_within": s.get("window", "24h")}
    if s.get("until_time"):
        return {"until_time": s["until_time"], **({"days": s["days"]} if s.get("days") else {})}
    return {"until": s["until"]}
