"""Journey control: start_journey, exit_journey, and the contact refresh after waits."""

from journeys.runtime.lambda_app import step_handler
from journeys.runtime.control import WORK

lambda_handler = step_handler("control", WORK)
