"""Lambda glue shared by the step functions: Powertools Logger, Tracer, Metrics around run_task.

A function's app.py is two lines: its step group's WORK and `step_handler(name, WORK)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import observability
from .idempotency import enabled as idempotency_enabled
from .idempotency import once_per_step
from .steps.runtime import StepWork, run_task

logger = observability.logger()
tracer = observability.tracer()
metrics = observability.metrics()  # step metrics go out one by one (observability.count: single_metric)


def step_handler(function: str, work: dict[str, StepWork]) -> Callable[[dict, Any], dict]:
    idempotent = once_per_step() if idempotency_enabled() else None

    @logger.inject_lambda_context(log_event=False, clear_state=True)  # events carry contact PII
    @tracer.capture_lambda_handler(capture_response=False)  # responses carry contact PII
    def lambda_handler(event: dict, context: Any) -> dict:
        payload = event
        step = payload.get("step") or {}
        dimensions = {"Journey": (payload.get("journey") or {}).get("id"), "StepType": step.get("type"), "Step": step.get("id")}
        logger.append_keys(journey=dimensions["Journey"], step=dimensions["Step"], step_type=dimensions["StepType"],
                           execution=payload.get("execution"), contact_id=((payload.get("state") or {}).get("contact") or {}).get("id"))
        if idempotent is not None:
            idempotent.register_lambda_context(context)  # Powertools needs it for the in-progress expiry
        observability.count("StepEntered", dimensions)
        try:
            state = run_task(event, work, idempotent=idempotent)
        except Exception as error:
            if type(error).__name__ not in ("GoalReached", "StepInProgress"):
                observability.count("StepFailed", dimensions)
            raise
        outcome = (state.get("last") or {}).get("outcome", "refreshed")
        observability.count(f"Step{outcome.capitalize()}", dimensions)
        logger.info("step finished", extra={"outcome": outcome})
        return state

    lambda_handler.__name__ = f"{function}_handler"
    return lambda_handler
