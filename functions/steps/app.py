"""Folded runs of steps (`optimize: cost`) whose steps belong to more than one step group.

A run whose steps are all of one group runs in that group's function; only a mixed run comes
here, so this function holds the union of the groups' permissions (template.yaml).
"""

from journeys.runtime.lambda_app import step_handler
from journeys.runtime.control import WORK as CONTROL
from journeys.runtime.integrations import WORK as INTEGRATIONS
from journeys.runtime.messaging import WORK as MESSAGING
from journeys.runtime.updates import WORK as UPDATES

lambda_handler = step_handler("steps", {**MESSAGING, **UPDATES, **INTEGRATIONS, **CONTROL})
