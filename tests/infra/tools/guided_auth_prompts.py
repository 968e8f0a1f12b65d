#!/usr/bin/env python3
"""The resources `sam deploy --guided` asks "<resource> has no authentication. Is this okay?" about,
one line each, computed by SAM CLI's own code (samcli.commands.deploy.auth_utils), offline.

Usage: python guided_auth_prompts.py template.yaml
"""
from __future__ import annotations

import sys

from samcli.commands.deploy.auth_utils import auth_per_resource
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider


def main(template: str) -> int:
    stacks, _ = SamLocalStackProvider.get_stacks(template)
    for resource, authorized in auth_per_resource(stacks):
        if not authorized:
            print(resource)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
