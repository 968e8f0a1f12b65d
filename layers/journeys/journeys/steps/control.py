"""Journey control steps. The generated refresh Tasks ("After <wait>", "Start") need no work of
their own: run_task reads the fresh contact, checks exit_when and evaluates what lies ahead."""

from __future__ import annotations

from .runtime import StepWork

WORK: dict[str, StepWork] = {}
