"""Exactly-once step work: a conditional write per execution x step x seq, which is the step record too.

A Retry of the Task, a Lambda retry or a redriven execution carries the same key, so the email
is not sent twice and the increment is not applied twice; a loop's next pass has a new seq.

The record lives where the step's result is read (JourneyTable, pk EXEC#<execution>, sk
STEP#<seq>#<step>), so one step costs two writes: a PutItem that claims the step (it fails if the
step is done, or is being done by an attempt that has not timed out; a failed attempt's record is
claimed again) and, after the work, an
UpdateItem that completes it with the step's result. This is what Powertools Idempotency does
(INPROGRESS, then COMPLETED with the result; the in-progress claim expires with the invocation
that wrote it; a failed attempt deletes its claim so a retry does the work), without a separate
step record and without a read: a refused claim returns the record it found
(ReturnValuesOnConditionCheckFailure).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from journeys import clock
from journeys.runtime.store import STEP_RESULT_RETENTION, JourneyStore, from_dynamo, step_key, to_dynamo
from journeys.runtime.task import Outcome, StepContext, StepInProgress, StepWork

IN_PROGRESS, COMPLETED = "INPROGRESS", "COMPLETED"
DEFAULT_REMAINING_MS = 60_000  # no Lambda context (local calls): an attempt may take a minute
OUTCOME_FIELDS = ("outcome", "reason", "message", "data")
TYPE_TAGS = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}


def once_per_step(journeys: JourneyStore | None = None) -> Callable[[StepWork, StepContext], dict[str, Any]]:
    remaining = threading.local()

    def run(work: StepWork, ctx: StepContext) -> dict[str, Any]:
        table = (journeys or ctx.journeys).table
        key = step_key(ctx.event.execution, ctx.event.state.seq, ctx.event.step.id)
        now = clock.now()
        now_ms = int(now.timestamp() * 1000)
        claim = {**key, "step": ctx.event.step.id, "type": ctx.event.step.type, "at": ctx.now, "status": IN_PROGRESS,
                 "in_progress_until": now_ms + getattr(remaining, "ms", DEFAULT_REMAINING_MS),
                 "expires_at": int((now + STEP_RESULT_RETENTION).timestamp())}
        try:
            table.put_item(
                Item=claim, ConditionExpression="attribute_not_exists(#s) OR (#s = :in_progress AND in_progress_until < :now)",
                ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":in_progress": IN_PROGRESS, ":now": now_ms},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except table.meta.client.exceptions.ConditionalCheckFailedException as error:
            found = from_dynamo(_deserialized(error.response.get("Item") or {}))
            if found.get("status") == COMPLETED:
                return {k: found[k] for k in OUTCOME_FIELDS if k in found}  # done before: the same answer, no work
            raise StepInProgress(f"step {ctx.event.step.id} (seq {ctx.event.state.seq}) is in progress in another attempt") from None
        try:
            result = work(ctx).as_dict()
        except BaseException:
            # Let a retry do the work: the claim goes (only if still ours and unfinished).
            try:
                table.delete_item(Key=key, ConditionExpression="#s = :in_progress AND in_progress_until = :mine",
                                  ExpressionAttributeNames={"#s": "status"},
                                  ExpressionAttributeValues={":in_progress": IN_PROGRESS, ":mine": claim["in_progress_until"]})
            except table.meta.client.exceptions.ConditionalCheckFailedException:
                pass  # no longer our claim (a failure record replaced it, or it expired and another attempt took it)
            raise
        names = {f"#{k}": k for k in result}
        values = {f":{k}": to_dynamo(v) for k, v in result.items()}
        sets = ", ".join(["#s = :done"] + [f"#{k} = :{k}" for k in result])
        table.update_item(Key=key, UpdateExpression=f"SET {sets} REMOVE in_progress_until",
                          ExpressionAttributeNames={"#s": "status", **names}, ExpressionAttributeValues={":done": COMPLETED, **values})
        return result

    def register_lambda_context(context: Any) -> None:
        """The invocation's remaining time bounds its claim: a timed-out attempt's claim expires."""
        getter = getattr(context, "get_remaining_time_in_millis", None)
        remaining.ms = int(getter()) if getter else DEFAULT_REMAINING_MS

    run.register_lambda_context = register_lambda_context  # type: ignore[attr-defined]
    run.records_the_step = True  # type: ignore[attr-defined]  # run_step writes no separate step record
    return run


def _deserialized(item: dict[str, Any]) -> dict[str, Any]:
    """A low-level item (ALL_OLD of a failed condition) as the resource layer gives items."""
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    typed = all(isinstance(v, dict) and len(v) == 1 and next(iter(v)) in TYPE_TAGS for v in item.values())
    return {k: deserializer.deserialize(v) for k, v in item.items()} if typed else item


def enabled() -> bool:
    return os.environ.get("POWERTOOLS_IDEMPOTENCY_DISABLED", "").lower() not in ("1", "true")


__all__ = ["COMPLETED", "IN_PROGRESS", "Outcome", "enabled", "once_per_step"]
