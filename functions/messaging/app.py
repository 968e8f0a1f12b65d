"""Messaging steps: send_email, send_optimized_email, send_notification_email, site_notification."""

from journeys.runtime.lambda_app import step_handler
from journeys.runtime.messaging import WORK

lambda_handler = step_handler("messaging", WORK)
