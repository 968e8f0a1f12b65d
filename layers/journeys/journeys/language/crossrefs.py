"""What one journey file cannot tell alone: the Actions its steps call and the journeys it starts or exits.

`journeys validate`, `compile` and `build` check these against the actions file and the other journeys
given, so a misspelt function or input field is a compile error, not a failed step at run time:
- an `action`/`crm_action` step names a configured Action, a function of its module, and input fields
  the function's pydantic input model knows (required ones present). An input value that is a template
  is checked for its name only (its value is known when it renders); a literal value is validated.
- a `start_journey`/`exit_journey` names a journey among those known (when the others are known).
Problems name the file, the step and the key, as every loader error does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from journeys.language.errors import JourneyFileError, Problem, did_you_mean
from journeys.language.loader import _problems
from journeys.language.model import Journey

ACTION_STEPS = ("action", "crm_action")
JOURNEY_TARGETS = ("start_journey", "exit_journey")


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def check_journeys(journeys: Iterable[Journey], actions: Mapping[str, Any] | None = None,
                   known_journeys: Iterable[str] | None = None) -> list[JourneyFileError]:
    """One JourneyFileError per journey with problems. `actions`: the actions file's specs (id -> spec
    with .type), None to leave Action steps unchecked; `known_journeys`: every journey id, None when
    the other journeys are not known."""
    known = set(known_journeys) if known_journeys is not None else None
    errors = []
    for journey in journeys:
        problems: list[Problem] = []
        for step in journey.steps:
            settings = journey.settings.get(step.id)
            if settings is None:
                continue  # skipped (incomplete) steps do nothing at run time
            if step.type in ACTION_STEPS and actions is not None:
                problems += _action_problems(step.id, settings, actions)
            if step.type in JOURNEY_TARGETS and known is not None:
                target = getattr(settings, "journey", None)
                if target is not None and target not in known:
                    problems.append(Problem(f"names no journey: {target!r}{did_you_mean(target, known)}; known: "
                                            f"{', '.join(sorted(known))}", step.id, "settings.journey"))
        if problems:
            errors.append(JourneyFileError(journey.source, problems))
    return errors


def _action_problems(step_id: str, call: Any, actions: Mapping[str, Any]) -> list[Problem]:
    from journeys.actions import ActionError, get_module

    spec = actions.get(call.action)
    if spec is None:
        return [Problem(f"names no Action: {call.action!r}{did_you_mean(call.action, actions)}; configured: "
                        f"{', '.join(sorted(actions)) or '(none)'}", step_id, "settings.action")]
    try:
        module = get_module(spec.type)
    except ActionError:
        return []  # the actions file's own check reports an unknown module type
    function = module.functions.get(call.function)
    if function is None:
        return [Problem(f"Action {call.action!r} (module {module.type!r}) has no function {call.function!r}"
                        f"{did_you_mean(call.function, module.functions)}; valid: {', '.join(sorted(module.functions))}",
                        step_id, "settings.function")]
    return [Problem(p.message, step_id, f"settings.input.{p.key}" if p.key else "settings.input")
            for p in input_problems(function.input_model, call.input)]


def input_problems(model, data: dict[str, Any]) -> list[Problem]:
    """The input as the function will validate it, templates aside: a template value stands in for
    a field by name, its value unknown until it renders."""
    templated = {key for key, value in data.items() if is_template(value)}
    literal = {key: value for key, value in data.items() if key not in templated}
    problems: list[Problem] = []
    fields = {name for field_name, info in model.model_fields.items() for name in (field_name, info.alias) if name}
    if model.model_config.get("extra") != "allow":
        problems += [Problem(f"unknown key{did_you_mean(key, fields)}", key=key) for key in sorted(templated - fields)]
    try:
        model.model_validate(literal)
    except ValidationError as error:
        for problem in _problems(error, literal, model):
            top = (problem.key or "").split(".")[0]
            if top in templated or (not problem.key and templated):
                continue  # present as a template; or a whole-input rule that may hold once rendered
            problems.append(problem)
    return problems


DEFAULT_ACTIONS_FILE = "statemachines/actions.yaml"


def load_actions(path: str | None) -> dict[str, Any] | None:
    """The actions file's specs (id -> spec), or None when there is no file to check against.
    Raises journeys.actions.ActionsFileError (its own named errors) when the file is bad."""
    from pathlib import Path

    if path is None or not Path(path).is_file():
        return None
    from journeys.actions import load_actions_file

    return load_actions_file(path)
