"""The journey language (../shared/JOURNEYS.md) as pydantic models; the JSON Schema comes from here.

A journey validates in two passes so that every error can name its step: the file's top level
first (steps as raw mappings), then each step against the model of its type.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any, Literal, Union, get_args

from pydantic import (
    AfterValidator, BaseModel, ConfigDict, Discriminator, Field, PrivateAttr, Tag, ValidationInfo, field_validator, model_validator,
)

from journeys.language.policies import JourneyPolicies
from journeys.language.durations import DurationError, parse_duration, parse_wait, timestamp_operand_is_valid
from journeys.language.secret_refs import is_secret_ref
from journeys.language.timezones import known_timezone

ID = r"^[a-z0-9][a-z0-9-]{0,39}$"
STEP_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
DATA_KEY = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
FIELD = r"^(contact|event|journey)\.[^\s]+$"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _checked_by(parse):
    """A pydantic validator keeping the text of a duration that `parse` accepts."""
    def check(value: Any) -> str:
        try:
            parse(value)
        except DurationError as error:
            raise ValueError(str(error)) from None
        return value
    return check


_duration = _checked_by(parse_duration)
_wait_duration = _checked_by(parse_wait)  # a wait's length (duration, for_event timeout, optimized send window): 1s to 365d


Duration = Annotated[str, Field(description="90s, 15m, 2h, 3d, 1w or ISO 8601 (P3D)")]

# ---------------------------------------------------------------- conditions

Operator = Literal[
    "equals", "not_equals", "gt", "gte", "lt", "lte", "contains", "not_contains", "starts_with",
    "in", "not_in", "exists", "not_exists", "before", "after",
]
OPERATORS = get_args(Operator)
NO_VALUE_OPS = {"exists", "not_exists"}
LIST_OPS = {"in", "not_in"}
TIME_OPS = {"before", "after"}
CONDITION_SHAPE = "a condition is {field, op, value} or one of all: [...], any: [...], not: {...}"


class FieldCondition(Strict):
    field: str = Field(pattern=FIELD, description="contact.<attr>, event.<attr> or journey.<data_key>.<path>")
    op: Operator
    # Validated even when left out: most operators need a value, and the error belongs to `value`.
    value: Any = Field(None, validate_default=True)

    @field_validator("field", mode="before")
    @classmethod
    def _known_source(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.match(FIELD, value):
            raise ValueError(f"{value!r} is not a field: use contact.<attr>, event.<attr> or journey.<data_key>.<path>")
        return value

    @field_validator("op", mode="before")
    @classmethod
    def _known_operator(cls, value: Any) -> Any:
        if not isinstance(value, str) or value not in OPERATORS:
            raise ValueError(f"unknown operator {value!r}; valid: {', '.join(OPERATORS)}")
        return value

    @field_validator("value")
    @classmethod
    def _value_fits_operator(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")  # absent when `op` itself was wrong: that error is enough
        if op is None or op in NO_VALUE_OPS:
            return value
        if value is None:
            raise ValueError(f"'{op}' needs a value")
        if op in LIST_OPS and not isinstance(value, list):
            raise ValueError(f"'{op}' needs a list")
        if op in TIME_OPS:
            if not timestamp_operand_is_valid(value):
                raise ValueError(f"'{op}' needs an ISO 8601 timestamp or a relative time like -7d")
        return value


def _list_of_conditions(value: Any) -> Any:
    if not isinstance(value, list):
        raise ValueError("takes a list of conditions")
    if not value:
        raise ValueError("list at least one condition")
    return value


class AllCondition(Strict):
    all: list["Condition"] = Field(min_length=1)
    _listed = field_validator("all", mode="before")(_list_of_conditions)


class AnyCondition(Strict):
    any: list["Condition"] = Field(min_length=1)
    _listed = field_validator("any", mode="before")(_list_of_conditions)


class NotCondition(Strict):
    not_: "Condition" = Field(alias="not")

    @field_validator("not_", mode="before")
    @classmethod
    def _one_condition(cls, value: Any) -> Any:
        if isinstance(value, list):
            raise ValueError("takes one condition, not a list (wrap several in all: or any:)")
        return value


def _condition_kind(value: Any) -> str | None:
    """Which kind of condition a mapping is, decided before validating it, so that one mistake
    gets one error (a plain union would report every kind it is not)."""
    if isinstance(value, BaseModel):
        return type(value).__name__
    if not isinstance(value, dict):
        return None
    for key, kind in (("all", "AllCondition"), ("any", "AnyCondition"), ("not", "NotCondition")):
        if key in value:
            return kind
    return "FieldCondition" if "field" in value or "op" in value else None


Condition = Annotated[
    Union[
        Annotated[AllCondition, Tag("AllCondition")],
        Annotated[AnyCondition, Tag("AnyCondition")],
        Annotated[NotCondition, Tag("NotCondition")],
        Annotated[FieldCondition, Tag("FieldCondition")],
    ],
    Discriminator(_condition_kind, custom_error_type="condition_shape", custom_error_message=CONDITION_SHAPE),
]
AllCondition.model_rebuild()
AnyCondition.model_rebuild()
NotCondition.model_rebuild()

# ---------------------------------------------------------------- step settings


class EmailContent(Strict):
    subject: str = Field(min_length=1)
    html: str | None = None
    text: str | None = None

    @model_validator(mode="after")
    def _has_body(self):
        if not (self.html or self.text):
            raise ValueError("needs 'html' and/or 'text'")
        return self


class SendEmail(EmailContent):
    from_: str | None = Field(None, alias="from")
    reply_to: str | None = None
    to: str | None = Field(None, description="default {{ contact.email }}")


class SendOptimizedEmail(SendEmail):
    window: Duration = "24h"
    _window = field_validator("window")(_wait_duration)


class SendNotificationEmail(EmailContent):
    to: list[str] = Field(min_length=1)
    from_: str | None = Field(None, alias="from")


class SiteNotification(Strict):
    title: str = Field(min_length=1)
    body: str = Field(min_length=1)
    url: str | None = None


class UpdateProfile(Strict):
    set: dict[str, Any] = Field(default_factory=dict)
    unset: list[str] = Field(default_factory=list)
    increment: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _does_something(self):
        if not (self.set or self.unset or self.increment):
            raise ValueError("needs at least one of 'set', 'unset', 'increment'")
        touched = set(self.set) | set(self.unset) | set(self.increment)
        if "id" in touched:
            raise ValueError("a contact's 'id' cannot be changed")
        # One atomic update (DynamoDB: "paths overlap") cannot set, unset or increment one attribute twice.
        parts = {"set": set(self.set), "unset": set(self.unset), "increment": set(self.increment)}
        for attr in sorted(touched):
            where = [name for name, attrs in parts.items() if attr in attrs]
            if len(where) > 1:
                raise ValueError(f"attribute '{attr}' is in both {' and '.join(where)}: one step changes an attribute once")
        return self


class AddNote(Strict):
    text: str = Field(min_length=1)


class Tags(Strict):
    tags: list[str] = Field(min_length=1)


class Groups(Strict):
    groups: list[str] = Field(min_length=1)


class Unsubscribe(Strict):
    reason: str | None = None


class StartJourney(Strict):
    journey: str = Field(pattern=ID)


class ExitJourney(Strict):
    journey: str | None = Field(None, pattern=ID, description="default: this journey")


class Webhook(Strict):
    url: str = Field(min_length=1)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    headers: dict[str, Any] = Field(
        default_factory=dict, description="value: a template, or {secret: NAME} resolved when the call is made")
    body: Any = None

    @field_validator("headers")
    @classmethod
    def _template_or_secret_ref(cls, headers: dict) -> dict:
        # A {secret: NAME} value is resolved at call time: the secret's value is never in the file or the ASL.
        for name, value in headers.items():
            if not (isinstance(value, str) or (is_secret_ref(value) and value["secret"].strip())):
                raise ValueError(f"header '{name}': expected a string (template) or {{secret: NAME}}")
        return headers


class ActionCall(Strict):
    action: str = Field(min_length=1, description="id of a configured Action")
    function: str = Field(min_length=1)
    input: dict[str, Any] = Field(default_factory=dict)


class ForEvent(Strict):
    event: str = Field(min_length=1)
    timeout: Duration
    on_event: str | None = None
    on_timeout: str | None = None
    _timeout = field_validator("timeout")(_wait_duration)


class Wait(Strict):
    duration: Duration | None = None
    until: str | None = Field(None, description="timestamp template")
    until_time: str | None = Field(None, pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM in the contact's timezone")
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = None
    for_event: ForEvent | None = None
    on_event: str | None = None
    on_timeout: str | None = None

    @field_validator("days")
    @classmethod
    def _some_days(cls, value):
        if value == []:  # an empty list would read as "never"; every day is what leaving it out means
            raise ValueError("list at least one day, or leave it out for every day")
        return value

    @field_validator("duration")
    @classmethod
    def _valid_duration(cls, value):
        return value if value is None else _wait_duration(value)

    @model_validator(mode="after")
    def _exactly_one(self):
        kinds = [k for k in ("duration", "until", "until_time", "for_event") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("needs exactly one of 'duration', 'until', 'until_time', 'for_event'" + (f" (got {', '.join(kinds)})" if kinds else ""))
        if self.days is not None and self.until_time is None:
            raise ValueError("'days' goes with 'until_time'")
        if self.for_event is None and (self.on_event or self.on_timeout):
            raise ValueError("'on_event'/'on_timeout' go with 'for_event'")
        return self

    @property
    def event_next(self) -> str | None:
        return self.on_event or (self.for_event and self.for_event.on_event)

    @property
    def timeout_next(self) -> str | None:
        return self.on_timeout or (self.for_event and self.for_event.on_timeout)


class ConditionBranch(Strict):
    name: str = Field(min_length=1)
    when: Condition
    next: str


class RandomBranch(Strict):
    name: str = Field(min_length=1)
    weight: float = Field(gt=0)
    next: str


MIXED_SPLIT = "a split's branches are either all conditional (when) or all random (weight), not both"


def _branch_kind(value: Any) -> str:
    """A split is random when its branches carry weights (decided before validating, one error per mistake)."""
    branches = value if isinstance(value, list) else []
    random = any(isinstance(b, RandomBranch) or (isinstance(b, dict) and "weight" in b) for b in branches)
    return "RandomBranches" if random else "ConditionBranches"


class Split(Strict):
    branches: Annotated[
        Union[
            Annotated[list[ConditionBranch], Field(min_length=1), Tag("ConditionBranches")],
            Annotated[list[RandomBranch], Field(min_length=1), Tag("RandomBranches")],
        ],
        Discriminator(_branch_kind),
    ]
    default: str | None = None

    @field_validator("branches", mode="before")
    @classmethod
    def _one_kind_of_branch(cls, value: Any) -> Any:
        if isinstance(value, list):
            if not value:
                raise ValueError("list at least one branch")
            keys = {key for branch in value if isinstance(branch, dict) for key in ("when", "weight") if key in branch}
            if keys == {"when", "weight"}:
                raise ValueError(MIXED_SPLIT)
        return value

    @model_validator(mode="after")
    def _shape(self):
        names = [branch.name for branch in self.branches]
        if len(set(names)) != len(names):
            raise ValueError("branch names must be unique")
        if self.is_random:
            if self.default is not None:
                raise ValueError("a random split has no 'default'")
        elif self.default is None:
            raise ValueError("a conditional split needs 'default' (a step id)")
        return self

    @property
    def is_random(self) -> bool:
        return isinstance(self.branches[0], RandomBranch)


class Gate(Strict):
    when: Condition
    else_: str = Field(alias="else", description="step id, or exit")


class Goto(Strict):
    step: str


class NoSettings(Strict):
    pass


SETTINGS: dict[str, type[BaseModel]] = {
    "send_email": SendEmail,
    "send_optimized_email": SendOptimizedEmail,
    "send_notification_email": SendNotificationEmail,
    "site_notification": SiteNotification,
    "update_profile": UpdateProfile,
    "add_note": AddNote,
    "add_tag": Tags,
    "remove_tag": Tags,
    "add_to_group": Groups,
    "remove_from_group": Groups,
    "unsubscribe": Unsubscribe,
    "start_journey": StartJourney,
    "exit_journey": ExitJourney,
    "webhook": Webhook,
    "action": ActionCall,
    "crm_action": ActionCall,
    "wait": Wait,
    "split": Split,
    "gate": Gate,
    "goto": Goto,
    "join": NoSettings,
    "exit": NoSettings,
}
MESSAGING = {"send_email", "send_optimized_email", "send_notification_email", "site_notification"}
UPDATES = {"update_profile", "add_note", "add_tag", "remove_tag", "add_to_group", "remove_from_group", "unsubscribe"}
CONTROL = {"start_journey", "exit_journey"}
INTEGRATIONS = {"webhook", "action", "crm_action"}
ACTION_TYPES = MESSAGING | UPDATES | CONTROL | INTEGRATIONS
FLOW_TYPES = {"wait", "split", "gate", "goto", "join", "exit"}
MARKETING_EMAIL = {"send_email", "send_optimized_email"}

# Settings keys that are not Liquid templates (ids, enums, durations, conditions).
NOT_TEMPLATES = {
    "journey", "action", "function", "method", "window", "duration", "until_time", "days", "for_event",
    "on_event", "on_timeout", "branches", "default", "when", "else", "step", "increment", "unset",
    "tags", "groups",
}


EXIT = "exit"  # `else: exit`: the end of the journey, so no step may be called that
STATE_NAME_MAX = 80  # Step Functions' limit on a state name; counted in UTF-16 code units, the stricter count
# Line breaks and other control characters make the ASL invalid (asl-validator; AWS forbids control
# characters, surrogates and U+FFFE/U+FFFF in names).
NOT_IN_A_NAME = {"Cc", "Cs", "Zl", "Zp"}
NONCHARACTERS = {"\ufffe", "\uffff"}


def state_name_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class Step(Strict):
    id: str = Field(pattern=STEP_ID)
    name: str | None = Field(None, max_length=80, description="the state's name in the AWS console; defaults to id")
    type: Literal[tuple(SETTINGS)]  # type: ignore[valid-type]
    apply_to: Condition | None = Field(None, description="action steps only: non-matching contacts skip the step")
    settings: dict[str, Any] = Field(default_factory=dict)
    data_key: str | None = Field(None, pattern=DATA_KEY, description="integration steps: journey.<data_key> for later steps")
    next: str | None = None

    @field_validator("id")
    @classmethod
    def _not_a_keyword(cls, value: str) -> str:
        if value == EXIT:
            raise ValueError("'exit' is reserved: it means the end of the journey")
        return value

    @field_validator("name")
    @classmethod
    def _state_name(cls, value: str | None) -> str | None:
        """One line of printable text, stripped, that SAM leaves alone: it becomes a state's name."""
        if value is None:
            return None
        name = value.strip()
        if not name:
            raise ValueError("a name needs a visible character (leave 'name' out to use the id)")
        if any(unicodedata.category(char) in NOT_IN_A_NAME or char in NONCHARACTERS for char in name):
            raise ValueError("a name is one line of printable text: no line breaks, tabs or other control characters")
        if "${" in name:
            raise ValueError("a name may not contain '${': SAM would substitute it at deploy time")
        if state_name_length(name) > STATE_NAME_MAX:
            raise ValueError(f"a name has at most {STATE_NAME_MAX} characters (a state's name on AWS)")
        return name

    @property
    def label(self) -> str:
        return self.name or self.id

    @property
    def key(self) -> str:
        """The step id as a JSONPath-safe key for the execution state."""
        return self.id.replace("-", "_")

    @property
    def result_key(self) -> str:
        return self.data_key or self.key


