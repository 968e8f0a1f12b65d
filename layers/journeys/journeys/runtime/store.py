"""DynamoDB: the one contact store, step results, contact x journey records, inbox and notes.

TABLES describes every table once: the SAM template's resources are generated from it
(`journeys build`) and local runs create moto tables from it, so the two cannot drift.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key

from journeys import aws, clock
from journeys.language.contact_model import check_contact_size

TABLES: dict[str, dict[str, Any]] = {
    # One item per contact, attributes as given (plus tags, groups, subscribed).
    "ContactsTable": {
        "env": "CONTACTS_TABLE",
        "local_name": "journeys-contacts",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "ttl": None,
    },
    # Single-table: step results (EXEC#), contact x journey (CONTACT# / JOURNEY#), inbox, notes,
    # event waits, delivered event ids; expires_at lets DynamoDB drop them after their retention.
    "JourneyTable": {
        "env": "JOURNEY_TABLE",
        "local_name": "journeys-state",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "ttl": "expires_at",
    },
    # Powertools Idempotency's layout (id + expiration). Steps no longer write here: their exactly-once
    # record is the step record in JourneyTable (runtime/idempotency.py); kept so no deploy drops it.
    "IdempotencyTable": {
        "env": "IDEMPOTENCY_TABLE",
        "local_name": "journeys-idempotency",
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "ttl": "expiration",
    },
}
STEP_RESULT_RETENTION = dt.timedelta(days=90)
EVENT_WAIT_GRACE_SECONDS = 86400
DELIVERED_EVENT_RETENTION = dt.timedelta(days=7)  # a repeat of an event id within this is a duplicate
LARGE_RESULT_ITEM_LIMIT = 350 * 1024  # DynamoDB items are at most 400 KB
LIST_CHANGE_ATTEMPTS = 5  # add/remove of tags or groups racing with other writes of the contact


def table_name(logical_id: str) -> str:
    spec = TABLES[logical_id]
    return os.environ.get(spec["env"], spec["local_name"])


def create_tables(client=None) -> None:
    """Create every table (local runs, tests) exactly as the template declares it."""
    client = client or boto3.client("dynamodb")
    existing = set(client.list_tables()["TableNames"])
    for logical_id, spec in TABLES.items():
        name = table_name(logical_id)
        if name in existing:
            continue
        client.create_table(
            TableName=name, KeySchema=spec["KeySchema"], AttributeDefinitions=spec["AttributeDefinitions"],
            BillingMode="PAY_PER_REQUEST",
        )
        if spec["ttl"]:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": spec["ttl"]})


# ---------------------------------------------------------------- DynamoDB <-> JSON


def step_key(execution: str, seq: int, step_id: str) -> dict[str, str]:
    """Where a step's result (and its exactly-once record) lives."""
    return {"pk": key("EXEC", execution), "sk": key("STEP", f"{seq:06d}", step_id)}


STEP_BOOKKEEPING = ("pk", "sk", "expires_at", "status", "in_progress_until")


