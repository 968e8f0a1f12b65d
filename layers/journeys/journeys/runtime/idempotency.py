"""Exactly-once step work: Powertools Idempotency on DynamoDB, keyed by execution x step x seq.

A Retry of the Task, a Lambda retry or a redriven execution carries the same key, so the email
is not sent twice and the increment is not applied twice; a loop's next pass has a new seq.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from journeys.runtime.task import StepContext, StepInProgress, StepWork
from journeys.runtime.store import table_name

RECORD_TTL_SECONDS = 30 * 24 * 3600  # longer than any retry or redrive window we expect


def once_per_step() -> Callable[[StepWork, StepContext], dict[str, Any]]:
    persistence = DynamoDBPersistenceLayer(table_name=table_name("IdempotencyTable"))
    config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=RECORD_TTL_SECONDS)

    @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=config)
    def perform(request: dict[str, Any], work: StepWork, ctx: StepContext) -> dict[str, Any]:
        return work(ctx).as_dict()

    def run(work: StepWork, ctx: StepContext) -> dict[str, Any]:
        key = f"{ctx.event.execution}|{ctx.event.step.id}|{ctx.event.state.seq}"
        try:
            return perform(request={"key": key}, work=work, ctx=ctx)
        except IdempotencyAlreadyInProgressError as error:
            raise StepInProgress(str(error)) from None

    # The handler registers each invocation's context: Powertools then knows the remaining time
    # (no "Couldn't determine the remaining time left" warning) and expires an in-progress record
    # when the invocation that wrote it timed out.
    run.register_lambda_context = config.register_lambda_context  # type: ignore[attr-defined]
    return run


def enabled() -> bool:
    return os.environ.get("POWERTOOLS_IDEMPOTENCY_DISABLED", "").lower() not in ("1", "true")
