"""The deployed size of a compiled definition, checked against the Step Functions limit.

`check_size(asl)`: Step Functions rejects a definition over 1 MB (1,048,576 bytes). What it
receives is compact: CloudFormation reads the DefinitionUri file (JSON or YAML) as data and passes
it on after SAM's DefinitionSubstitutions, which turn each `${...FunctionArn}` into an ARN. The
check measures that, with every placeholder as long as a deployed function ARN can be.
"""

from __future__ import annotations

import json
import re
from typing import Any

from journeys.language.errors import JourneyFileError, Problem

DEFINITION_LIMIT = 1_048_576  # bytes (UTF-8): the Step Functions definition quota
# arn:<partition>:lambda:<region>:<account>:function:<function name, at most 64>:live (the alias)
LONGEST_FUNCTION_ARN = len("arn:aws-us-gov:lambda:ap-southeast-4:123456789012:function:") + 64 + len(":live")
_PLACEHOLDER = re.compile(r'"\$\{[A-Za-z0-9]+FunctionArn\}"')


def compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def deployed_size(definition: str) -> int:
    """Bytes of a compact definition once every function placeholder is a (longest) ARN."""
    placeholders = _PLACEHOLDER.findall(definition)
    return len(definition.encode("utf-8")) + sum(LONGEST_FUNCTION_ARN + 2 - len(p) for p in placeholders)


def largest_states(states: dict[str, Any], count: int = 3) -> list[tuple[str, int]]:
    sizes = ((name, len(compact_json(state).encode("utf-8"))) for name, state in states.items())
    return sorted(sizes, key=lambda item: (-item[1], item[0]))[:count]


def check_size(asl: dict[str, Any], source: str | None = None, limit: int = DEFINITION_LIMIT) -> int:
    """The deployed size of `asl`; a JourneyFileError naming the size and the largest states when over."""
    size = deployed_size(compact_json(asl))
    if size > limit:
        biggest = ", ".join(f"'{name}' {bytes_:,} B" for name, bytes_ in largest_states(asl["States"]))
        raise JourneyFileError(source, [Problem(
            f"the deployed state machine definition would be {size:,} bytes, over the Step Functions limit of "
            f"{limit:,} bytes ({len(asl['States'])} states; largest: {biggest}). Split the journey in two "
            f"(start_journey) or shorten the step settings")])
    return size
