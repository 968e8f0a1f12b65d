"""Setup split (issue 8, item 19): the README's first command sets up only what running a journey
needs; the test command installs the infrastructure validators itself when they are missing, and CI
still fails (never skips) when they cannot be installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infra_tools import REPO, require


def installer(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "setup-validators"
    script.write_text(f"#!/usr/bin/env bash\necho run >> {tmp_path / 'runs'}\n{body}\n")
    return script


def test_given_a_missing_tool_when_a_test_requires_it_then_setup_validators_runs_once_and_the_tool_is_used(tmp_path):
    tool = tmp_path / "bin" / "validator"
    script = installer(tmp_path, f"mkdir -p {tool.parent} && printf '#!/bin/sh\\n' > {tool} && chmod +x {tool}")

    assert require(tool, installer=script) == tool
    assert require(tool, installer=script) == tool
    assert (tmp_path / "runs").read_text().splitlines() == ["run"]


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_given_a_tool_that_cannot_be_installed_then_the_test_fails_under_ci_and_skips_otherwise(tmp_path, monkeypatch, ci, outcome):
    monkeypatch.setenv("CI", ci)
    script = installer(tmp_path, "echo 'npm not found' >&2; exit 1")

    with pytest.raises(outcome, match="exit 1: npm not found"):
        require(tmp_path / "never-there", installer=script)


def test_given_a_fresh_clone_when_scripts_setup_runs_then_it_sets_up_the_project_venv_only(tmp_path):
    # A copy of the script in a clone whose .venv python and npm only record how they were called.
    clone = tmp_path / "clone"
    (clone / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup", clone / "scripts" / "setup")
    calls = tmp_path / "calls"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name, target in ((clone / ".venv" / "bin" / "python", None), (fake_bin / "npm", None), (fake_bin / "python3", None)):
        name.parent.mkdir(parents=True, exist_ok=True)
        name.write_text(f"#!/bin/sh\necho \"{name.name} $*\" >> {calls}\n")
        name.chmod(0o755)

    done = subprocess.run(["bash", "scripts/setup"], cwd=clone, capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "PYTHON": str(fake_bin / "python3")})

    assert done.returncode == 0, done.stderr
    made = calls.read_text()
    assert "-e .[dev]" in made
    assert "npm" not in made and "requirements-sam" not in made and not (clone / ".venv-sam").exists()
    assert (REPO / "scripts" / "setup-validators").exists()
    assert "scripts/setup-validators" in (REPO / ".ci" / "run").read_text()
