"""Offline infrastructure validators: where they live and how they run (no AWS account, no network).

The tools come from `scripts/setup-validators`: .venv-sam (aws-sam-cli, cfn-lint, aws-sam-translator,
pinned in tests/infra/requirements-sam.lock.txt; a separate venv because aws-sam-cli pins boto3 its own
way) and node_modules (asl-validator from package-lock.json). The first test that finds a tool missing
runs that script (once per test session); a tool still missing then FAILS the test when CI=true and
skips it (saying how to install it) otherwise.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(__file__).resolve().parent / "tools"
SAM_VENV = Path(os.environ.get("SAM_VENV", REPO / ".venv-sam"))
ASL_VALIDATOR = REPO / "node_modules" / ".bin" / "asl-validator"
OFFLINE_ENV = {
    "CI": "true",
    "SAM_CLI_TELEMETRY": "0",                 # no telemetry POST, no first-run banner
    "AWS_DEFAULT_REGION": "us-east-1",        # sam validate needs a region (AWS_REGION is not read)
    "AWS_EC2_METADATA_DISABLED": "true",      # boto3 would probe 169.254.169.254 for credentials
    "AWS_CONFIG_FILE": "/dev/null",           # ignore a developer's ~/.aws
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


SETUP_VALIDATORS = REPO / "scripts" / "setup-validators"
_setup_ran: dict[Path, subprocess.CompletedProcess] = {}  # installer -> its result, once per session


def install_validators(installer: Path = SETUP_VALIDATORS) -> subprocess.CompletedProcess:
    """Run scripts/setup-validators once per test session (the README's test command installs what
    it needs; `scripts/setup` only sets up what running a journey needs)."""
    if installer not in _setup_ran:
        print(f"\ninfra tools missing: running {installer.name} (once per session)", flush=True)
        _setup_ran[installer] = subprocess.run(["bash", str(installer)], cwd=REPO, capture_output=True, text=True,
                                               stdin=subprocess.DEVNULL, timeout=1800)
    return _setup_ran[installer]


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def require(path: Path, installer: Path = SETUP_VALIDATORS) -> Path:
    if _executable(path):
        return path
    installed = install_validators(installer)
    if _executable(path):
        return path
    why = (installed.stdout + installed.stderr).strip().splitlines()[-1:] or ["no output"]
    message = (f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path} is missing after running "
               f"scripts/setup-validators (exit {installed.returncode}: {why[0]})")
    if in_ci():
        pytest.fail(message + " [CI=true: the infrastructure validators are required]")
    pytest.skip(message)


def run_offline(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(OFFLINE_ENV)
    started = time.monotonic()
    done = subprocess.run([str(a) for a in args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    done.seconds = time.monotonic() - started
    return done


def load_template(path: Path = REPO / "template.yaml") -> dict:
    """template.yaml as data; a short-form intrinsic becomes {"Ref": ...}, {"Sub": ...}, {"GetAtt": ...}."""
    import yaml

    class CfnLoader(yaml.SafeLoader):
        pass

    def intrinsic(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return {suffix: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {suffix: loader.construct_sequence(node, deep=True)}
        return {suffix: loader.construct_mapping(node, deep=True)}

    CfnLoader.add_multi_constructor("!", intrinsic)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=CfnLoader)
