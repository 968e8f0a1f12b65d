"""Errors a user sees: each names the file, the step and the key, never a traceback."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    message: str
    step: str | None = None
    key: str | None = None

    def render(self, file: str | None) -> str:
        where = [part for part in (file, self.step and f"step '{self.step}'", self.key) if part]
        return f"{': '.join(where)}: {self.message}" if where else self.message


@dataclass
class JourneyFileError(Exception):
    """One or more compile errors in a journey file."""

    file: str | None
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(problem.render(self.file) for problem in self.problems)
