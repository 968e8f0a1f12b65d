"""A journey's state machine versions, the `live` alias, and their running executions."""

from __future__ import annotations

from collections.abc import Iterator

from journeys.ops.stack import LIVE_ALIAS


def version_number(version_arn: str | None) -> int | None:
    """`arn:...:stateMachine:NAME:3` -> 3."""
    tail = (version_arn or "").rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def versions(sfn, machine_arn: str) -> dict[int, str]:
    """Published versions, number -> version ARN (newest first)."""
    found, kwargs = {}, {"stateMachineArn": machine_arn}
    while True:
        page = sfn.list_state_machine_versions(**kwargs)
        for item in page["stateMachineVersions"]:
            found[version_number(item["stateMachineVersionArn"])] = item["stateMachineVersionArn"]
        if not page.get("nextToken"):
            return dict(sorted(found.items(), reverse=True))
        kwargs["nextToken"] = page["nextToken"]


def live_version(sfn, machine_arn: str) -> int | None:
    """The version `live` routes to (the one with the most weight); None before the first publish."""
    try:
        alias = sfn.describe_state_machine_alias(stateMachineAliasArn=f"{machine_arn}:{LIVE_ALIAS}")
    except (sfn.exceptions.ResourceNotFound, sfn.exceptions.StateMachineDoesNotExist):
        return None
    routes = sorted(alias.get("routingConfiguration", []), key=lambda route: -route.get("weight", 0))
    return version_number(routes[0]["stateMachineVersionArn"]) if routes else None


def running(sfn, state_machine_arn: str) -> Iterator[str]:
    """Execution ARNs RUNNING on a machine or a version (ListExecutions, 1,000 per page)."""
    kwargs = {"stateMachineArn": state_machine_arn, "statusFilter": "RUNNING", "maxResults": 1000}
    while True:
        page = sfn.list_executions(**kwargs)
        for item in page["executions"]:
            yield item["executionArn"]
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def running_by_version(sfn, machine_arn: str, only: int | None = None) -> dict[int | None, list[str]]:
    """Running executions per version (None: started on the machine itself, before any publish)."""
    published = versions(sfn, machine_arn)
    if only is not None:
        if only not in published:
            raise LookupError(f"version {only} does not exist (published: {', '.join(map(str, published)) or 'none'})")
        return {only: list(running(sfn, published[only]))}
    by_version: dict[int | None, list[str]] = {number: list(running(sfn, arn)) for number, arn in published.items()}
    seen = {arn for arns in by_version.values() for arn in arns}
    unversioned = [arn for arn in running(sfn, machine_arn) if arn not in seen]
    if unversioned:
        by_version[None] = unversioned
    return by_version
