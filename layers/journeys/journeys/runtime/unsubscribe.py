"""One-click unsubscribe (RFC 8058): signed links in List-Unsubscribe, verified on the way back."""

from __future__ import annotations

import hashlib
import hmac
import os
import urllib.parse

LOCAL_SECRET = "local-unsubscribe-secret"  # local runs only; on AWS the secret comes from the stack
SECRET_NAME_ENV = "JOURNEYS_UNSUBSCRIBE_SECRET_NAME"  # a Secrets Manager secret (the stack's)
SECRET_MAX_AGE = 300


def _secret() -> bytes:
    """The signing key: read from Secrets Manager through Powertools Parameters (cached 5 min)
    when the stack names it, so it never sits in the function's configuration."""
    name = os.environ.get(SECRET_NAME_ENV)
    if not name:
        return LOCAL_SECRET.encode()
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_secret(name, max_age=SECRET_MAX_AGE)).encode()


def token(contact_id: str) -> str:
    return hmac.new(_secret(), contact_id.encode(), hashlib.sha256).hexdigest()[:32]


def verify(contact_id: str, candidate: str) -> bool:
    candidate = candidate or ""
    # compare_digest raises on non-ASCII text; no token we issue has any
    return candidate.isascii() and hmac.compare_digest(token(contact_id), candidate)


def unsubscribe_url(contact_id: str) -> str:
    base = os.environ.get("JOURNEYS_UNSUBSCRIBE_URL", "https://journeys.example/unsubscribe")
    query = urllib.parse.urlencode({"contact": contact_id, "token": token(contact_id)})
    return f"{base}?{query}"


def unsubscribe_headers(contact_id: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(contact_id)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
