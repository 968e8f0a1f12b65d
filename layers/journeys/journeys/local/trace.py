"""A run's trace (JOURNEYS.md `--json` contract), built from the execution history and the step
results our handlers stored; the same reading works for an execution on AWS."""

from __future__ import annotations

import json
from typing import Any

from journeys import clock
from journeys.compiler.asl import END_STATE, GOAL_STATE
from journeys.local.runner import Run
from journeys.runtime.policies import DEFERRALS, deferral

ENTERED = "StateEntered"
EXITED = "StateExited"


def build_trace(run: Run) -> dict[str, Any]:
    trace: dict[str, Any] = {"journey": run.journey.id, "status": run.status}
    if run.reason and run.status != "SUCCEEDED":
        trace["reason"] = run.reason
    steps, transitions = _steps(run)
    if any(state == GOAL_STATE for state in _entered_names(run)):
        trace["reason"] = "goal reached (exit_when)"
    trace["steps"] = steps
    trace["contact"] = run.contact
    trace["journey_data"] = (run.output or _last_output(run) or {}).get("data", {})
    trace["messages"] = _messages(run)
    if run.events:  # outside events delivered during the run (--event-at): what each resumed or entered
        trace["events"] = run.events
    if run.execution_arn:
        trace["execution"] = run.execution_arn
        trace["transitions"] = transitions
    return trace


def _entered_names(run: Run) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in run.history if e["type"].endswith(ENTERED)]


def _last_output(run: Run) -> dict | None:
    for event in reversed(run.history):
        if event["type"].endswith(EXITED):
            return json.loads(event["stateExitedEventDetails"]["output"])
    return None


def _steps(run: Run) -> tuple[list[dict[str, Any]], int]:
    compiled = run.compiled
    states, passthrough = compiled.states, compiled.passthrough
    steps: list[dict[str, Any]] = []
    entered: dict[str, tuple[str, dict]] = {}  # state name -> (at, input)
    previous = ""
    transitions = 0

    def crossed(source: str, target: str | None, at: str) -> None:
        keys = [(source, target)] + ([(source, None)] if target == END_STATE else [])
        for key in keys:
            for step_id in passthrough.get(key, []):
                steps.append(_entry(compiled, step_id, "done", at))

    for event in run.history:
        kind = event["type"]
        at = clock.iso(event["timestamp"])
        if kind.endswith(ENTERED):
            transitions += 1
            details = event["stateEnteredEventDetails"]
            name = details["name"]
            crossed(previous, name, at)
            entered[name] = (at, json.loads(details.get("input") or "{}"))
            previous = name
        elif kind.endswith(EXITED):
            details = event["stateExitedEventDetails"]
            name = details["name"]
            info = states.get(name)
            if info is None or info.step_id is None:
                continue
            at_entered, state_in = entered.get(name, (at, {}))
            output = json.loads(details.get("output") or "{}")
            outcome, detail = _outcome(compiled, info, state_in, output)
            if outcome:
                steps.append(_entry(compiled, info.step_id, outcome, at_entered, detail))
                held = deferral(state_in) if info.role == "task" else None
                if held:  # it ran after waiting (quiet hours, send rate): `at` is when it sent
                    steps[-1]["deferred"] = DEFERRALS.get(held["error"], held["error"])
    if run.status == "SUCCEEDED" and previous:
        crossed(previous, None, clock.iso(run.history[-1]["timestamp"]))
    return steps, transitions


def _entry(compiled, step_id: str, outcome: str, at: str, detail: str | None = None) -> dict[str, Any]:
    step = compiled.journey.step(step_id)
    entry = {"id": step_id, "type": step.type, "outcome": outcome, "at": at}
    if step.name:
        entry["name"] = step.name
    if detail:
        entry["detail"] = detail
    return entry


def _outcome(compiled, info, state_in: dict, output: dict) -> tuple[str | None, str | None]:
    step = compiled.journey.step(info.step_id)
    if info.role == "task":
        if isinstance(output.get("deferral"), dict) and "Error" in output["deferral"]:
            return None, None  # told to wait: the step is reported when it runs again
        if "failure" in output:
            failure = output["failure"]
            return "failed", f"{failure.get('Error')}: {_cause(failure.get('Cause'))}"
        last = output.get("last") or {}
        if last.get("step") != step.id:
            return None, None  # the goal was reached before the step ran
        return last.get("outcome"), last.get("reason")
    if info.role == "skip":
        return "skipped", "incomplete settings"
    if info.role == "wait":
        if step.settings.get("for_event"):
            return ("timeout", None) if "timed_out" in output else ("event", None)
        return "done", None
    if info.role == "choice":
        value = (state_in.get("checks") or {}).get(step.key)
        if step.type == "gate":
            return ("branch:next" if value is True else "branch:else"), None
        return f"branch:{value if value is not None else 'default'}", None
    if info.role == "exit":
        return "done", None
    return None, None  # best_time waits: the send that follows carries the time


def _cause(cause: Any) -> str:
    try:
        parsed = json.loads(cause)
        return parsed.get("errorMessage") or str(parsed)
    except (TypeError, ValueError):
        return str(cause)


def _messages(run: Run) -> list[dict[str, Any]]:
    messages = []
    for result in run.step_results:
        message = result.get("message")
        if message:
            messages.append({"step": result["step"], **{k: v for k, v in message.items() if k != "id"}})
    return messages
