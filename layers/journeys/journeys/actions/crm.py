"""Module `crm`: a generic REST CRM (tasks, contacts, deals). Each call sends its validated input as the JSON
body; an api_key, if configured, goes in `Authorization: Bearer`."""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from journeys.actions.http import base_url_field, join_url
from journeys.actions.net import HttpResult
from journeys.actions.registry import Context, Module, register
from journeys.actions.secrets import SecretRef

EMAIL = r"^[^@\s]+@[^@\s]+$"  # loose on purpose: the CRM is the judge of what an address is


class CrmConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    base_url: str
    # A secret reference is the norm; a literal key is accepted but kept as SecretStr so it never prints.
    api_key: SecretRef | SecretStr | None = None

    _url = field_validator("base_url")(base_url_field)


class CreateTask(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    subject: str = Field(min_length=1)
    contact_email: str = Field(pattern=EMAIL)
    owner: str | None = None
    due_in_days: int | None = Field(None, ge=0)
    notes: str | None = None


class UpsertContact(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    email: str = Field(pattern=EMAIL)
    fields: dict = Field(default_factory=dict)


class CreateDeal(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    name: str = Field(min_length=1)
    contact_email: str = Field(pattern=EMAIL)
    amount: float | None = None
    stage: str | None = None


crm = register(Module("crm", CrmConfig, "A generic REST CRM: tasks, contacts and deals"))


def _send(ctx: Context, config: CrmConfig, method: str, path: str, body: BaseModel) -> HttpResult:
    headers = {"Accept": "application/json"}
    if config.api_key is not None:
        headers["Authorization"] = f"Bearer {ctx.reveal(config.api_key)}"
    return ctx.request(method, join_url(config.base_url, path), headers=headers,
                       json=body.model_dump(mode="json", exclude_none=True))


@crm.function("create_task", CreateTask)
def create_task(ctx: Context, config: CrmConfig, input: CreateTask) -> HttpResult:
    """Create a follow-up task for a contact (POST /tasks)."""
    return _send(ctx, config, "POST", "/tasks", input)


@crm.function("upsert_contact", UpsertContact)
def upsert_contact(ctx: Context, config: CrmConfig, input: UpsertContact) -> HttpResult:
    """Create or update a contact by email (PUT /contacts/{email})."""
    # quote() with no safe '/': an address cannot add path segments
    return _send(ctx, config, "PUT", f"/contacts/{quote(input.email, safe='@')}", input)


@crm.function("create_deal", CreateDeal)
def create_deal(ctx: Context, config: CrmConfig, input: CreateDeal) -> HttpResult:
    """Open a deal for a contact (POST /deals)."""
    return _send(ctx, config, "POST", "/deals", input)


@crm.health_check
def health(ctx: Context, config: CrmConfig) -> HttpResult:
    headers = {"Accept": "application/json"}
    if config.api_key is not None:
        headers["Authorization"] = f"Bearer {ctx.reveal(config.api_key)}"
    return ctx.request("GET", config.base_url, headers=headers)
