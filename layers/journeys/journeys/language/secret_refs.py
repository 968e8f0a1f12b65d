"""`{"secret": NAME}`: a reference to a secret, resolved only when a call is made (actions/secrets.py).

Never a template and never rendered, so a secret's value stays out of the journey file, the ASL, the
execution state and the logs. Dependency-free: the model, the template renderer and the actions
package all recognise the same shape.
"""

from __future__ import annotations

from typing import Any


def is_secret_ref(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secret"} and isinstance(value["secret"], str)
