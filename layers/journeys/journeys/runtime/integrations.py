"""Integration steps: `webhook`, `action`, `crm_action`, run in the actions Lambda.

Each calls out over HTTP through journeys.actions (httpx; every destination and redirect hop checked
against the OutboundPolicy; retries on 429/5xx/timeouts with jittered back-off) and returns the
response `{status, headers, body}` as the step's data: run_task stores it under the step's
`data_key` in the execution state (large results stay in JourneyTable, see runtime.keep_data) and in
the step's result in JourneyTable, so later steps read `journey.<data_key>.body...`.

Outcomes:
- any HTTP response, 2xx or not, is `done` (Lunogram-like): the status is stored and a gate can
  branch on `journey.<data_key>.status`; a non-2xx status is named in the step's reason.
  A 429/5xx is retried first (3 retries), so a stored 5xx is the answer after the retries.
- no response at all (timeout, connection refused, DNS) after the retries or within the call's
  deadline (JOURNEYS_ACTION_DEADLINE_SECONDS, 45 s: retries stop before the Lambda's 60 s timeout),
  a refused destination (OutboundBlocked), a `..` segment in an http path, an unknown Action,
  invalid input or a missing secret: the step is `failed` —
  the result is recorded and IntegrationFailed is raised; the compiled Catch records `failure`
  and the journey goes on with the next step (the data key stays absent: templates render it empty).

A POST (webhook, http `request`, crm create_*) carries an Idempotency-Key derived from the step's
stable reference (execution x step x seq) and what is called: the same on every retry, new on a loop's
next pass, so the receiver can drop a repeated call.

Actions (configured module instances) are read from JourneyTable (pk ACTION#<id>) in every world:
`journeys run --actions FILE` loads the file there. Their secrets, and webhook header values, may be
`{"secret": NAME}` references resolved at call time, in this Lambda: Secrets Manager / SSM through
Powertools Parameters on AWS, JOURNEYS_SECRET_* variables locally (JOURNEYS_SECRETS=env, set by the
local runner). No secret value is ever in the journey, the ASL, the state, a step result or a log line.
"""

from __future__ import annotations

import os
from typing import Any

from boto3.dynamodb.conditions import Attr

from journeys.language import templates
from journeys.actions import (
    ActionError, ActionSpec, AwsSecrets, EnvSecrets, OutboundPolicy, SecretResolver, call_webhook, idempotency_key,
    parse_actions, run_action,
)
from journeys.actions.secrets import SecretRef, is_secret_ref, reveal
from journeys.runtime.store import from_dynamo, to_dynamo
from journeys.runtime.task import Outcome, StepContext, keep_data

DEFAULT_TIMEOUT_SECONDS = 10.0  # per attempt
DEFAULT_RETRIES = 3
# The whole call, retries included: well inside the actions Lambda's 60 s timeout (template.yaml), so a
# slow endpoint ends the step `failed` with a reason instead of the Lambda being killed mid-call.
DEFAULT_DEADLINE_SECONDS = 45.0


class IntegrationFailed(Exception):
    """The call got no usable answer (or was refused). Lambda reports the class name as errorType."""


# ---------------------------------------------------------------------------- the Action registry


class ActionStore:
    """Actions in JourneyTable: pk ACTION#<id>, sk ACTION, with id, name, type, config (no secrets:
    a config holds `{"secret": NAME}` references only)."""

    SK = "ACTION"

    def __init__(self, table):
        self.table = table

    def put(self, spec: ActionSpec) -> None:
        self.table.put_item(Item=to_dynamo({"pk": f"ACTION#{spec.id}", "sk": self.SK, **spec.model_dump(mode="json")}))

    def get(self, action_id: str) -> ActionSpec:
        item = self.table.get_item(Key={"pk": f"ACTION#{action_id}", "sk": self.SK}, ConsistentRead=True).get("Item")
        if item is None:
            raise ActionError(f"unknown action '{action_id}': no Action with this id is configured")
        fields = {k: v for k, v in from_dynamo(item).items() if k in ("id", "name", "type", "config")}
        return parse_actions([fields], source=f"action '{action_id}' (JourneyTable)")[action_id]

    def delete(self, action_id: str) -> None:
        self.table.delete_item(Key={"pk": f"ACTION#{action_id}", "sk": self.SK})


