"""The layer's requirements (what SAM installs on AWS) and the project's dependencies (what the
tests run with) name the same packages, and the layer's boto3 pin is one the project accepts."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]


def layer_requirements() -> dict[str, Requirement]:
    lines = (REPO / "layers/journeys/requirements.txt").read_text().splitlines()
    requirements = [Requirement(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return {r.name.lower(): r for r in requirements}


def project_requirements() -> dict[str, Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {Requirement(text).name.lower(): Requirement(text) for text in project["dependencies"]}


def test_given_both_lists_then_they_name_the_same_packages():
    assert set(layer_requirements()) == set(project_requirements())


def test_given_the_layer_then_boto3_is_pinned_to_a_version_the_project_accepts():
    boto3 = layer_requirements()["boto3"]

    pinned = [spec.version for spec in boto3.specifier if spec.operator == "=="]

    assert len(pinned) == 1, "boto3 must be pinned: the layer's botocore would otherwise not match the runtime's boto3"
    assert project_requirements()["boto3"].specifier.contains(pinned[0])

