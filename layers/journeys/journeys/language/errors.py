"""Errors a user sees: each names the file, the step and the key, never a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """' (did you mean 'send_email'?)' for the valid choice nearest a mistyped one, else ''."""
    if not isinstance(word, str):
        return ""
    nearest = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean {nearest[0]!r}?)" if nearest else ""


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
