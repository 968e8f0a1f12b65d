"""Entry webhook: POST /journeys/{journey}/entries, POST /events, POST /unsubscribe (HTTP API).

Thin on purpose: routing, signature checks, validation and entry rules live in journeys.edges.webhook.
"""

from journeys.edges.webhook import lambda_handler

__all__ = ["lambda_handler"]
