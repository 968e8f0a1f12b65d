"""Read and validate a journey file: every problem names the file, the step and the key."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from journeys.language import templates
from journeys.compiler.graph import EXIT, Graph, references
from journeys.language.errors import JourneyFileError, Problem
from journeys.gcpause import paused_gc
from journeys.language.model import (
    ACTION_TYPES,
    INTEGRATIONS,
    SETTINGS,
    Journey,
    JourneyFile,
    Step,
)


# libyaml's loader when PyYAML was built with it (5-10x faster on large journeys); same safety.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_journey(path: str | Path, allow_incomplete: bool = False) -> tuple[Journey, list[str]]:
    """A validated journey and its warnings; raises JourneyFileError listing every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise JourneyFileError(str(path), [Problem(f"cannot read file: {error.strerror}")]) from None
    return parse_journey(text, str(path), allow_incomplete)


def parse_journey(text: str, file: str | None = None, allow_incomplete: bool = False) -> tuple[Journey, list[str]]:
    with paused_gc():
        return _parse(text, file, allow_incomplete)


def _parse(text: str, file: str | None, allow_incomplete: bool) -> tuple[Journey, list[str]]:
    raw = _read_mapping(text, file)
    problems: list[Problem] = []
    try:
        top = JourneyFile.model_validate(raw)
    except ValidationError as error:
        # Report top-level errors; steps are checked one by one below when they are a list.
        problems += [p for p in _problems(error, raw) if not (p.key or "").startswith("steps.")]
        top = None
    raw_steps = raw.get("steps") if isinstance(raw.get("steps"), list) else []
    skip_incomplete = allow_incomplete or raw.get("incomplete") == "skip"
    steps, settings, skipped, warnings = _steps(raw_steps, skip_incomplete, problems)
    if top is not None and not problems:
        _check_references(steps, problems)
    if top is not None and not problems:
        graph = Graph(steps, top.journey)
        # A loop that spins says more than "never ends" (which such a loop usually is as well).
        problems += graph.cycles_without_wait() or graph.never_ends(goal=top.entry.exit_when is not None)
        warnings += [f"{file or 'journey'}: step '{sid}': unreachable (no step leads to it): left out of the state machine"
                     for sid in graph.unreachable()]
    if problems or top is None:
        raise JourneyFileError(file, problems)
    warnings += [f"{file or 'journey'}: step '{sid}': {why} — compiled as a skip (contacts pass it by)" for sid, why in skipped.items()]
    journey = Journey(
        id=top.journey, name=top.name or top.journey, timezone=top.timezone, entry=top.entry,
        steps=steps, settings=settings, skipped=skipped, source=file, policies=top.policies,
    )
    return journey, warnings


def _read_mapping(text: str, file: str | None) -> dict[str, Any]:
    try:
        raw = json.loads(text) if (file or "").endswith(".json") else yaml.load(text, Loader=SAFE_LOADER)
    except (yaml.YAMLError, json.JSONDecodeError) as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise JourneyFileError(file, [Problem(f"{where}not valid YAML/JSON: {getattr(error, 'problem', None) or error}")]) from None
    if not isinstance(raw, dict):
        raise JourneyFileError(file, [Problem("a journey file is a mapping with journey, entry and steps")])
    return raw


def _steps(raw_steps: list, skip_incomplete: bool, problems: list[Problem]):
    steps: list[Step] = []
    settings: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    warnings: list[str] = []
    seen: dict[str, int] = {}
    keys: dict[str, str] = {}
    for index, raw in enumerate(raw_steps):
        label = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{index + 1}"
        if not isinstance(raw, dict):
            problems.append(Problem("a step is a mapping with id and type", label))
            continue
        wrong_type = _type_problem(raw.get("type"))
        if wrong_type:
            problems.append(Problem(wrong_type, label, "type"))
            continue
        try:
            step = Step.model_validate(raw)
        except ValidationError as error:
            problems += [Problem(p.message, label, p.key) for p in _problems(error, raw)]
            continue
        if step.id in seen:
            problems.append(Problem(f"duplicate step id (also step #{seen[step.id] + 1})", step.id, "id"))
            continue
        if step.key in keys:
            problems.append(Problem(f"step ids '{keys[step.key]}' and '{step.id}' differ only by - and _", step.id, "id"))
            continue
        seen[step.id], keys[step.key] = index, step.id
        if step.apply_to is not None and step.type not in ACTION_TYPES:
            problems.append(Problem("apply_to is for action steps only", step.id, "apply_to"))
        if step.data_key is not None and step.type not in INTEGRATIONS:
            problems.append(Problem("data_key is for integration steps (webhook, action, crm_action)", step.id, "data_key"))
        dollar_key = _dollar_key(step.settings)
        if dollar_key:
            problems.append(Problem("keys may not end in '.$' (Step Functions reads them as paths)", step.id, f"settings.{dollar_key}"))
        steps.append(step)
        own = _settings(step)
        if isinstance(own, list):
            if skip_incomplete and step.type in ACTION_TYPES:
                skipped[step.id] = "; ".join(f"{p.key}: {p.message}" for p in own)
            else:
                problems += own
        else:
            settings[step.id] = own
    return steps, settings, skipped, warnings


