"""Express where it fits (`optimize: cost`): a journey every path of which ends within 5 minutes.

Express workflows cost $1 per million requests plus duration instead of $25 per million state
transitions, but they run at most 5 minutes, have no callback (`.waitForTaskToken`) Tasks, and
StartExecution does not refuse a repeated execution name, nor can an execution be stopped or
described by ARN (DEPLOY.md says what that means). So a journey fits when, compiled:

* its state machine has no cycle (a loop through a wait has no upper bound on its duration);
* it has no callback Task (`wait: for_event`) and no Wait whose length is known only at run time
  (`until`, `until_time`, the optimized send's best time, and — when the stack has quiet hours or a
  send rate — an email's deferral);
* its longest path — the Wait seconds plus each Task's Lambda timeout — is within 5 minutes;
* no other journey of the stack ends it with `exit_journey` (that needs StopExecution).
"""

from __future__ import annotations

from typing import Any

from journeys.compiler.asl import DEFERRALS, Compiled

EXPRESS_LIMIT_SECONDS = 300
# The template's Lambda timeouts (template.yaml: Globals 30 s; the actions and steps functions 60 s).
TASK_SECONDS = {"ActionsFunctionArn": 60, "StepsFunctionArn": 60}
DEFAULT_TASK_SECONDS = 30


def express_misfit(compiled: Compiled, exited_by_others: bool = False, sends_may_wait: bool = False) -> str | None:
    """Why the journey stays a Standard workflow, or None when it deploys as Express.
    `sends_may_wait`: the stack's delivery policies have quiet hours or a send rate, which may
    defer an email until a time known only then (the compiled deferral Wait)."""
    if compiled.journey.optimize != "cost":
        return "optimize: steps (Express is for optimize: cost)"
    if exited_by_others:
        return "another journey ends it with exit_journey (StopExecution works on Standard executions only)"
    states = compiled.asl["States"]
    for name, state in states.items():
        if "waitForTaskToken" in str(state.get("Resource", "")):
            return f"'{name}' waits for an event (Express has no callback Tasks)"
        if state["Type"] == "Wait" and "Seconds" not in state:
            if _is_deferral(state) and not sends_may_wait:
                continue  # no quiet hours, no send rate: nothing defers a send
            if _is_deferral(state):
                return "an email may be deferred by the stack's quiet hours or send rate (no upper bound)"
            return f"'{name}' waits until a time known only at run time"
    longest = _longest_path(states, compiled.asl["StartAt"])
    if longest is None:
        return "a loop: no upper bound on how long a contact stays"
    if longest > EXPRESS_LIMIT_SECONDS:
        return f"its longest path may take {longest} s (waits plus Lambda timeouts), over Express's {EXPRESS_LIMIT_SECONDS} s"
    return None


def _is_deferral(state: dict[str, Any]) -> bool:
    return state.get("TimestampPath") == "$.deferral.until.errorMessage"


def _seconds(state: dict[str, Any]) -> int:
    if state["Type"] == "Wait" and _is_deferral(state):
        return 0  # only reachable when sends may wait, which express_misfit refused already
    if state["Type"] == "Wait":
        return int(state["Seconds"])
    if state["Type"] == "Task":
        placeholder = str(state.get("Resource", "")).strip("${}")
        return TASK_SECONDS.get(placeholder, DEFAULT_TASK_SECONDS)
    return 0


def _targets(state: dict[str, Any]) -> list[str]:
    found = [state.get("Next"), state.get("Default")]
    # A deferral's Catch leads back to the same Task after a wait: counted only when sends may wait,
    # which express_misfit refuses before it looks for the longest path.
    found += [rule.get("Next") for rule in state.get("Choices", []) + state.get("Catch", [])
              if not set(rule.get("ErrorEquals", [])) & set(DEFERRALS)]
    return sorted({t for t in found if t})


def _longest_path(states: dict[str, dict[str, Any]], start: str) -> int | None:
    """Seconds of the longest path from `start`; None if a cycle is reachable."""
    longest: dict[str, int] = {}
    visiting: set[str] = set()
    order = [(start, False)]
    while order:
        name, done = order.pop()
        if done:
            visiting.discard(name)
            longest[name] = _seconds(states[name]) + max((longest[t] for t in _targets(states[name])), default=0)
            continue
        if name in longest:
            continue
        if name in visiting:
            return None
        visiting.add(name)
        order.append((name, True))
        for target in _targets(states[name]):
            if target in visiting:
                return None
            if target not in longest:
                order.append((target, False))
    return longest[start]
