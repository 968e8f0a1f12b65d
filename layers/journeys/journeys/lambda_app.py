"""Lambda glue shared by the step functions: Powertools Logger, Tracer, Metrics around run_task.

A function's app.py is two lines: its step group's WORK and `step_handler(name, WORK)`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from .idempotency import enabled as idempotency_enabled
from .idempotency import once_per_step
from .steps.runtime import StepWork, run_task

logger = Logger(service="journeys")
tracer = Tracer(service="journeys")
metrics = Metrics(namespace="Journeys", service="journeys")


def step_handler(function: str, work: dict[str, StepWork]) -> Callable[[dict, Any], dict]:
    idempotent = once_per_step() if idempotency_enabled() else None

    @logger.inject_lambda_context(log_event=False)
    @tracer.capture_lambda_handler(capture_response=False)  # responses carry contact PII
    @metrics.log_metrics
    def lambda_handler(event: dict, context: Any) -> dict:
        step = event.get("step") or {}
        logger.append_keys(journey=(event.get("journey") or {}).get("id"), step=step.get("id"), step_type=step.get("type"),
                           execution=event.get("execution"), contact_id=((event.get("state") or {}).get("contact") or {}).get("id"))
        metrics.add_dimension(name="StepType", value=str(step.get("type")))
        state = run_task(event, work, idempotent=idempotent)
        outcome = (state.get("last") or {}).get("outcome", "refreshed")
        metrics.add_metric(name=f"Step{outcome.capitalize()}", unit=MetricUnit.Count, value=1)
        logger.info("step finished", extra={"outcome": outcome})
        return state

    lambda_handler.__name__ = f"{function}_handler"
    return lambda_handler