def to_dynamo(value: Any) -> Any:
    """Floats become Decimals (DynamoDB's number type); everything else as JSON would carry it."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [from_dynamo(v) for v in value]
    return value


def may_be_running(membership: dict[str, Any] | None) -> list[str]:
    """The executions of a contact x journey record that may still run (sorted: a stable order). A
    record written before the set existed, or whose set was emptied, names its latest execution."""
    if not membership:
        return []
    running = sorted(membership.get("running") or [])
    return running or ([membership["execution"]] if membership.get("execution") else [])


KEY_PART_MAX_BYTES = 300  # longer parts are hashed: a sort key holds at most 1 KB, a partition key 2 KB


def key_part(value: Any) -> str:
    """One user-supplied part of a pk/sk: `%` and `#` escaped so that parts never run into each other
    (event `order` id `paid#x` is not event `order#paid` id `x`), hashed when long. Text without `%`
    or `#` is unchanged, so items written before the escaping stay readable."""
    text = str(value).replace("%", "%25").replace("#", "%23")
    if len(text.encode("utf-8", "surrogatepass")) > KEY_PART_MAX_BYTES:
        text = "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return text


def key(*parts: Any) -> str:
    """`PREFIX#part#part...`: the first part is ours (a fixed word), the others are escaped."""
    prefix, *rest = parts
    return "#".join([prefix, *(key_part(p) for p in rest)])


def _delivery_expiry() -> int:
    return int((clock.now() + DELIVERED_EVENT_RETENTION).timestamp())


@dataclass(frozen=True)
class EntryClaim:
    """A won claim_entry: what release_entry needs to give it back."""

    contact_id: str
    journey_id: str
    name: str
    previous_entered_at: str | None


class ContactNotFound(LookupError):
    pass


class ContactStore:
    """Contacts: `{id, email, first_name, ..., timezone, tags: [], groups: [], subscribed: true}`."""

    DEFAULTS = {"tags": [], "groups": [], "subscribed": True}

    def __init__(self, resource=None):
        self.table = (resource or aws.resource("dynamodb")).Table(table_name("ContactsTable"))
        self.written: dict[str, dict[str, Any]] = {}  # contact id -> the item the last update returned

    def take_written(self, contact_id: str) -> dict[str, Any] | None:
        """The contact as the last write since the previous take returned it (ReturnValues: no re-read)."""
        return self.written.pop(contact_id, None)

    def get(self, contact_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"id": contact_id}, ConsistentRead=True).get("Item")
        return from_dynamo(item) if item else None

    def require(self, contact_id: str) -> dict[str, Any]:
        contact = self.get(contact_id)
        if contact is None:
            raise ContactNotFound(f"contact {contact_id!r} does not exist")
        return contact

    def upsert(self, contact: dict[str, Any]) -> dict[str, Any]:
        """Merge given attributes into the stored contact (attributes not given are kept); a merge past
        CONTACT_MAX_BYTES raises ContactTooLarge and writes nothing."""
        attributes = {k: v for k, v in contact.items() if k != "id"}
        stored = self.get(contact["id"])
        defaults = {k: v for k, v in self.DEFAULTS.items() if stored is None or k not in stored}
        check_contact_size({**(stored or {"id": contact["id"]}), **defaults, **attributes})  # before writing anything
        return self.update(contact["id"], set={**defaults, **attributes}) if (attributes or defaults) else stored

    def update(
        self, contact_id: str, *, set: dict[str, Any] | None = None, unset: list[str] | None = None,
        increment: dict[str, float] | None = None, add: dict[str, list] | None = None,
        remove: dict[str, list] | None = None, current: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One atomic UpdateItem; add/remove keep list attributes (tags, groups) free of duplicates.
        They rewrite the list from `current` (the contact in hand, else one read) on condition that
        it is still what was read: a concurrent change makes it read again and retry."""
        for _ in range(LIST_CHANGE_ATTEMPTS):
            try:
                return self._update(contact_id, set, unset, increment, add, remove, current)
            except self.table.meta.client.exceptions.ConditionalCheckFailedException:
                current = None  # changed meanwhile: read it again
        raise RuntimeError(f"contact {contact_id!r}: tags or groups kept changing under {LIST_CHANGE_ATTEMPTS} attempts")

    def _update(self, contact_id, set, unset, increment, add, remove, current) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets, removes = [], []

        def name(attr: str) -> str:
            key = f"#a{len(names)}"
            names[key] = attr
            return key

        def value(v: Any) -> str:
            key = f":v{len(values)}"
            values[key] = to_dynamo(v)
            return key

        if (add or remove) and current is None:
            current = self.get(contact_id) or {}
        conditions = []
        for attr in {**(add or {}), **(remove or {})}:
            if attr in current:
                conditions.append(f"{name(attr)} = {value(current[attr])}")
            else:
                conditions.append(f"attribute_not_exists({name(attr)})")
        for attr, v in (set or {}).items():
            sets.append(f"{name(attr)} = {value(v)}")
        for attr, amount in (increment or {}).items():
            sets.append(f"{name(attr)} = if_not_exists({name(attr)}, {value(0)}) + {value(amount)}")
        for attr, items in (add or {}).items():
            existing = list((current or {}).get(attr) or [])
            sets.append(f"{name(attr)} = {value(existing + [i for i in items if i not in existing])}")
        for attr, items in (remove or {}).items():
            existing = list((current or {}).get(attr) or [])
            sets.append(f"{name(attr)} = {value([i for i in existing if i not in items])}")
        for attr in unset or []:
            removes.append(name(attr))
        expression = " ".join(part for part in (
            "SET " + ", ".join(sets) if sets else "", "REMOVE " + ", ".join(removes) if removes else "",
        ) if part)
        if not expression:
            return self.require(contact_id)
        kwargs = {"ExpressionAttributeNames": names}
        if values:
            kwargs["ExpressionAttributeValues"] = values
        if conditions:
            kwargs["ConditionExpression"] = " AND ".join(conditions)
        item = self.table.update_item(
            Key={"id": contact_id}, UpdateExpression=expression, ReturnValues="ALL_NEW", **kwargs,
        )["Attributes"]
        self.written[contact_id] = contact = from_dynamo(item)
        return contact