def policy() -> OutboundPolicy:
    """Deployed Lambdas: public addresses only (plus JOURNEYS_OUTBOUND_ALLOWLIST). Local runs set
    JOURNEYS_ALLOW_LOOPBACK=true."""
    return OutboundPolicy.from_env()


def secrets() -> SecretResolver:
    return EnvSecrets() if os.environ.get("JOURNEYS_SECRETS", "").lower() == "env" else AwsSecrets()


def _timeout() -> float:
    return float(os.environ.get("JOURNEYS_HTTP_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))


def _retries() -> int:
    return int(os.environ.get("JOURNEYS_HTTP_RETRIES", DEFAULT_RETRIES))


def _deadline() -> float:
    return float(os.environ.get("JOURNEYS_ACTION_DEADLINE_SECONDS", DEFAULT_DEADLINE_SECONDS))


# ---------------------------------------------------------------------------- the steps


def webhook(ctx: StepContext) -> Outcome:
    rendered = templates.render_settings(ctx.event.step.settings, ctx.scope)
    url = templates.render_url(str(ctx.event.step.settings.get("url") or ""), ctx.scope).strip()
    # A header is text on the wire, whatever type its lone output had. Only a reference written in the
    # journey (its settings, before rendering) becomes a SecretRef that call_webhook resolves: a rendered
    # value shaped like one (contact data, an API answer) is data.
    written = ctx.event.step.settings.get("headers") or {}
    headers = {str(name): SecretRef(**written[name]) if is_secret_ref(written.get(name)) else reveal(value, None)
               for name, value in (rendered.get("headers") or {}).items()}
    method = ctx.settings.method
    return _call(ctx, f"{method} webhook", lambda: _require_url(url) or call_webhook(
        url, method, headers, rendered.get("body"), policy=policy(), secrets=secrets(),
        idempotency_key=idempotency_key(ctx.ref, "webhook"), timeout=_timeout(), retries=_retries(),
        total_timeout=_deadline()))


def action(ctx: StepContext) -> Outcome:
    s = ctx.settings
    written = ctx.event.step.settings.get("input") or {}
    rendered = templates.render_settings({"input": written}, ctx.scope)["input"]
    if isinstance(written.get("path"), str):  # an http path: what contact data puts in it stays in its segment
        rendered["path"] = templates.render_url(written["path"], ctx.scope)

    def call() -> dict[str, Any]:
        spec = ActionStore(ctx.journeys.table).get(s.action)
        return run_action(spec, s.function, rendered, policy=policy(), secrets=secrets(), timeout=_timeout(),
                          retries=_retries(), total_timeout=_deadline(), call_ref=ctx.ref)

    return _call(ctx, f"action '{s.action}' {s.function}", call)


crm_action = action  # the same call; the catalog (journeys actions list) shows the CRM modules' functions

WORK = {"webhook": webhook, "action": action, "crm_action": crm_action}


def _require_url(url: str) -> None:
    if not url:
        raise ActionError("the webhook url rendered empty")


def _call(ctx: StepContext, what: str, call) -> Outcome:
    step = ctx.event.step
    try:
        result = call()
    except ActionError as error:
        reason = f"{what}: {error}"
        # run_task records nothing when the work raises: keep the failure in the step results too
        ctx.journeys.record_step(ctx.event.execution, ctx.event.state.seq, step.id,
                                 {"type": step.type, "at": ctx.now, "outcome": "failed", "reason": reason})
        raise IntegrationFailed(reason) from None
    status = result.get("status")
    reason = None if isinstance(status, int) and 200 <= status < 300 else f"HTTP {status}"
    return Outcome("done", reason=reason, data=keep_data(ctx, step.data_key or step.id, result))


def stored_actions(table) -> list[dict[str, Any]]:
    """Every Action in the table (for tooling)."""
    items, kwargs = [], {"FilterExpression": Attr("pk").begins_with("ACTION#")}
    while True:
        page = table.scan(**kwargs)
        items += [from_dynamo(i) for i in page["Items"] if i.get("sk") == ActionStore.SK]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
