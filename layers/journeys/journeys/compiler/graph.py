"""The step graph of a journey: references, successors, cycles and reachability."""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import Problem
from ..model import Step

END = "__end__"
EXIT = "exit"


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


class Graph:
    """Successors of every step; `next` defaults to the following step, the last to END."""

    def __init__(self, steps: list[Step]):
        self.steps = steps
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
        if step.type == "exit":
            return []
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

    def cycles_without_wait(self) -> list[Problem]:
        """A loop that passes no wait step would spin without end (Tarjan's SCC, waits removed)."""
        nodes = [sid for sid in self.order if self.by_id[sid].type != "wait"]
        edges = {sid: [t for t in self.successors(self.by_id[sid]) if t in self.by_id and self.by_id[t].type != "wait"] for sid in nodes}
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
                        members = [sid for sid in self.order if sid in component]
                        problems.append(Problem(
                            f"this loop passes no wait step and would spin without end: {' -> '.join(members + members[:1])}",
                            members[0], "next",
                        ))

        for node in nodes:
            if node not in index:
                visit(node)
        return problems
