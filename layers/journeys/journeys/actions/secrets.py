"""Secrets for Action configs: a config value `{"secret": "NAME"}` is resolved only when a call is made.

Only a SecretRef resolves: one parsed from the actions file (a config's typed field) or made by the webhook
step from a reference written literally in the journey. A plain dict shaped like a reference is data
(contact attributes, an API answer rendered by a template) and goes on the wire as text.

Resolved values travel as pydantic SecretStr so they print as '**********' in reprs, errors and logs.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Mapping, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from journeys.language import secret_refs
from journeys.actions.errors import SecretNotFound

__all__ = ["SecretRef", "SecretResolver", "EnvSecrets", "AwsSecrets", "reveal", "reveal_headers", "is_secret_ref",
           "SecretNotFound"]


class SecretRef(BaseModel):
    """A reference to a secret by name; the name is not secret, the value it points to is."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    secret: str = Field(min_length=1, description="secret name; 'ssm:/path' for an SSM SecureString on AWS")


@runtime_checkable
class SecretResolver(Protocol):
    def resolve(self, name: str) -> SecretStr: ...


def is_secret_ref(value: Any) -> bool:
    """The shape of a reference (in a file being read); only a SecretRef instance is ever resolved."""
    return isinstance(value, SecretRef) or secret_refs.is_secret_ref(value)


def reveal(value: Any, secrets: SecretResolver) -> str:
    """The plain string to put on the wire: resolves a SecretRef, unwraps a SecretStr, passes strings;
    anything else (a dict that merely looks like a reference included) is data, sent as JSON text."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, SecretRef):
        value = secrets.resolve(value.secret)
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return "" if value is None else str(value)


def reveal_headers(headers: Mapping[str, Any], secrets: "SecretResolver | None") -> tuple[dict[str, str], list[str]]:
    """Headers to put on the wire, and the names of those that came from a secret (a redirect that leaves
    the origin drops them). Local runs read secrets from the environment when no resolver is given."""
    resolver = secrets or EnvSecrets()
    plain: dict[str, str] = {}
    sensitive: list[str] = []
    for name, value in headers.items():
        if isinstance(value, SecretRef):
            sensitive.append(str(name))
        plain[str(name)] = reveal(value, resolver)
    return plain, sensitive


class EnvSecrets:
    """Local runs: NAME comes from env var JOURNEYS_SECRET_<NAME upper-cased, non-alphanumerics as '_'>."""

    prefix = "JOURNEYS_SECRET_"

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._environ = environ

    @classmethod
    def variable(cls, name: str) -> str:
        return cls.prefix + re.sub(r"[^A-Za-z0-9]", "_", name).upper()

    def resolve(self, name: str) -> SecretStr:
        environ = os.environ if self._environ is None else self._environ
        variable = self.variable(name)
        if variable not in environ:
            raise SecretNotFound(f"secret '{name}' is not set: define environment variable {variable}")
        return SecretStr(environ[variable])

    def __repr__(self) -> str:
        return "EnvSecrets()"


class AwsSecrets:
    """On AWS: Secrets Manager by name, or SSM Parameter Store (decrypted) for names starting 'ssm:'.
    Powertools caches values for `max_age` seconds across invocations of a warm Lambda."""

    def __init__(self, max_age: int = 300):
        self.max_age = max_age

    def resolve(self, name: str) -> SecretStr:
        # Imported here: the local runner and tests need no AWS SDK setup unless a secret is used.
        from aws_lambda_powertools.utilities import parameters

        try:
            if name.startswith("ssm:"):
                value = parameters.get_parameter(name[4:], decrypt=True, max_age=self.max_age)
            else:
                value = parameters.get_secret(name, max_age=self.max_age)
        except Exception as exc:  # noqa: BLE001 - any SDK failure becomes one clear, value-free message
            store = "SSM Parameter Store" if name.startswith("ssm:") else "Secrets Manager"
            # AWS error texts name the secret and the reason, never its value
            raise SecretNotFound(f"secret '{name}' could not be read from {store}: {str(exc)[:300]}") from None
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        return SecretStr(str(value))

    def __repr__(self) -> str:
        return f"AwsSecrets(max_age={self.max_age})"