class Entry(Strict):
    trigger: Literal["webhook", "event"]
    event: str | None = None
    criteria: Condition | None = None
    re_entry: Literal["never", "always"] | dict[Literal["after"], Annotated[str, AfterValidator(_duration)]] = "never"
    exit_when: Condition | None = None

    @model_validator(mode="after")
    def _event_trigger_named(self):
        if self.trigger == "event" and not self.event:
            raise ValueError("trigger 'event' needs 'event' (the event name that enters contacts)")
        return self

    @property
    def re_entry_after_seconds(self) -> int | None:
        """None: never again; 0: always; else the seconds after the last entry."""
        if self.re_entry == "never":
            return None
        if self.re_entry == "always":
            return 0
        return parse_duration(self.re_entry["after"])


class JourneyFile(Strict):
    """The top level of a journey file; steps are validated one by one (see loader)."""

    journey: str = Field(pattern=ID, description="id: [a-z0-9-], <= 40 chars; names the state machine")
    name: str | None = None
    timezone: str | None = None
    entry: Entry
    incomplete: Literal["error", "skip"] = "error"
    policies: JourneyPolicies | None = Field(default=None, description="opt out of the stack's delivery policies: {frequency_cap: off, quiet_hours: off}")
    steps: list[dict[str, Any]] = Field(min_length=1)

    _timezone = field_validator("timezone")(known_timezone)


