"""Replay moto runs on a second ASL interpreter (aws-local-stepfunctions) and compare.

A moto run leaves a history: every state entered with its input, left with its output, every
Lambda Task's input (after Parameters) and its result or error. `record` turns that history and
the deployed definition into a Case; tests/fidelity/replay.mjs runs every Case's definition on the
second interpreter, one Node process for the whole batch, with each Task answered by the recorded
outcomes in order; `differences` names every place where the two interpreters disagree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NODE = REPO / "node_modules" / ".bin" / "node"
LIBRARY_CLI = REPO / "node_modules" / ".bin" / "local-sfn"  # present when aws-local-stepfunctions is installed
REPLAYER = HERE / "replay.mjs"
TASK_TOKEN = "<task token>"  # each interpreter makes its own; compared masked

sys.path.insert(0, str(HERE.parent / "infra"))
from infra_tools import require  # noqa: E402 - one "fail in CI, skip elsewhere" rule for every tool


@dataclass
class Case:
    """One execution as moto ran it, ready to replay."""

    name: str  # "<journey> × <contact>"
    definition: dict
    input: Any
    execution_id: str
    outcomes: dict[str, list[dict]] = field(default_factory=dict)  # Task state -> [{result} | {error, cause}]
    states: list[dict] = field(default_factory=list)  # [{state, type, input, output}]
    tasks: list[dict] = field(default_factory=list)  # [{state, input}]: the Task input after Parameters
    end: dict = field(default_factory=dict)  # {status, output} | {status, error, cause}

    def batch_item(self) -> dict:
        started = self.execution_id.rsplit(":", 1)[-1]
        return {
            "name": self.name, "definition": self.definition, "input": self.input, "outcomes": self.outcomes,
            "context": {"Execution": {"Id": self.execution_id, "Name": started, "Input": self.input},
                        "Task": {"Token": TASK_TOKEN}},
        }


def _details(event: dict) -> dict:
    return next((v for k, v in event.items() if k.endswith("EventDetails")), {})


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def record(name: str, definition: dict, execution_arn: str, history: list[dict]) -> Case:
    """A Case from a moto execution's history and the definition it ran."""
    case = Case(name, definition, None, execution_arn)
    current = None
    for event in history:
        kind, details = event["type"], _details(event)
        if kind == "ExecutionStarted":
            case.input = _json(details.get("input"))
        elif kind.endswith("StateEntered"):
            current = details["name"]
            case.states.append({"state": current, "type": kind.removesuffix("StateEntered"), "input": _json(details.get("input"))})
        elif kind.endswith("StateExited"):
            case.states[-1]["output"] = _json(details.get("output"))
        elif kind == "LambdaFunctionScheduled":
            case.tasks.append({"state": current, "input": _json(details.get("input"))})
        elif kind == "TaskScheduled":
            case.tasks.append({"state": current, "input": _json(details.get("parameters"))})
        elif kind in ("LambdaFunctionSucceeded", "TaskSucceeded"):
            case.outcomes.setdefault(current, []).append({"result": _json(details.get("output"))})
        elif kind in ("LambdaFunctionFailed", "LambdaFunctionTimedOut", "TaskFailed", "TaskTimedOut", "LambdaFunctionScheduleFailed", "TaskSubmitFailed"):
            case.outcomes.setdefault(current, []).append({"error": details.get("error"), "cause": details.get("cause")})
        elif kind == "ExecutionSucceeded":
            case.end = {"status": "SUCCEEDED", "output": _json(details.get("output"))}
        elif kind in ("ExecutionFailed", "ExecutionAborted", "ExecutionTimedOut"):
            status = kind.removeprefix("Execution").upper().replace("TIMEDOUT", "TIMED_OUT")
            case.end = {"status": status, "error": details.get("error"), "cause": details.get("cause")}
    return case


def require_replayer() -> None:
    """Node 22 and aws-local-stepfunctions from package-lock.json (npm ci): CI fails without them."""
    require(NODE)
    require(LIBRARY_CLI)


