"""Integration steps: webhook, action, crm_action (HTTP calls through the Action modules)."""

from journeys.runtime.lambda_app import step_handler
from journeys.runtime.integrations import WORK

lambda_handler = step_handler("actions", WORK)
