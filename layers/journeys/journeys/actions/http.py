"""Module `http`: call any HTTP API under one base URL, with optional auth from a secret."""

from __future__ import annotations

import base64
from typing import Any, Literal
from urllib.parse import unquote

import httpx
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from journeys.actions.errors import ActionError
from journeys.actions.net import HttpResult
from journeys.actions.registry import Context, Module, register
from journeys.actions.secrets import SecretRef, reveal_headers


def base_url_field(value: str) -> str:
    """Shared by modules: a base URL must be absolute http(s) so paths can only be appended to it."""
    try:
        url = httpx.URL(value)
    except Exception:  # noqa: BLE001 - httpx raises several types for malformed URLs
        raise ValueError("not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


def join_url(base_url: str, path: str) -> str:
    """base + path, refusing a path that would leave the base URL's origin or, with a `..` segment, climb out
    of its base path (input may come from contact data; URL normalisation would resolve `/v1/../admin`)."""
    if not path:
        return base_url
    if _climbs(path):
        raise ActionError(f"path '{path}' has a '..' segment: a path may not climb out of the action's base path")
    joined = base_url.rstrip("/") + "/" + path.lstrip("/")
    base, result = httpx.URL(base_url), httpx.URL(joined)
    if (result.scheme, result.host, result.port) != (base.scheme, base.host, base.port):
        raise ActionError(f"path '{path}' leaves the action's base URL")
    return joined


def _climbs(path: str) -> bool:
    """Has the path a `..` segment? Percent-encoded dots and slashes and backslashes count too: servers and
    proxies decode or normalise them before resolving the path."""
    decoded = unquote(path.split("?", 1)[0]).replace("\\", "/")
    return ".." in (segment.strip() for segment in decoded.split("/"))


class Auth(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    type: Literal["bearer", "basic", "header"]
    secret: str = Field(min_length=1, description="secret name; for basic the value is 'user:password'")
    header: str | None = Field(None, description="header name, for type 'header'")

    @model_validator(mode="after")
    def _header_for_header_auth(self):
        if self.type == "header" and not self.header:
            raise ValueError("auth type 'header' needs 'header' (the header name)")
        return self


class HttpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    base_url: str
    headers: dict[str, str | SecretRef] = Field(default_factory=dict, description="sent on every call")
    auth: Auth | None = None

    _url = field_validator("base_url")(base_url_field)


class RequestInput(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str = Field("", description="appended to base_url")
    query: dict[str, Any] = Field(default_factory=dict, description="scalars or lists of them; None is left out")
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = Field(None, description="object/array/number sent as JSON, string sent as is")

    @field_validator("query")
    @classmethod
    def _flat_query(cls, query: dict) -> dict:
        # One clear message instead of pydantic's one-per-union-member list.
        scalar = (str, int, float, bool, type(None))
        for key, value in query.items():
            if not (isinstance(value, scalar) or (isinstance(value, list) and all(isinstance(v, scalar) for v in value))):
                raise ValueError(f"value of '{key}' must be a string, number, boolean or a list of them")
        return query


http = register(Module("http", HttpConfig, "Call any HTTP API under a base URL"))


def _headers(ctx: Context, config: HttpConfig, extra: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Headers to send, and the names that carry secrets (dropped if a redirect leaves the origin)."""
    headers, sensitive = reveal_headers(config.headers, ctx.secrets)
    headers.update(extra)
    if config.auth:
        secret = ctx.reveal(SecretRef(secret=config.auth.secret))
        if config.auth.type == "bearer":
            name, value = "Authorization", f"Bearer {secret}"
        elif config.auth.type == "basic":
            name, value = "Authorization", "Basic " + base64.b64encode(secret.encode()).decode()
        else:
            name, value = config.auth.header, secret
        headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}  # auth wins over input
        headers[name] = value
        sensitive.append(name)
    return headers, sensitive


@http.function("request", RequestInput)
def request(ctx: Context, config: HttpConfig, input: RequestInput) -> HttpResult:
    """Send one request to base_url + path."""
    headers, sensitive = _headers(ctx, config, input.headers)
    body: dict[str, Any] = {}
    if isinstance(input.body, str):
        body["content"] = input.body
    elif input.body is not None:
        body["json"] = input.body
    return ctx.request(input.method, join_url(config.base_url, input.path), headers=headers, params=input.query,
                       sensitive_headers=sensitive, **body)


@http.health_check
def health(ctx: Context, config: HttpConfig) -> HttpResult:
    headers, sensitive = _headers(ctx, config, {})
    return ctx.request("GET", config.base_url, headers=headers, sensitive_headers=sensitive)