def replay(cases: list[Case], timeout: float = 120) -> dict[str, dict]:
    """Every case on aws-local-stepfunctions, in one Node process: name -> what it did."""
    require_replayer()
    done = subprocess.run([str(NODE), str(REPLAYER)], input=json.dumps([c.batch_item() for c in cases]),
                          capture_output=True, text=True, timeout=timeout, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(f"replay.mjs failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return {item["name"]: item for item in json.loads(done.stdout)}


# ---------------------------------------------------------------------------------------- comparing
def _masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: TASK_TOKEN if k == "task_token" else _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def json_diff(a: Any, b: Any, path: str = "$") -> list[str]:
    """Where two JSON values differ, as `path: moto X, replay Y` lines (a few, not a dump)."""
    if isinstance(a, dict) and isinstance(b, dict):
        lines = []
        for key in sorted(set(a) | set(b)):
            if key not in b:
                lines.append(f"{path}.{key}: moto {_short(a[key])}, replay has no such key")
            elif key not in a:
                lines.append(f"{path}.{key}: moto has no such key, replay {_short(b[key])}")
            else:
                lines += json_diff(a[key], b[key], f"{path}.{key}")
        return lines
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [line for i, (x, y) in enumerate(zip(a, b)) for line in json_diff(x, y, f"{path}[{i}]")]
    if a != b or type(a) is bool and type(b) is not bool or type(b) is bool and type(a) is not bool:
        return [f"{path}: moto {_short(a)}, replay {_short(b)}"]
    return []


def _short(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def _choices(states: list[dict]) -> list[tuple[str, str | None]]:
    return [(s["state"], states[i + 1]["state"] if i + 1 < len(states) else None)
            for i, s in enumerate(states) if s["type"] == "Choice"]


def differences(case: Case, replayed: dict) -> list[str]:
    """Every disagreement between moto (the Case) and the replay, each line naming the case and state."""
    where = case.name
    out: list[str] = []
    moto_names = [s["state"] for s in case.states]
    node_names = [s["state"] for s in replayed["states"]]
    if moto_names != node_names:
        k = next((i for i, (x, y) in enumerate(zip(moto_names, node_names)) if x != y), min(len(moto_names), len(node_names)))
        out.append(f"{where}: state sequence differs at #{k}: moto {moto_names[k:k + 3]}, replay {node_names[k:k + 3]}"
                   f" (after {moto_names[max(k - 1, 0)]!r}; moto {len(moto_names)} states, replay {len(node_names)})")
    for i, (m, n) in enumerate(zip(case.states, replayed["states"])):
        if m["state"] != n["state"]:
            break
        for part in ("input", "output"):
            out += [f"{where}: state {m['state']!r} (#{i}) {part}: {line}" for line in json_diff(m.get(part), n.get(part))]
    for (state, moto_next), (_, node_next) in zip(_choices(case.states), _choices(replayed["states"])):
        if moto_next != node_next:
            out.append(f"{where}: Choice {state!r} went to {moto_next!r} on moto, {node_next!r} on replay")
    if len(case.tasks) != len(replayed["tasks"]):
        out.append(f"{where}: {len(case.tasks)} Task invocations on moto, {len(replayed['tasks'])} on replay")
    for m, n in zip(case.tasks, replayed["tasks"]):
        if m["state"] != n["state"]:
            break
        out += [f"{where}: Task {m['state']!r} input after Parameters: {line}" for line in json_diff(_masked(m["input"]), _masked(n["input"]))]
    end, node_end = case.end, replayed["end"] or {}
    if end.get("status") != node_end.get("status"):
        out.append(f"{where}: execution {end.get('status')} on moto ({end.get('error') or ''} {_short(end.get('cause') or '', 300)}),"
                   f" {node_end.get('status')} on replay ({node_end.get('error') or ''} {_short(node_end.get('cause') or '', 300)})")
    elif end.get("status") == "SUCCEEDED":
        out += [f"{where}: final output: {line}" for line in json_diff(end.get("output"), node_end.get("output"))]
    return out
