"""The step graph of a journey: references, successors, cycles and reachability."""

from __future__ import annotations

from collections.abc import Iterator

from journeys.language.errors import Problem
from journeys.language.model import EXIT, Step

END = "__end__"  # not a valid step id: cannot clash with one
__all__ = ["END", "EXIT", "Graph", "ends_journey", "exits_itself", "references"]


def references(step: Step) -> Iterator[tuple[str, str | None]]:
    """(key, step id) for every place a step names another step."""
    yield "next", step.next
    settings = step.settings
    if step.type == "gate":
        yield "settings.else", settings.get("else")
    elif step.type == "goto":
        yield "settings.step", settings.get("step")
    elif step.type == "split":
        for index, branch in enumerate(settings.get("branches") or []):
            if isinstance(branch, dict):
                yield f"settings.branches.{index}.next", branch.get("next")
        yield "settings.default", settings.get("default")
    elif step.type == "wait":
        for key in ("on_event", "on_timeout"):
            yield f"settings.{key}", settings.get(key)
            for_event = settings.get("for_event")
            if isinstance(for_event, dict):
                yield f"settings.for_event.{key}", for_event.get(key)


def ends_journey(step: Step, journey_id: str | None) -> bool:
    """`exit_journey` of this very journey, unconditionally (and fully configured, so not compiled
    to a skip), is the end of the journey: nothing follows it."""
    settings = step.settings
    return (step.type == "exit_journey" and step.apply_to is None and set(settings) <= {"journey"}
            and settings.get("journey") in (None, journey_id))


def exits_itself(step: Step, journey_id: str | None) -> bool:
    """`exit_journey` of this very journey (perhaps under apply_to): when it is done, the journey ends."""
    return step.type == "exit_journey" and (step.settings or {}).get("journey") in (None, journey_id)


def is_real_wait(step: Step) -> bool:
    """A wait that always takes time, so a loop through it cannot spin: every wait but `until`,
    whose timestamp may be empty or past (then it does not wait)."""
    return step.type == "wait" and step.settings.get("until") is None


class Graph:
    """Successors of every step; `next` defaults to the following step, the last to END.
    With the journey's id, an `exit_journey` of the journey itself ends it too."""

    def __init__(self, steps: list[Step], journey_id: str | None = None):
        self.steps = steps
        self.journey_id = journey_id
        self.by_id = {step.id: step for step in steps}
        self.order = [step.id for step in steps]
        self.position = {sid: index for index, sid in enumerate(self.order)}

    def default_next(self, step: Step) -> str:
        if step.next:
            return step.next
        index = self.position[step.id]
        return self.order[index + 1] if index + 1 < len(self.order) else END

    def successors(self, step: Step) -> list[str]:
        s = step.settings
        if step.type == "exit" or ends_journey(step, self.journey_id):
            return []
        if exits_itself(step, self.journey_id):  # under apply_to: ends the journey when done, else goes on
            return [self.default_next(step), END]
        if step.type == "goto":
            return [s["step"]]
        if step.type == "gate":
            return [self.default_next(step), s["else"]]
        if step.type == "split":
            targets = [branch["next"] for branch in s["branches"]]
            return targets + ([s["default"]] if s.get("default") else [])
        if step.type == "wait" and s.get("for_event"):
            for_event = s["for_event"]
            return [
                s.get("on_event") or for_event.get("on_event") or self.default_next(step),
                s.get("on_timeout") or for_event.get("on_timeout") or self.default_next(step),
            ]
        return [self.default_next(step)]

    def unreachable(self) -> list[str]:
        seen, stack = set(), [self.order[0]]
        while stack:
            current = stack.pop()
            if current in seen or current not in self.by_id:
                continue
            seen.add(current)
            stack.extend(self.successors(self.by_id[current]))
        return [sid for sid in self.order if sid not in seen]

    def never_ends(self, goal: bool = False) -> list[Problem]:
        """A journey no path of which reaches its end loops forever: Step Functions rejects a state
        machine without a terminal state (MISSING_END_STATE). `goal`: entry.exit_when is set, a way
        out after every wait (and every loop passes a wait)."""
        if goal or self.order[0] in self._can_end():
            return []
        return [Problem(
            "the journey never ends: no path reaches an exit or the end of the last step, so contacts would "
            "loop forever (Step Functions rejects a state machine without a way out); add an exit, a gate "
            "with 'else: exit' or entry.exit_when", self.order[0], "next",
        )]

    def _can_end(self) -> set[str]:
        """Steps from which some path reaches the end of the journey (a walk back from the ends)."""
        before: dict[str, list[str]] = {sid: [] for sid in self.order}
        ending = []
        for step in self.steps:
            targets = self.successors(step)
            if not targets or any(t not in self.by_id for t in targets):
                ending.append(step.id)  # exit, exit_journey of itself, END or `else: exit`
            for target in targets:
                if target in before:
                    before[target].append(step.id)
        seen, stack = set(ending), list(ending)
        while stack:
            for previous in before[stack.pop()]:
                if previous not in seen:
                    seen.add(previous)
                    stack.append(previous)
        return seen

    def cycles_without_wait(self) -> list[Problem]:
        """A loop that passes no real wait would spin without end (Tarjan's SCC, real waits removed)."""
        nodes = [sid for sid in self.order if not is_real_wait(self.by_id[sid])]
        edges = {sid: [t for t in self.successors(self.by_id[sid]) if t in self.by_id and not is_real_wait(self.by_id[t])] for sid in nodes}
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        on_stack: set[str] = set()
        stack: list[str] = []
        problems: list[Problem] = []
        counter = [0]

        def visit(root: str) -> None:
            # Iterative Tarjan: deep journeys (thousands of steps) must not hit the recursion limit.
            work = [(root, iter(edges[root]))]
            index[root] = low[root] = counter[0]
            counter[0] += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                node, successors = work[-1]
                advanced = False
                for target in successors:
                    if target not in index:
                        index[target] = low[target] = counter[0]
                        counter[0] += 1
                        stack.append(target)
                        on_stack.add(target)
                        work.append((target, iter(edges[target])))
                        advanced = True
                        break
                    if target in on_stack:
                        low[node] = min(low[node], index[target])
                if advanced:
                    continue
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in edges[node]:
                        problems.append(self._spinning_loop(component))

        for node in nodes:
            if node not in index:
                visit(node)
        return problems

    def _spinning_loop(self, component: list[str]) -> Problem:
        members = sorted(component, key=self.position.__getitem__)  # in file order
        path = " -> ".join(members + members[:1])
        if any(self.by_id[sid].type == "wait" for sid in members):  # only `until` waits on the way
            why = "passes no wait step that always waits (a wait `until` a past time does not wait)"
        else:
            why = "passes no wait step"
        return Problem(f"this loop {why} and would spin without end: {path}", members[0], "next")
