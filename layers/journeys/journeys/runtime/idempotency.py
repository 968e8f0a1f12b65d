"""Exactly-once step work: Powertools Idempotency on DynamoDB, keyed by execution x step x seq.

A Retry of the Task, a Lambda retry or a redriven execution carries the same key, so the email
is not sent twice and the increment is not applied twice; a loop's next pass has a new seq.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from journeys.runtime.task import StepContext, StepInProgress, StepWork
from journeys.runtime.store import table_name

RECORD_TTL_SECONDS = 30 * 24 * 3600  # longer than any retry or redrive window we expect


class OncePerStep:
    """Runs a step's work at most once per key. Powertools Idempotency (and the boto3 client of its
    DynamoDB layer) is built on the first step that does work, not when the handler module is
    imported: a cold start does not pay for it, nor do skipped steps (issue 11, cold start)."""

    def __init__(self) -> None:
        self._perform: Callable[..., dict[str, Any]] | None = None
        self._context: Any = None

    def register_lambda_context(self, context: Any) -> None:
        # Powertools then knows the remaining time (no "Couldn't determine the remaining time left"
        # warning) and expires an in-progress record when the invocation that wrote it timed out.
        self._context = context
        if self._perform is not None:
            self._config.register_lambda_context(context)

    def _build(self) -> Callable[..., dict[str, Any]]:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        persistence = DynamoDBPersistenceLayer(table_name=table_name("IdempotencyTable"))
        self._config = IdempotencyConfig(event_key_jmespath="key", expires_after_seconds=RECORD_TTL_SECONDS)
        if self._context is not None:
            self._config.register_lambda_context(self._context)

        @idempotent_function(data_keyword_argument="request", persistence_store=persistence, config=self._config)
        def perform(request: dict[str, Any], work: StepWork, ctx: StepContext) -> dict[str, Any]:
            return work(ctx).as_dict()

        return perform

    def __call__(self, work: StepWork, ctx: StepContext) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

        if self._perform is None:
            self._perform = self._build()
        key = f"{ctx.event.execution}|{ctx.event.step.id}|{ctx.event.state.seq}"
        try:
            return self._perform(request={"key": key}, work=work, ctx=ctx)
        except IdempotencyAlreadyInProgressError as error:
            raise StepInProgress(str(error)) from None


def once_per_step() -> OncePerStep:
    return OncePerStep()


def enabled() -> bool:
    return os.environ.get("POWERTOOLS_IDEMPOTENCY_DISABLED", "").lower() not in ("1", "true")
