"""The module registry. A module is one file in this package that builds a `Module` and registers it:

    crm = register(Module("crm", CrmConfig, "A generic REST CRM"))

    @crm.function("create_task", CreateTaskInput)
    def create_task(ctx: Context, config: CrmConfig, input: CreateTaskInput) -> HttpResult: ...

The package imports every file in itself, so that file is all it takes to add a module.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

from pydantic import BaseModel, ValidationError

from journeys.actions.errors import ActionConfigError, ActionError, ActionInputError, UnknownModule, describe_validation_error
from journeys.actions.net import HttpResult, OutboundPolicy, idempotency_key, request
from journeys.actions.secrets import SecretResolver, reveal

__all__ = ["Context", "Function", "Module", "register", "get_module", "modules"]


@dataclass
class Context:
    """What a module function gets besides its config and input: where it may connect and how to read secrets."""

    action_id: str
    policy: OutboundPolicy
    secrets: SecretResolver
    timeout: float = 10.0
    retries: int = 3
    sleep: Callable[[float], None] = time.sleep
    total_timeout: float | None = None  # the whole call's deadline (every attempt and back-off)
    # Idempotency-Key for a POST: the same for every attempt of this call (see net.idempotency_key)
    idempotency_key: str = field(default_factory=lambda: idempotency_key(None, ""))

    def reveal(self, value: Any) -> str:
        return reveal(value, self.secrets)

    def request(self, method: str, url: str, **kwargs) -> HttpResult:
        kwargs.setdefault("timeout", self.timeout)
        kwargs.setdefault("retries", self.retries)
        kwargs.setdefault("total_timeout", self.total_timeout)
        kwargs.setdefault("idempotency_key", self.idempotency_key)  # POSTs carry it (net.request)
        return request(method, url, policy=self.policy, sleep=self.sleep, **kwargs)


@dataclass(frozen=True)
class Function:
    name: str
    input_model: type[BaseModel]
    handler: Callable[[Context, BaseModel, BaseModel], HttpResult | dict]
    description: str = ""


@dataclass
class Module:
    type: str
    config_model: type[BaseModel]
    description: str = ""
    functions: dict[str, Function] = field(default_factory=dict)
    health: Callable[[Context, BaseModel], HttpResult] | None = None
    source: str = ""  # the Python module that registered it, to tell a reload from a clash

    def function(self, name: str, input_model: type[BaseModel], description: str | None = None):
        """Decorator adding a function; its docstring's first line describes it in the catalog."""
        def decorate(handler):
            doc = description if description is not None else (handler.__doc__ or "").strip().split("\n")[0]
            self.functions[name] = Function(name, input_model, handler, doc)
            return handler
        return decorate

    def health_check(self, handler):
        """Decorator for the module test: a cheap request proving the config reaches its endpoint."""
        self.health = handler
        return handler

    def parse_config(self, action_id: str, config: dict) -> BaseModel:
        try:
            return self.config_model.model_validate(config)
        except ValidationError as exc:
            problems = describe_validation_error(exc, "config.")
            raise ActionConfigError("; ".join(f"action '{action_id}': {key}: {msg}" for key, msg in problems)) from None

    def get_function(self, action_id: str, name: str) -> Function:
        if name not in self.functions:
            valid = ", ".join(sorted(self.functions)) or "(none)"
            raise ActionError(f"action '{action_id}' (module '{self.type}') has no function '{name}'; valid: {valid}")
        return self.functions[name]

    def parse_input(self, action_id: str, function: Function, data: dict) -> BaseModel:
        try:
            return function.input_model.model_validate(data if data is not None else {})
        except ValidationError as exc:
            problems = describe_validation_error(exc)
            raise ActionInputError("; ".join(
                f"action '{action_id}' function '{function.name}': input '{key}': {msg}" for key, msg in problems
            )) from None

    def catalog(self) -> dict:
        return {
            "type": self.type,
            "description": self.description,
            "config_schema": self.config_model.model_json_schema(),
            "functions": [
                {"name": f.name, "description": f.description, "input_schema": f.input_model.model_json_schema()}
                for f in sorted(self.functions.values(), key=lambda f: f.name)
            ],
        }


_MODULES: dict[str, Module] = {}


def register(module: Module) -> Module:
    import inspect

    caller = inspect.stack()[1].frame.f_globals.get("__name__", "")
    module.source = module.source or caller
    existing = _MODULES.get(module.type)
    if existing is not None and existing.source != module.source:
        raise ActionError(f"module type '{module.type}' is registered twice ({existing.source} and {module.source})")
    _MODULES[module.type] = module
    return module


def get_module(type_: str) -> Module:
    try:
        return _MODULES[type_]
    except KeyError:
        valid = ", ".join(sorted(_MODULES)) or "(none)"
        raise UnknownModule(f"unknown action type '{type_}'; valid types: {valid}") from None


def modules() -> list[Module]:
    return [_MODULES[name] for name in sorted(_MODULES)]
