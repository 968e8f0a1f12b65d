"""Entry webhook: POST /journeys/{journey}/entries, POST /events, POST /unsubscribe (HTTP API).

Thin on purpose: routing, signature checks, validation and entry rules live in journeys.webhook.
"""

from journeys.webhook import lambda_handler

__all__ = ["lambda_handler"]
