"""Contact updates: update_profile, add_note, add/remove tag, add/remove group, unsubscribe."""

from journeys.runtime.lambda_app import step_handler
from journeys.runtime.updates import WORK

lambda_handler = step_handler("updates", WORK)