class JourneyStore:
    """Everything else a journey keeps, in one table keyed by pk/sk."""

    def __init__(self, resource=None):
        self.table = (resource or aws.resource("dynamodb")).Table(table_name("JourneyTable"))

    # step results ------------------------------------------------------------
    def record_step(self, execution: str, seq: int, step_id: str, result: dict[str, Any]) -> None:
        expires = clock.now() + STEP_RESULT_RETENTION
        self.table.put_item(Item=to_dynamo({
            **step_key(execution, seq, step_id), "step": step_id, **result, "expires_at": int(expires.timestamp()),
        }))

    def step_results(self, execution: str) -> list[dict[str, Any]]:
        """Finished steps (runtime/idempotency.py keeps a step's claim here while it runs)."""
        items = self._query(key("EXEC", execution), "STEP#", consistent=False)  # a report: decides nothing
        return [from_dynamo({k: v for k, v in item.items() if k not in STEP_BOOKKEEPING}) for item in items
                if item.get("status") != "INPROGRESS"]

    # large integration results (the execution state carries a reference) ------------
    def store_large_result(self, execution: str, seq: int, data_key: str, result: dict[str, Any]) -> tuple[dict, dict]:
        """Keep a result too large for the state, compressed; (reference, note for the state)."""
        raw = json.dumps(result, default=str, separators=(",", ":")).encode()
        packed, note = zlib.compress(raw, 6), {}
        if len(packed) > LARGE_RESULT_ITEM_LIMIT:  # even compressed too large for one item
            packed = zlib.compress(json.dumps({**result, "body": None}, default=str).encode(), 6)
            note = {"body_dropped": f"body larger than {LARGE_RESULT_ITEM_LIMIT // 1024} KB compressed"}
        ref_key = {"pk": key("EXEC", execution), "sk": key("DATA", f"{seq:06d}", data_key)}
        expires = clock.now() + STEP_RESULT_RETENTION
        self.table.put_item(Item={**ref_key, "result": packed, "bytes": len(raw), "expires_at": int(expires.timestamp())})
        return {**ref_key, "bytes": len(raw)}, note

    def load_large_result(self, ref: dict[str, Any]) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": ref["pk"], "sk": ref["sk"]}, ConsistentRead=True).get("Item")
        if item is None:
            return None
        blob = item["result"]
        return json.loads(zlib.decompress(bytes(getattr(blob, "value", blob))))

    # contact x journey ---------------------------------------------------------
    def membership(self, contact_id: str, journey_id: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key=self._membership_key(contact_id, journey_id), ConsistentRead=True).get("Item")
        return from_dynamo(item) if item else None

    def claim_entry(self, contact_id: str, journey_id: str, name: str, entered_at: str,
                    last_before: str | None) -> EntryClaim | None:
        """Take this contact's entry into the journey before starting execution `name`: one
        conditional write, so of concurrent entries exactly one wins. Only when the contact never
        entered (last_before None: re_entry never) or last entered at or before `last_before`.
        The claim sets entered_at now; `claimed` names the execution until record_entry. None: lost."""
        condition = "attribute_not_exists(entered_at)" + ("" if last_before is None else " OR entered_at <= :before")
        values = {":t": entered_at, ":name": name, **({} if last_before is None else {":before": last_before})}
        try:
            old = self.table.update_item(
                Key=self._membership_key(contact_id, journey_id), ConditionExpression=condition,
                UpdateExpression="SET entered_at = :t, claimed = :name", ExpressionAttributeValues=values,
                ReturnValues="UPDATED_OLD",
            ).get("Attributes", {})
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return None
        return EntryClaim(contact_id, journey_id, name, old.get("entered_at"))

    def release_entry(self, claim: EntryClaim) -> None:
        """The start did not happen: give the claim back (the entry time it replaced, or no record)."""
        name, previous = claim.name, claim.previous_entered_at
        key, unless_taken = self._membership_key(claim.contact_id, claim.journey_id), {"ConditionExpression": "claimed = :name"}
        try:
            if previous is None:
                self.table.delete_item(Key=key, ExpressionAttributeValues={":name": name}, **unless_taken)
            else:
                self.table.update_item(Key=key, UpdateExpression="SET entered_at = :t REMOVE claimed",
                                       ExpressionAttributeValues={":t": previous, ":name": name}, **unless_taken)
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            pass  # another entry claimed it since

    def record_entry(self, contact_id: str, journey_id: str, execution: str, entered_at: str) -> list[str]:
        """Remember an entry: the latest execution, when, how often, and the execution in the set of
        those that may still run (re-entry can start one while an earlier one waits). Returns that set."""
        item = self.table.update_item(
            Key=self._membership_key(contact_id, journey_id),
            UpdateExpression="SET execution = :e, entered_at = :t, entries = if_not_exists(entries, :zero) + :one "
                             "ADD running :running REMOVE claimed",
            ExpressionAttributeValues={":e": execution, ":t": entered_at, ":zero": 0, ":one": 1, ":running": {execution}},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return may_be_running(from_dynamo(item))

    def forget_executions(self, contact_id: str, journey_id: str, executions: list[str]) -> None:
        """Drop ended executions from the membership's set of those that may still run."""
        if executions:
            self.table.update_item(Key=self._membership_key(contact_id, journey_id),
                                   UpdateExpression="DELETE running :gone", ExpressionAttributeValues={":gone": set(executions)})

    # operations: the entry switch (pk JOURNEY#<id>, sk SWITCH), positions (pk POSITION#<id>) -------
    def entries_paused(self, journey_id: str) -> bool:
        """True while `journeys pause` holds the journey's entries closed (no item: open)."""
        item = self.table.get_item(Key={"pk": f"JOURNEY#{journey_id}", "sk": "SWITCH"}, ConsistentRead=True).get("Item")
        return bool(item and item.get("paused"))

    def set_entries_paused(self, journey_id: str, paused: bool, by: str, at: str) -> None:
        self.table.put_item(Item={"pk": f"JOURNEY#{journey_id}", "sk": "SWITCH", "paused": paused, "by": by, "at": at})

    def entry_switch(self, journey_id: str) -> dict[str, Any]:
        item = self.table.get_item(Key={"pk": f"JOURNEY#{journey_id}", "sk": "SWITCH"}, ConsistentRead=True).get("Item")
        return from_dynamo(item) if item else {"paused": False}

    def count_policy_outcome(self, journey_id: str, outcome: str) -> None:
        """One more send of this journey capped or deferred (runtime/policies.py); `journeys status`
        shows the totals. A counter, not a decision: an attempt retried by Lambda may count twice."""
        self.table.update_item(Key={"pk": f"JOURNEY#{journey_id}", "sk": "POLICY#outcomes"},
                               UpdateExpression="ADD #outcome :one", ExpressionAttributeNames={"#outcome": outcome},
                               ExpressionAttributeValues={":one": 1})

    def policy_outcomes(self, journey_id: str) -> dict[str, int]:
        item = self.table.get_item(Key={"pk": f"JOURNEY#{journey_id}", "sk": "POLICY#outcomes"}).get("Item") or {}
        return {name: int(value) for name, value in sorted(item.items()) if name not in ("pk", "sk")}

    def record_position(self, journey_id: str, execution: str, contact_id: str, position: dict[str, Any], since: str) -> None:
        """Where an execution is now ({waiting: <wait step>} or {after: <wait step>}): one item per
        execution, overwritten by the Tasks before and after each wait; `journeys status` counts them."""
        expires = clock.now() + STEP_RESULT_RETENTION
        self.table.put_item(Item=to_dynamo({"pk": f"POSITION#{journey_id}", "sk": execution, "contact": contact_id,
                                            **position, "since": since, "expires_at": int(expires.timestamp())}))

    def positions(self, journey_id: str) -> list[dict[str, Any]]:
        items = self._query(f"POSITION#{journey_id}", "")
        return [from_dynamo({**{k: v for k, v in item.items() if k not in ("pk", "sk", "expires_at")}, "execution": item["sk"]})
                for item in items]

    def end_membership(self, contact_id: str, journey_id: str, execution: str, ended_at: str, why: str) -> None:
        """A hard stop ended `execution`: it leaves the set of those that may run (exit_journey and
        re-entry see it ended) and the record says when and why."""
        try:
            self.table.update_item(Key={"pk": f"CONTACT#{contact_id}", "sk": f"JOURNEY#{journey_id}"},
                                   UpdateExpression="DELETE running :gone SET ended_at = :t, ended_by = :why",
                                   ConditionExpression="attribute_exists(pk)",
                                   ExpressionAttributeValues={":gone": {execution}, ":t": ended_at, ":why": why})
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            pass  # no record (an execution started outside enter_contact): nothing to mark

    def record_segment_batch(self, run: str, first_line: int, entered: int, not_entered: dict[str, int],
                             bad: list[dict[str, Any]]) -> None:
        """One batch of a segment run (pk SEGMENT#<run>): a retried batch overwrites its own item."""
        expires = clock.now() + DELIVERED_EVENT_RETENTION
        self.table.put_item(Item=to_dynamo({"pk": f"SEGMENT#{run}", "sk": f"BATCH#{first_line:09d}", "entered": entered,
                                            "not_entered": not_entered, "bad": bad, "expires_at": int(expires.timestamp())}))

    def segment_batches(self, run: str) -> list[dict[str, Any]]:
        return [from_dynamo(item) for item in self._query(f"SEGMENT#{run}", "BATCH#")]

    # wait: for_event task tokens (pk CONTACT#<id>, sk WAIT#<event>#<execution>) -------
    def put_event_wait(self, *, contact_id: str, event: str, token: str, execution: str, journey: str, step: str,
                       since: str, timeout_seconds: int) -> None:
        """Remember that `execution` waits for `event` of this contact (one item per execution x event)
        until its deadline (the wait's timeout); the item outlives it by a day, then TTL drops it."""
        started = clock.now().timestamp()
        self.table.put_item(Item={
            **self._wait_key(contact_id, event, execution), "task_token": token, "event": event,
            "execution": execution, "journey": journey, "step": step, "since": since,
            "deadline_ms": int((started + int(timeout_seconds)) * 1000),
            "expires_at": int(started) + int(timeout_seconds) + EVENT_WAIT_GRACE_SECONDS,
        })

    def event_waits(self, contact_id: str, event: str) -> list[dict[str, Any]]:
        items = self._query(key("CONTACT", contact_id), key("WAIT", event) + "#")
        return [from_dynamo(item) for item in items if item.get("event") == event]

    def take_event_wait(self, contact_id: str, event: str, execution: str, token: str) -> bool:
        """Delete the wait if it still holds `token`; False when another delivery took it first."""
        try:
            self.table.delete_item(Key=self._wait_key(contact_id, event, execution),
                                   ConditionExpression="task_token = :t", ExpressionAttributeValues={":t": token})
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def restore_event_wait(self, wait: dict[str, Any]) -> None:
        """Put back a wait (as event_waits returned it) whose resume did not happen, unless the
        execution has stored a newer one meanwhile."""
        try:
            self.table.put_item(Item=to_dynamo(wait), ConditionExpression="attribute_not_exists(pk)")
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            pass

    # events delivered with an id (pk CONTACT#<id>, sk DELIVERED#<event>#<key>) ----------
    # `resumed`: executions this event resumed; `done`: the delivery finished. A repeat resumes nothing.
    def event_delivery(self, contact_id: str, event: str, key: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key=self._delivery_key(contact_id, event, key), ConsistentRead=True).get("Item")
        return from_dynamo(item) if item else None

    def claim_resume(self, contact_id: str, event: str, key: str, execution: str) -> bool:
        """Note that this event resumes `execution`; False when it already has (a repeated delivery)."""
        try:
            self.table.update_item(
                Key=self._delivery_key(contact_id, event, key),
                UpdateExpression="ADD resumed :set SET expires_at = if_not_exists(expires_at, :expires)",
                ConditionExpression="attribute_not_exists(resumed) OR NOT contains(resumed, :execution)",
                ExpressionAttributeValues={":set": {execution}, ":execution": execution, ":expires": _delivery_expiry()},
            )
        except self.table.meta.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release_resume(self, contact_id: str, event: str, key: str, execution: str) -> None:
        """The resume did not happen: a later delivery of the event may resume `execution`."""
        self.table.update_item(Key=self._delivery_key(contact_id, event, key), UpdateExpression="DELETE resumed :set",
                               ExpressionAttributeValues={":set": {execution}})

    def finish_delivery(self, contact_id: str, event: str, key: str) -> None:
        self.table.update_item(Key=self._delivery_key(contact_id, event, key),
                               UpdateExpression="SET done = :done, expires_at = if_not_exists(expires_at, :expires)",
                               ExpressionAttributeValues={":done": True, ":expires": _delivery_expiry()})

    @staticmethod
    def _delivery_key(contact_id: str, event: str, event_key: str) -> dict[str, str]:
        return {"pk": key("CONTACT", contact_id), "sk": key("DELIVERED", event, event_key)}

    @staticmethod
    def _membership_key(contact_id: str, journey_id: str) -> dict[str, str]:
        return {"pk": key("CONTACT", contact_id), "sk": key("JOURNEY", journey_id)}

    @staticmethod
    def _wait_key(contact_id: str, event: str, execution: str) -> dict[str, str]:
        return {"pk": key("CONTACT", contact_id), "sk": key("WAIT", event, execution)}

    # inbox and notes -----------------------------------------------------------
    def add_contact_item(self, contact_id: str, kind: str, at: str, ref: str, item: dict[str, Any]) -> None:
        """An inbox notification or a note, sorted by time; ref keeps a retry from adding it twice."""
        self.table.put_item(Item=to_dynamo({"pk": key("CONTACT", contact_id), "sk": key(kind, at, ref), "at": at, **item}))

    def contact_items(self, contact_id: str, kind: str) -> list[dict[str, Any]]:
        items = self._query(key("CONTACT", contact_id), f"{kind}#", consistent=False)  # the inbox as shown: decides nothing
        return [from_dynamo({k: v for k, v in item.items() if k not in ("pk", "sk")}) for item in items]

    def inbox(self, contact_id: str) -> list[dict[str, Any]]:
        """The contact's site notifications, newest first; `id` names one for mark_inbox_read."""
        items = self._query(key("CONTACT", contact_id), "INBOX#")
        return [from_dynamo({"id": item["sk"][len("INBOX#"):], **{k: v for k, v in item.items() if k not in ("pk", "sk")}})
                for item in reversed(items)]

    def mark_inbox_read(self, contact_id: str, item_ids: list[str], read_at: str) -> list[str]:
        """Mark these notifications read; returns the ids that were unread (unknown or read ones are left)."""
        marked = []
        for item_id in item_ids:
            try:
                self.table.update_item(
                    Key={"pk": key("CONTACT", contact_id), "sk": "INBOX#" + item_id},
                    UpdateExpression="SET #read = :yes, read_at = :at",
                    ConditionExpression="attribute_exists(pk) AND #read <> :yes",
                    ExpressionAttributeNames={"#read": "read"}, ExpressionAttributeValues={":yes": True, ":at": read_at},
                )
            except self.table.meta.client.exceptions.ConditionalCheckFailedException:
                continue
            marked.append(item_id)
        return marked

    def _query(self, pk: str, prefix: str, consistent: bool = True) -> list[dict[str, Any]]:
        condition = Key("pk").eq(pk) & Key("sk").begins_with(prefix) if prefix else Key("pk").eq(pk)
        items, kwargs = [], {"KeyConditionExpression": condition, "ConsistentRead": consistent}
        while True:
            page = self.table.query(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