def _type_problem(step_type: Any) -> str | None:
    """Why `type` names no step type, or None. Checked before anything else reads the step: the type
    picks the settings model, and YAML may give a list or a mapping here (unhashable)."""
    valid = ", ".join(SETTINGS)
    if step_type is None:
        return f"required key is missing; valid types: {valid}"
    if not isinstance(step_type, str) or step_type not in SETTINGS:
        return f"unknown step type {step_type!r}; valid types: {valid}"
    return None


def _settings(step: Step):
    """Validated settings, or the list of problems with them."""
    try:
        validated = SETTINGS[step.type].model_validate(step.settings)
    except ValidationError as error:
        return [Problem(p.message, step.id, f"settings.{p.key}" if p.key else "settings") for p in _problems(error, step.settings)]
    bad_templates = templates.check(step.settings)
    if bad_templates:
        return [Problem(message, step.id, f"settings.{key}") for key, message in bad_templates]
    return validated


def _check_references(steps: list[Step], problems: list[Problem]) -> None:
    ids = {step.id for step in steps}
    for step in steps:
        for key, target in references(step):
            if target is None or target in ids or (key == "settings.else" and target == EXIT):
                continue
            problems.append(Problem(f"names no step: {target!r}", step.id, key))


def _dollar_key(value: Any, path: str = "") -> str | None:
    if isinstance(value, dict):
        for key, inner in value.items():
            here = f"{path}.{key}" if path else str(key)
            if str(key).endswith(".$"):
                return here
            found = _dollar_key(inner, here)
            if found:
                return found
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found = _dollar_key(inner, f"{path}.{index}")
            if found:
                return found
    return None


def _problems(error: ValidationError, raw: Any) -> list[Problem]:
    """pydantic's errors as problems a user can act on: locations are keys of the file (`raw`, what was
    validated), never pydantic's names for union members; of a union, only the member that came
    closest to matching speaks; each (key, message) once."""
    located = [(item, *_file_location(item["loc"], raw)) for item in error.errors()]
    closest = _closest_members(located)
    unique: dict[tuple, Problem] = {}
    for item, parts, member in located:
        if member is not None and closest[member[0]] != member[1]:
            continue
        problem = Problem(_message(item), key=".".join(parts) or None)
        unique.setdefault((problem.key, problem.message), problem)
    return list(unique.values())


def _file_location(loc: tuple, raw: Any) -> tuple[list[str], tuple | None]:
    """The keys of `loc` that are in the file (or missing from it), and the first union member pydantic
    named on the way, as (where, member name)."""
    parts: list[str] = []
    member = None
    here = raw
    for part in loc:
        if _has(here, part):
            here = here[part]
        elif _is_member_name(part):
            member = member or (tuple(parts), part)
            continue
        else:
            here = None  # a required key that is missing: nothing below it in the file
        parts.append(str(part))
    return parts, member


def _has(container: Any, part: Any) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(container, list) and isinstance(part, int) and -len(container) <= part < len(container)


def _is_member_name(part: Any) -> bool:
    """pydantic's label for a union member or a validator (`FieldCondition`, `list[RandomBranch]`,
    `function-after[...]`, `literal['never','always']`, `[key]`), which no key of a journey looks like."""
    return isinstance(part, str) and (part[:1].isupper() or "[" in part or "(" in part)


def _closest_members(located: list) -> dict[tuple, str]:
    """For each union in the errors, the member whose errors reach deepest into the file (first on a tie)."""
    depth: dict[tuple, dict[str, int]] = {}
    for item, _, member in located:
        if member is not None:
            members = depth.setdefault(member[0], {})
            members[member[1]] = max(members.get(member[1], 0), len(item["loc"]))
    return {where: max(members, key=members.get) for where, members in depth.items()}


# What a key that must match a pattern may hold, in words (pydantic would print the regex).
PATTERN_HINTS = {
    "journey": "lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters (it names the state machine)",
    "id": "letters, digits, '-' and '_', starting with a letter or digit, at most 64 characters",
    "data_key": "letters, digits and '_', not starting with a digit, at most 64 characters",
    "until_time": 'a time of day as HH:MM, 24-hour, e.g. "09:00"',
    "field": "contact.<attr>, event.<attr> or journey.<data_key>.<path>",
}


def _message(item: dict) -> str:
    if item["type"] == "extra_forbidden":
        return "unknown key"
    if item["type"] == "missing":
        return "required key is missing"
    key = next((part for part in reversed(item["loc"]) if isinstance(part, str)), None)
    if item["type"] == "string_pattern_mismatch" and key in PATTERN_HINTS:
        return f"{item['input']!r} is not valid here: use {PATTERN_HINTS[key]}"
    message = item["msg"].removeprefix("Value error, ")
    return re.sub(r" or instance of \w+$", "", message)  # "a valid dictionary or instance of Entry"
