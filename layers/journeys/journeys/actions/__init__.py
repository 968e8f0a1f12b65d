"""Actions: configured instances of a module (`type`) that journeys call with `action` / `crm_action` steps.

An Action is {id, name, type, config}; its module declares a config schema and functions, each with an
input schema. Every file in this package is imported below, so a module is added by adding one file that
calls `registry.register` (see http.py, crm.py).
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from journeys.actions.errors import (
    ActionConfigError, ActionError, ActionInputError, ActionTimeout, OutboundBlocked, SecretNotFound, UnknownModule,
    describe_validation_error,
)
from journeys.actions.net import HttpResult, OutboundPolicy, call_webhook, idempotency_key
from journeys.actions.registry import Context, get_module, modules
from journeys.actions.secrets import AwsSecrets, EnvSecrets, SecretRef, SecretResolver

__all__ = [
    "ActionSpec", "ActionsFileError", "load_actions_file", "parse_actions", "run_action", "test_action",
    "module_catalog", "get_module", "call_webhook", "OutboundPolicy", "SecretResolver", "EnvSecrets",
    "AwsSecrets", "SecretRef", "ActionError", "OutboundBlocked", "ActionTimeout", "ActionConfigError",
    "ActionInputError", "UnknownModule", "SecretNotFound", "HttpResult", "idempotency_key",
]

# Register every module file (http.py, crm.py, ... and any new one) by importing the whole package.
for _info in pkgutil.iter_modules(__path__):
    if not _info.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_info.name}")


class ActionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    name: str = ""
    type: str = Field(min_length=1)
    config: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _name_defaults_to_id(self):
        self.name = self.name or self.id
        return self


class ActionsFileError(ActionError):
    """Problems in an actions file, one per line: 'file: action 'id': key: message'."""

    def __init__(self, file: str, problems: list[str]):
        self.file, self.problems = file, problems
        super().__init__("\n".join(f"{file}: {p}" for p in problems))


def parse_actions(items: Any, source: str = "<actions>") -> dict[str, ActionSpec]:
    """Validate a list of action dicts (from YAML or DynamoDB), including each config against its module."""
    if not isinstance(items, list):
        raise ActionsFileError(source, ["expected a list of actions"])
    specs: dict[str, ActionSpec] = {}
    problems: list[str] = []
    seen: set[str] = set()  # ids of all items, valid or not, so a duplicate is reported even next to other errors
    for index, item in enumerate(items):
        label = f"action #{index + 1}"
        if not isinstance(item, dict):
            problems.append(f"{label}: expected a mapping with id, name, type, config")
            continue
        if isinstance(item.get("id"), str) and item["id"]:
            label = f"action '{item['id']}'"
            if item["id"] in seen:
                problems.append(f"{label}: id: duplicate action id")
                continue
            seen.add(item["id"])
        try:
            spec = ActionSpec.model_validate(item)
        except ValidationError as exc:
            problems += [f"{label}: {key}: {msg}" for key, msg in describe_validation_error(exc)]
            continue
        try:
            get_module(spec.type).config_model.model_validate(spec.config)
        except UnknownModule as exc:
            problems.append(f"{label}: type: {exc}")
            continue
        except ValidationError as exc:
            problems += [f"{label}: {key}: {msg}" for key, msg in describe_validation_error(exc, "config.")]
            continue
        specs[spec.id] = spec
    if problems:
        raise ActionsFileError(source, problems)
    return specs


def load_actions_file(path: str | Path) -> dict[str, ActionSpec]:
    """Read an actions YAML file (a list of {id, name, type, config}); errors name the file, action and key."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ActionsFileError(file, [f"cannot read: {exc.strerror or exc}"]) from None
    import yaml  # here: the deployed actions function reads Actions from DynamoDB, never a file (cold start)

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ActionsFileError(file, [f"{where}invalid YAML: {getattr(exc, 'problem', None) or exc}"]) from None
    return parse_actions([] if data is None else data, file)


def _context(spec: ActionSpec, policy: OutboundPolicy, secrets: SecretResolver | None, **options) -> Context:
    # Locally secrets come from the environment; on AWS the caller passes AwsSecrets().
    return Context(action_id=spec.id, policy=policy, secrets=secrets or EnvSecrets(), **options)


def run_action(
    spec: ActionSpec,
    function: str,
    input: dict,
    *,
    policy: OutboundPolicy,
    secrets: SecretResolver | None = None,
    timeout: float = 10.0,
    retries: int = 3,
    total_timeout: float | None = None,
    call_ref: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict:
    """Call `function` of the action's module with `input`; returns {status, headers, body}. A non-2xx status is
    returned, not raised: the journey decides. Raises ActionError (and subclasses) for everything else.
    `call_ref` is the calling step's stable reference (execution x step x seq): with the action and function
    it makes the Idempotency-Key of POSTs, so a retried step cannot act twice. `total_timeout` bounds the
    whole call, retries included."""
    module = get_module(spec.type)
    config = module.parse_config(spec.id, spec.config)
    fn = module.get_function(spec.id, function)
    parsed = module.parse_input(spec.id, fn, input)
    ctx = _context(spec, policy, secrets, timeout=timeout, retries=retries, total_timeout=total_timeout, sleep=sleep,
                   idempotency_key=idempotency_key(call_ref, f"{spec.id}.{function}"))
    result = fn.handler(ctx, config, parsed)
    return result.to_dict() if isinstance(result, HttpResult) else result


def test_action(
    spec: ActionSpec,
    policy: OutboundPolicy,
    secrets: SecretResolver | None = None,
    *,
    timeout: float = 5.0,
) -> dict:
    """The module test: one cheap request proving the config reaches its endpoint. Never raises for a failed
    check; returns {ok, status, detail}."""
    try:
        module = get_module(spec.type)
        config = module.parse_config(spec.id, spec.config)
        if module.health is None:
            return {"ok": True, "status": None, "detail": f"module '{module.type}' has no endpoint check; config is valid"}
        result = module.health(_context(spec, policy, secrets, timeout=timeout, retries=0), config)
    except ActionError as exc:
        return {"ok": False, "status": None, "detail": str(exc)}
    if result.status in (401, 403):
        detail = f"reachable, but credentials were rejected ({result.status})"
    elif result.status >= 400:
        detail = f"reachable, but the check returned {result.status}"
    else:
        detail = f"reachable ({result.status})"
    return {"ok": result.status < 400, "status": result.status, "detail": detail}


test_action.__test__ = False  # not a pytest test, though tests import it by this name


def module_catalog() -> list[dict]:
    """Every registered module with its config JSON Schema and each function's input JSON Schema."""
    return [module.catalog() for module in modules()]
