"""Cold start: a handler's import loads only what every invocation of it needs (issue 11, item 4).

Behaviour, not timing (bench/bench_startup.py prints the times): each handler is imported in a
fresh process, as Lambda imports it, and the heavy modules it must not load are absent from
sys.modules. Liquid (and babel) load on the first template that renders, Powertools Idempotency
on the first step that does work, X-Ray only when tracing is on, httpx only in the actions
function, moto and PyYAML never in a handler (a deployed function reads no YAML).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import importlib.util, json, sys
loaded = {}
for group in sys.argv[1:]:
    spec = importlib.util.spec_from_file_location(f"{group}_app", f"functions/{group}/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert callable(module.lambda_handler)
    loaded[group] = sorted(name for name in sys.modules if name.split(".")[0] in
                           ("liquid", "babel", "aws_xray_sdk", "httpx", "moto", "rich", "click", "yaml")
                           or name.startswith("aws_lambda_powertools.utilities.idempotency"))
print(json.dumps(loaded))
"""

LAMBDA_ENV = {"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_LAMBDA_FUNCTION_NAME": "test",
              "POWERTOOLS_SERVICE_NAME": "journeys-test", "POWERTOOLS_METRICS_NAMESPACE": "Journeys",
              "CONTACTS_TABLE": "c", "JOURNEY_TABLE": "j", "IDEMPOTENCY_TABLE": "i"}


def heavy_modules_after_import(*groups: str, tracing: bool) -> dict[str, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "LAMBDA_"))}
    env.update(LAMBDA_ENV)
    if tracing:
        env["LAMBDA_TASK_ROOT"] = "/var/task"  # inside Lambda: Powertools' Tracer is on
    done = subprocess.run([sys.executable, "-c", PROBE, *groups], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def top_level(names: list[str]) -> set[str]:
    return {name.split(".")[0] if not name.startswith("aws_lambda_powertools") else "idempotency" for name in names}


def test_given_tracing_off_when_each_handler_is_imported_then_no_liquid_babel_xray_httpx_moto_or_idempotency():
    # Imported one after another in one process: what each adds can only grow, so actions goes last.
    loaded = heavy_modules_after_import("entry", "control", "updates", "messaging", "actions", tracing=False)

    for group in ("entry", "control", "updates", "messaging"):
        assert top_level(loaded[group]) == set(), group
    assert top_level(loaded["actions"]) <= {"httpx", "rich", "click"}  # httpx's own CLI pulls rich/click when installed


def test_given_tracing_on_as_deployed_when_a_step_handler_is_imported_then_xray_loads_but_patches_no_httpx():
    loaded = heavy_modules_after_import("messaging", "actions", tracing=True)

    assert top_level(loaded["messaging"]) == {"aws_xray_sdk"}  # X-Ray patches botocore only here
    assert "httpx" in top_level(loaded["actions"]) and not {"liquid", "babel", "moto", "idempotency"} & top_level(loaded["actions"])


CLI_PROBE = """
import json, sys
from journeys.cli.main import main
seen = {}
for name, args in (("validate", ["validate", sys.argv[1]]), ("run", ["run", *sys.argv[1:]])):
    main(args, standalone_mode=False)
    seen[name] = sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in ("httpx", "moto", "aws_xray_sdk")}
                        | ({"journeys.actions"} if "journeys.actions" in sys.modules else set()))
print(json.dumps(seen), file=sys.stderr)
"""


def test_given_the_cli_when_a_journey_is_validated_then_run_then_moto_loads_only_for_the_run_and_httpx_never(tmp_path):
    from conftest import SHARED

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDA_"))}
    done = subprocess.run([sys.executable, "-c", CLI_PROBE, str(SHARED / "lead-nurturing.journey.yaml"), "--contact",
                           str(SHARED / "contacts" / "ada.json"), "--start", "2026-01-05T08:00:00Z", "--json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True)  # no statemachines/actions.yaml here

    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stderr.strip().splitlines()[-1])
    assert seen == {"validate": [], "run": ["moto"]}  # a journey without integration steps needs no HTTP client
