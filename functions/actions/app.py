"""Integration steps: webhook, action, crm_action (HTTP calls through the Action modules)."""

from journeys.lambda_app import step_handler
from journeys.steps.integrations import WORK

lambda_handler = step_handler("actions", WORK)
