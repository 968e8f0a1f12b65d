"""`optimize: cost`: each run of steps between two waits becomes one Task state.

Users pay Step Functions per state transition. In one-step mode (the default) every action step
is a Task and every gate/split a Choice; here the steps from one wait to the next — action steps,
gates, splits, go-tos, joins, skips and exits, everything that takes no time — run in one Lambda
invocation (runtime/batch.py walks them). Waits stay native Wait states and `for_event` waits stay
callback Tasks, so the console still shows where each contact waits.

A run that can end at more than one place (two waits, or a wait and the end) is followed by a
Choice on `$.next`; a run with one way out goes there directly. Runs are keyed by where they start
and whether a wait comes right before them (then exit_when is checked).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from journeys.language.model import INTEGRATIONS, STATE_NAME_MAX, state_name_length

if TYPE_CHECKING:
    from journeys.compiler.asl import Node, _Compiler

WAITS = ("wait", "sched_wait", "event_wait")
FOLDED = ("task", "skip", "choice", "succeed")
MIXED_FUNCTION = "StepsFunctionArn"  # a run whose steps belong to more than one step group
MODE_NOTE = "optimize: cost"


class Folder:
    def __init__(self, compiler: "_Compiler"):
        from journeys.compiler import asl

        self.asl = asl
        self.c = compiler
        self.nodes = compiler.nodes
        self.old_passthrough = compiler.passthrough
        self.passthrough: dict[tuple[str, str | None], list[str]] = {}
        self.states: dict[str, dict[str, Any]] = {}
        self.runs: dict[tuple[str, bool], str] = {}  # (first state, after a wait) -> run state name
        self.pending: list[tuple[str, dict[str, Any]]] = []  # wait states to emit once runs exist
        self.exit_when = compiler.journey.entry.exit_when is not None
        self.folded = {n.step.id: n for n in self.nodes.values() if n.kind in FOLDED}  # step id -> its node
        # Only waits keep their names; every other state is folded, so its name is free again.
        compiler.names = {n.name for n in self.nodes.values() if n.kind in WAITS}
        compiler.infos = {name: info for name, info in compiler.infos.items() if self.nodes[name].kind in WAITS}

    # ------------------------------------------------------------------ where an edge leads
    def land(self, source: str, target: str | None, crossed: list[str], after_wait: bool) -> str | None:
        """The state an edge from `source` (a wait, or "" for the start) to `target` goes to."""
        node = self.nodes.get(target) if target is not None else None
        needs_run = node is not None and (
            node.kind in FOLDED or node.kind == "sched_wait" or (after_wait and self.exit_when))
        if not needs_run:
            if crossed:
                self.passthrough[(source, target)] = crossed
            if node is not None:
                self.wait_state(node)
            return target
        run = self.run_state({"to": node.step.id} if node.kind in FOLDED else self._out(target), after_wait)
        if crossed:
            self.passthrough[(source, run)] = crossed
        return run

    def _out(self, target: str | None, via: list[str] | None = None) -> dict[str, Any]:
        edge: dict[str, Any] = {"out": target}
        node = self.nodes.get(target) if target is not None else None
        if node is not None and node.kind == "sched_wait":
            edge["wake"] = {node.step.key: self.asl._wake_spec(node.step)}
        if via:
            edge["via"] = via
        return edge

    # ------------------------------------------------------------------ a run of steps
    def run_state(self, start: dict[str, Any], after_wait: bool) -> str:
        key = (start.get("to") or f"out:{start.get('out')}", after_wait and self.exit_when)
        if key in self.runs:
            return self.runs[key]
        ops, order = self._walk(start)
        name = self.c._unique(self._name(order, start))
        self.runs[key] = name
        outs: list[str | None] = []
        for edge in [start] + [e for op in ops.values() for e in op.get("next", [])]:
            if "out" in edge and edge["out"] not in outs:
                outs.append(edge["out"])
        if any(op["kind"] == "exit" for op in ops.values()) and None not in outs:
            outs.append(None)
        groups = sorted({self.asl.FUNCTIONS[op["step"]["type"]] for op in ops.values() if op["kind"] == "task"})
        function = groups[0] if len(groups) == 1 else MIXED_FUNCTION if groups else self.asl.CONTROL_FUNCTION
        payload: dict[str, Any] = {"journey": {"id": self.c.journey.id, "timezone": self.c.journey.timezone},
                                   "batch": {"start": start, "ops": ops}}
        if self.c.journey.policies is not None:
            payload["journey"]["policies"] = self.c.journey.policies.model_dump()
        if after_wait and self.exit_when:
            payload["exit_when"] = self.c.journey.entry.exit_when.model_dump(by_alias=True, exclude_none=True)
        payload["execution.$"] = "$$.Execution.Id"
        payload["state.$"] = "$"
        steps = ", ".join(order) if order else "none: refresh the contact"
        state: dict[str, Any] = {
            "Type": "Task", "Comment": f"steps {steps} · {MODE_NOTE}", "Resource": "${" + function + "}",
            "Parameters": payload, "Retry": self.asl.RETRY,
        }
        self.c.infos[name] = self.asl.StateInfo(order[0] if order else None, "batch")
        self.states[name] = state
        # Where the run goes next: straight on, or through a Choice on $.next.
        targets = [self._wait(out) for out in outs]
        catches = []
        if after_wait and self.exit_when:
            catches.append({"ErrorEquals": [self.asl.GOAL_ERROR], "ResultPath": None, "Next": self._goal()})
        if any(op["kind"] == "task" and op["step"]["type"] in self.asl.EMAIL_TYPES for op in ops.values()):
            catches.append({"ErrorEquals": self.asl.DEFERRALS, "ResultPath": "$.deferral", "Next": self._deferral(name)})
        # The whole Task failed (not one step: those are caught inside): the contact goes the first way out.
        # Before a scheduled wait, a refresh computes its wake time (as "Recover after" does in one-step mode).
        first = outs[0]
        safe = self.run_state(self._out(first), False) if first is not None and self.nodes[first].kind == "sched_wait" else first
        catches.append({"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": self._target(safe)})
        state["Catch"] = catches
        if len(outs) == 1:
            self._then(state, targets[0])
        else:
            state["Next"] = self._dispatch(name, outs, targets)
        return name

    def _walk(self, start: dict[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str]]:
        ops: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        stack = [start["to"]] if "to" in start else []
        while stack:
            node = self.folded[stack.pop()]
            step = node.step
            if step.id in ops:
                continue
            op: dict[str, Any] = {"id": step.id}
            if node.kind == "task":
                op["kind"] = "task"
                op["step"] = self._step_ref(step)
            elif node.kind == "skip":
                op["kind"] = "skip"
            elif node.kind == "succeed":
                op["kind"] = "exit"
            else:
                op.update(kind="choice", type=step.type, check=self.asl._check_spec(step))
                if step.type == "split":
                    op["branches"] = [b["name"] for b in step.settings["branches"]]
                    op["default"] = bool(step.settings.get("default"))
            if node.kind != "succeed":
                op["next"] = [self._edge(node, target) for target in node.edges]
            ops[step.id] = op
            order.append(step.id)
            stack.extend(e["to"] for e in reversed(op.get("next", [])) if "to" in e)
        return ops, order

    def _edge(self, node: "Node", target: str | None) -> dict[str, Any]:
        via = self.old_passthrough.get((node.name, target)) or []
        if target is not None and self.nodes[target].kind in FOLDED:
            return {"to": self.nodes[target].step.id, **({"via": via} if via else {})}
        return self._out(target, via)

    def _step_ref(self, step) -> dict[str, Any]:
        ref: dict[str, Any] = {"id": step.id, "type": step.type, "settings": step.settings}
        if step.apply_to is not None:
            ref["apply_to"] = step.apply_to.model_dump(by_alias=True, exclude_none=True)
        if step.type in INTEGRATIONS:
            ref["data_key"] = step.result_key
        return ref

    def _name(self, order: list[str], start: dict[str, Any]) -> str:
        """The run's steps by name, as many as fit in a state name, then how many more."""
        if not order:
            return f"Before {start['out']}" if start.get("out") else "Refresh"
        labels = [self.c.journey.step(step_id).label for step_id in order]
        if len(labels) == 1:
            return labels[0]  # a step's own name (at most 80 characters; _unique tells clashes apart)
        for shown in range(len(labels), 0, -1):
            more = len(labels) - shown
            text = " + ".join(labels[:shown]) + (f" + {more} more" if more else "")
            if state_name_length(text) <= STATE_NAME_MAX - 4:  # room for a " #2" that tells runs apart
                return text
        return self.asl._with_suffix(labels[0], f" + {len(labels) - 1} more")

    def _deferral(self, run: str) -> str:
        """A send told to wait (quiet hours, send rate): keep until when, wait, run the same run again
        (its steps done before answer from their records), as one-step mode does for one Task."""
        keep = self.c._unique(self.asl._with_suffix(run, ": deferred"))
        wait = self.c._unique(self.asl._with_suffix(run, ": waits to send"))
        self.states[keep] = {"Type": "Pass", "Comment": f"send deferred (quiet hours or send rate) · {MODE_NOTE}",
                             "Parameters": {"until.$": "States.StringToJson($.deferral.Cause)", "error.$": "$.deferral.Error",
                                            "seq.$": "$.seq"},
                             "ResultPath": "$.deferral", "Next": wait}
        self.states[wait] = {"Type": "Wait", "Comment": f"until the deferred send may go · {MODE_NOTE}",
                             "TimestampPath": "$.deferral.until.errorMessage", "Next": run}
        for name in (keep, wait):
            self.c.infos[name] = self.asl.StateInfo(None, "defer")
        return keep

    # ------------------------------------------------------------------ the states around runs
    def _dispatch(self, run: str, outs: list[str | None], targets: list[str | None]) -> str:
        name = self.c._unique(self.asl._with_suffix(run, " ?"))
        rules = [{"Variable": "$.next", "StringEquals": out, "Next": target}
                 for out, target in zip(outs, targets) if out is not None]
        default = self._target(None) if None in outs else rules.pop()["Next"]
        self.states[name] = {"Type": "Choice", "Comment": f"where the run '{run}' ends · {MODE_NOTE}",
                             "Choices": rules, "Default": default}
        self.c.infos[name] = self.asl.StateInfo(None, "dispatch")
        return name

    def _wait(self, target: str | None) -> str | None:
        """A run's way out: the wait state itself (the run computed its wake time), or the end."""
        if target is not None:
            self.wait_state(self.nodes[target])
        return target

    def wait_state(self, node: "Node") -> None:
        if node.name in self.states:
            return
        self.states[node.name] = {}  # reserved: a loop may come back here while it is built
        targets = []
        for target in node.edges:
            crossed = self.old_passthrough.get((node.name, target)) or []
            targets.append(self.land(node.name, target, crossed, True))
        node.edges = targets
        self.states[node.name] = self.c._emit(node)
        if self.asl.END_STATE in self.c.nodes:  # a for_event wait's Catch may name End
            self._target(None)

    def _then(self, state: dict, target: str | None) -> None:
        if target is None:
            state["End"] = True
        else:
            state["Next"] = target

    def _target(self, target: str | None) -> str:
        if target is None:
            self._succeed(self.asl.END_STATE, "end of the journey · generated", "end")
            return self.asl.END_STATE
        return target

    def _goal(self) -> str:
        self._succeed(self.asl.GOAL_STATE, "goal reached (exit_when) · generated", "goal")
        return self.asl.GOAL_STATE

    def _succeed(self, name: str, comment: str, role: str) -> None:
        if name not in self.states:
            self.states[name] = {"Type": "Succeed", "Comment": comment}
            self.c.infos[name] = self.asl.StateInfo(None, role)

    # ------------------------------------------------------------------ the whole machine
    def states_from(self, start: str | None, crossed: list[str]) -> tuple[str, dict[str, dict[str, Any]]]:
        first = self.land("", start, crossed, False)
        if first is None:  # nothing but the end (cannot happen for a valid journey; keep ASL valid)
            first = self._target(None)
        return first, self.states
