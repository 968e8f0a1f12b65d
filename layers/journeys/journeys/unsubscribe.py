"""One-click unsubscribe (RFC 8058): signed links in List-Unsubscribe, verified on the way back."""

from __future__ import annotations

import hashlib
import hmac
import os
import urllib.parse

LOCAL_SECRET = "local-unsubscribe-secret"  # local runs only; on AWS the secret comes from the stack


def _secret() -> bytes:
    return os.environ.get("JOURNEYS_UNSUBSCRIBE_SECRET", LOCAL_SECRET).encode()


def token(contact_id: str) -> str:
    return hmac.new(_secret(), contact_id.encode(), hashlib.sha256).hexdigest()[:32]


def verify(contact_id: str, candidate: str) -> bool:
    return hmac.compare_digest(token(contact_id), candidate or "")


def unsubscribe_url(contact_id: str) -> str:
    base = os.environ.get("JOURNEYS_UNSUBSCRIBE_URL", "https://journeys.example/unsubscribe")
    query = urllib.parse.urlencode({"contact": contact_id, "token": token(contact_id)})
    return f"{base}?{query}"


def unsubscribe_headers(contact_id: str) -> dict[str, str]:
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(contact_id)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
