#!/usr/bin/env python3
"""Run the AWS SAM transform fully offline (no credentials, no network).

Usage: python transform.py [template.yaml] [--region us-east-1] [--out transformed.json]
                           [--param Key=Value ...]

What it does (mirrors `sam validate`, samcli/lib/translate/sam_template_validator.py):
  * parses the template with samtranslator's YAML loader (understands !Ref/!Sub/!GetAtt ...);
  * local CodeUri / ContentUri / DefinitionUri are replaced by a fake s3:// URI, as `sam validate` does
    (the translator accepts only S3 locations). For AWS::Serverless::StateMachine a local DefinitionUri
    is instead INLINED as `Definition` (parsed JSON/YAML), so a missing or malformed .asl.json fails
    here and DefinitionSubstitutions are exercised for real;
  * AWS managed policy names (AWSLambdaBasicExecutionRole, ...) are resolved from the map bundled
    with aws-sam-translator (samtranslator/internal/data/aws_managed_policies.json); a name that is
    NOT in it would make the stock translator call iam:ListPolicies - here it is an error instead
    (use a full ARN, e.g. !Sub arn:${AWS::Partition}:iam::aws:policy/NAME, which skips the lookup);
  * the region is given explicitly through a boto3 Session (no ~/.aws needed; Session creation is
    offline, no credentials are read).
Exit status: 0 ok, 1 invalid template.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys

import boto3
import yaml
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

FAKE_S3_URI = "s3://offline-validation-bucket/placeholder.zip"


class OfflineManagedPolicyError(RuntimeError):
    pass


def offline_managed_policy_map() -> dict[str, str]:
    # Only called by samtranslator for a policy *name* that is neither in the caller map nor in the
    # bundled map nor an ARN (role_utils/role_constructor.py::_get_managed_policy_arn).
    raise OfflineManagedPolicyError(
        "a Policies entry names a managed policy that is not in aws-sam-translator's bundled AWS "
        "managed-policy map; resolving it would need iam:ListPolicies. Use its full ARN instead."
    )


def _is_local(uri) -> bool:
    return isinstance(uri, str) and not uri.startswith("s3://")


def localize(template: dict, base_dir: str) -> list[str]:
    """Rewrite local artifact paths in place; return a list of problems (missing paths etc.)."""
    problems: list[str] = []
    resources = template.get("Resources", {}) or {}
    glob_fn = (template.get("Globals", {}) or {}).get("Function", {}) or {}
    if _is_local(glob_fn.get("CodeUri")):
        glob_fn["CodeUri"] = FAKE_S3_URI
    for logical_id, res in resources.items():
        if not isinstance(res, dict):
            continue
        rtype, props = res.get("Type"), res.setdefault("Properties", {}) or {}
        if rtype == "AWS::Serverless::Function" and props.get("PackageType", "Zip") == "Zip":
            key = "CodeUri"
        elif rtype == "AWS::Serverless::LayerVersion":
            key = "ContentUri"
        elif rtype in ("AWS::Serverless::Api", "AWS::Serverless::HttpApi", "AWS::Serverless::StateMachine"):
            key = "DefinitionUri"
        else:
            continue
        uri = props.get(key)
        if not _is_local(uri):
            continue
        path = os.path.join(base_dir, uri)
        if not os.path.exists(path):
            problems.append(f"{logical_id}: {key} {uri!r} does not exist")
        if rtype == "AWS::Serverless::StateMachine" and os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                try:
                    props["Definition"] = yaml.safe_load(fh)  # JSON is YAML
                except yaml.YAMLError as exc:
                    problems.append(f"{logical_id}: {uri} is not valid JSON/YAML: {exc}")
                    props["Definition"] = {}
            del props[key]
        else:
            props[key] = FAKE_S3_URI
    return problems


def transform(template_path: str, region: str, params: dict[str, str]) -> dict:
    with open(template_path, encoding="utf-8") as fh:
        sam_template = yaml_parse(fh.read())
    problems = localize(sam_template, os.path.dirname(os.path.abspath(template_path)))
    if problems:
        raise SystemExit("invalid template:\n  " + "\n  ".join(problems))
    translator = Translator(
        managed_policy_map=None,  # None -> bundled map is used
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name=region),  # gives AWS::Region/Partition offline
    )
    return translator.translate(
        sam_template=sam_template,
        parameter_values=dict(params),
        get_managed_policy_map=offline_managed_policy_map,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("template", nargs="?", default="template.yaml")
    ap.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    ap.add_argument("--out", help="write the transformed CloudFormation template (JSON) here")
    ap.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args(argv)
    params = dict(p.split("=", 1) for p in args.param)
    try:
        cfn = transform(args.template, args.region, params)
    except InvalidDocumentException as exc:
        print(f"SAM transform failed: {exc.message}", file=sys.stderr)
        for cause in exc.causes:
            print(f"  - {getattr(cause, 'message', cause)}", file=sys.stderr)
        return 1
    except OfflineManagedPolicyError as exc:
        print(f"SAM transform failed: {exc}", file=sys.stderr)
        return 1
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(cfn, fh, indent=1, sort_keys=True)
    resources = cfn.get("Resources", {})
    counts = collections.Counter(r["Type"] for r in resources.values())
    for rtype in sorted(counts):
        print(f"{counts[rtype]:3d}  {rtype}")
    print(f"{len(resources)} resources after transform ({args.template}, region {args.region})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