class Journey(BaseModel):
    """A validated journey: the file's top level plus typed steps."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    name: str
    timezone: str | None
    entry: Entry
    steps: list[Step]
    settings: dict[str, BaseModel]  # step id -> validated settings (skipped steps absent)
    skipped: dict[str, str] = {}  # step id -> why it compiles to a skip (incomplete: skip)
    source: str | None = None
    policies: JourneyPolicies | None = None  # the journey's opt-out of delivery policies

    def step(self, step_id: str) -> Step:
        if self._by_id is None or len(self._by_id) != len(self.steps):
            self._by_id = {step.id: step for step in self.steps}
        return self._by_id[step_id]

    _by_id: dict[str, Step] | None = PrivateAttr(default=None)


def journey_json_schema() -> dict[str, Any]:
    """JSON Schema of a journey file, steps typed by `type` (for editor completion)."""
    top = JourneyFile.model_json_schema(by_alias=True)
    defs = top.setdefault("$defs", {})
    variants = []
    for type_name, settings_model in SETTINGS.items():
        schema = settings_model.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs.update(schema.pop("$defs", {}))
        defs[f"settings_{type_name}"] = schema
        step = Step.model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
        defs.update(step.pop("$defs", {}))
        step["properties"]["type"] = {"const": type_name}
        step["properties"]["settings"] = {"$ref": f"#/$defs/settings_{type_name}"}
        step["title"] = f"step: {type_name}"
        variants.append(step)
    top["properties"]["steps"] = {"type": "array", "minItems": 1, "items": {"oneOf": variants}}
    top["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    top["title"] = "Journey"
    return top


def is_step_ref(value: str) -> bool:
    return bool(re.match(STEP_ID, value or ""))
