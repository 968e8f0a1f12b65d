"""Start-up cost: each Lambda handler's cold import, and `journeys run`'s start-up vs its run.

(a) Handler import: `import app` of functions/<group>/app.py in a fresh process, with the
    environment a deployed function has (template.yaml: tracing on inside Lambda, metrics on,
    idempotency on, table names set), timed inside the process; as a ratio to a bare
    `import boto3` timed the same way, in the same run, fresh processes taken in turn
    (boto3, entry, messaging, ... boto3, entry, ...) so a machine's drift hits all alike. Packages
    the layer does not ship (NOT_IN_LAYER) are hidden from the probe.
    Target (issue 11): <= 2.0x for every handler; moonshot 1.5x.
(b) `journeys run` of lead-nurturing for Ada: wall time from the process's start to the first
    StartExecution (start-up: imports, compile, the moto world) and from there to the exit (the run).

Every figure is min / median over N fresh processes. Also lists the heavy modules each handler
imports (tests/test_cold_start.py asserts which must not be there).
Run: .venv/bin/python bench/bench_startup.py [N]   (default N=7)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "journeys"
GROUPS = ("entry", "messaging", "updates", "actions", "control")
HEAVY = ("liquid", "babel", "aws_xray_sdk", "httpx", "moto", "aws_lambda_powertools.utilities.idempotency",
         "yaml", "rich", "click")

# What template.yaml gives a deployed function (Globals + the Lambda runtime's own variables).
DEPLOYED_ENV = {
    "LAMBDA_TASK_ROOT": "/var/task",  # inside Lambda: Powertools turns tracing on
    "AWS_LAMBDA_FUNCTION_NAME": "journeys-bench",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "journeys-bench",
    "POWERTOOLS_METRICS_NAMESPACE": "Journeys",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "CONTACTS_TABLE": "bench-contacts",
    "JOURNEY_TABLE": "bench-journey",
    "IDEMPOTENCY_TABLE": "bench-idempotency",
    "JOURNEY_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:bench_{journey}:live",
}

# Installed here for the CLI but not in the Lambda layer (layers/journeys/requirements.txt): httpx
# imports its own command line (rich, click) when they are installed, so the probe hides them as
# the deployed function's path does.
NOT_IN_LAYER = ("rich", "click", "moto", "pytest")

IMPORT_PROBE = """
import sys, time, json
class NotInLayer:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in json.loads(sys.argv[4]):
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, NotInLayer())
sys.path.insert(0, sys.argv[1])
started, cpu = time.perf_counter(), time.process_time()
if sys.argv[2] == "boto3":
    import boto3
else:
    import app
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu": cpu, "heavy": [m for m in json.loads(sys.argv[3]) if m in sys.modules]}))
"""


def deployed_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "POWERTOOLS_", "JOURNEYS_"))}
    env.update(DEPLOYED_ENV)
    return env


def import_once(target: str) -> dict:
    folder = REPO / "functions" / target if target != "boto3" else REPO
    done = subprocess.run([sys.executable, "-c", IMPORT_PROBE, str(folder), target, json.dumps(HEAVY), json.dumps(NOT_IN_LAYER)],
                          env=deployed_env(), capture_output=True, text=True, cwd=tempfile.gettempdir())
    if done.returncode:
        raise SystemExit(f"importing {target} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


RUN_PROBE = """
import sys, time, json
spawned = float(sys.argv[1])
import botocore.client
first = {}
original = botocore.client.BaseClient._make_api_call
def timed(client, operation, params):
    if operation == "StartExecution" and "at" not in first:
        first["at"] = time.time()
    return original(client, operation, params)
botocore.client.BaseClient._make_api_call = timed
from journeys.cli.main import main
try:
    main(sys.argv[2:], standalone_mode=False)
finally:
    print(json.dumps({"startup": first.get("at", time.time()) - spawned}), file=sys.stderr)
"""


def run_once() -> dict:
    args = [str(SHARED / "lead-nurturing.journey.yaml"), "--contact", str(SHARED / "contacts" / "ada.json"),
            "--start", "2026-01-05T08:00:00Z", "--json"]
    spawned = time.time()
    done = subprocess.run([sys.executable, "-c", RUN_PROBE, str(spawned), "run", *args],
                          capture_output=True, text=True, cwd=REPO)
    total = time.time() - spawned
    if done.returncode:
        raise SystemExit(f"journeys run failed:\n{done.stderr}")
    startup = json.loads(done.stderr.strip().splitlines()[-1])["startup"]
    return {"total": total, "startup": startup, "run": total - startup}


def spread(values: list[float]) -> str:
    return f"min {min(values):.3f}  median {statistics.median(values):.3f}"


def main(rounds: int = 7) -> None:
    seconds: dict[str, list[float]] = {t: [] for t in ("boto3", *GROUPS)}
    ratios: dict[str, list[float]] = {g: [] for g in GROUPS}
    cpu_ratios: dict[str, list[float]] = {g: [] for g in GROUPS}
    heavy: dict[str, list[str]] = {}
    for _ in range(rounds):
        base = import_once("boto3")
        seconds["boto3"].append(base["seconds"])
        for group in GROUPS:
            probe = import_once(group)
            seconds[group].append(probe["seconds"])
            ratios[group].append(probe["seconds"] / base["seconds"])  # paired with this round's boto3
            cpu_ratios[group].append(probe["cpu"] / base["cpu"])
            heavy[group] = probe["heavy"]
    print(f"(a) handler cold import, deployed environment, {rounds} fresh processes each (wall seconds; ratio to bare "
          "`import boto3`, paired per round, in wall time and in the process's CPU time - the CPU ratio is the one "
          "a busy machine moves least)")
    print(f"  {'import boto3':<14} {spread(seconds['boto3'])}")
    worst = worst_cpu = 0.0
    for group in GROUPS:
        ratio, cpu_ratio = statistics.median(ratios[group]), statistics.median(cpu_ratios[group])
        worst, worst_cpu = max(worst, ratio), max(worst_cpu, cpu_ratio)
        print(f"  {group:<14} {spread(seconds[group])}   wall ratio min {min(ratios[group]):.2f}x  median {ratio:.2f}x"
              f"   cpu ratio median {cpu_ratio:.2f}x   heavy: {', '.join(heavy[group]) or '-'}")
    print(f"  worst handler: {worst:.2f}x bare boto3 in wall time, {worst_cpu:.2f}x in CPU time (target <= 2.0x, moonshot 1.5x)")

    runs = [run_once() for _ in range(max(3, rounds // 2))]
    print(f"(b) journeys run lead-nurturing (Ada), {len(runs)} fresh processes (seconds)")
    for part in ("startup", "run", "total"):
        label = {"startup": "start-up (to the first StartExecution)", "run": "the run (to exit)", "total": "wall total"}[part]
        print(f"  {label:<40} {spread([r[part] for r in runs])}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
