#!/usr/bin/env python3
"""Prepare state-machine definitions for asl-validator, offline.

For every AWS::Serverless::StateMachine in the SAM template whose DefinitionUri is a local file:
  * every ${Name} placeholder in the file must be a key of the resource's DefinitionSubstitutions
    (CloudFormation would otherwise leave it verbatim -> broken definition at deploy time);
  * unused DefinitionSubstitutions keys are reported as warnings;
  * a copy with dummy values substituted is written to OUT_DIR (keys ending in "Arn" get a
    syntactically valid Lambda ARN, others "dummy-<Name>"), because asl-validator only tolerates a
    placeholder that is the WHOLE Resource string ("${X}"), not e.g. "${X}:live" or ARNs containing
    "${AccountId}"/"${Partition}", and never in numeric fields.
  * Retry/Catch blocks are checked for what asl-validator 4.0.0 does NOT check (its retrier schema
    has no JitterStrategy/MaxDelaySeconds and allows any extra key): allowed keys only,
    JitterStrategy in FULL|NONE, MaxDelaySeconds/MaxAttempts/IntervalSeconds integers in range,
    and "States.ALL" alone and last.
*.asl.json files under statemachines/ that no state machine references are copied unchanged.
Prints the paths written (one per line) on stdout; exit 1 on an undefined placeholder.
"""
from __future__ import annotations

import glob
import json
import os
import re
import sys

from samtranslator.yaml_helper import yaml_parse  # understands !Ref / !GetAtt / !Sub tags

PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


RETRIER_KEYS = {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
                "JitterStrategy", "Comment"}
CATCHER_KEYS = {"ErrorEquals", "Next", "ResultPath", "Comment", "Output", "Assign"}
INT_RANGES = {"IntervalSeconds": (1, 99999999), "MaxAttempts": (0, 99999999), "MaxDelaySeconds": (1, 31622400)}


def _iter_states(states: dict, prefix: str = ""):
    for name, st in (states or {}).items():
        if not isinstance(st, dict):
            continue
        yield f"{prefix}{name}", st
        for i, branch in enumerate(st.get("Branches") or []):
            yield from _iter_states(branch.get("States"), f"{prefix}{name}/Branches/{i}/")
        for key in ("ItemProcessor", "Iterator"):
            if isinstance(st.get(key), dict):
                yield from _iter_states(st[key].get("States"), f"{prefix}{name}/{key}/")


def check_error_handling(defn: dict) -> list[str]:
    errs = []
    for where, st in _iter_states(defn.get("States")):
        for field, allowed in (("Retry", RETRIER_KEYS), ("Catch", CATCHER_KEYS)):
            blocks = st.get(field) or []
            for i, blk in enumerate(blocks):
                loc = f"{where}/{field}/{i}"
                for key in sorted(set(blk) - allowed):
                    errs.append(f"{loc}: unknown field {key}")
                eq = blk.get("ErrorEquals") or []
                if "States.ALL" in eq and (len(eq) != 1 or i != len(blocks) - 1):
                    errs.append(f"{loc}: States.ALL must be alone and in the last {field} entry")
                if field != "Retry":
                    continue
                if "JitterStrategy" in blk and blk["JitterStrategy"] not in ("FULL", "NONE"):
                    errs.append(f"{loc}: JitterStrategy must be FULL or NONE")
                for key, (lo, hi) in INT_RANGES.items():
                    val = blk.get(key)
                    if val is not None and (type(val) is not int or not lo <= val <= hi):
                        errs.append(f"{loc}: {key} must be an integer in [{lo}, {hi}]")
                rate = blk.get("BackoffRate")
                if rate is not None and (type(rate) not in (int, float) or rate < 1.0):
                    errs.append(f"{loc}: BackoffRate must be a number >= 1.0")
    return errs


def dummy(name: str) -> str:
    if name.endswith("Arn"):
        return f"arn:aws:lambda:us-east-1:123456789012:function:{name}:1"  # a published version, as deployed
    return f"dummy-{name}"


def main(template: str, out_dir: str) -> int:
    base = os.path.dirname(os.path.abspath(template))
    with open(template, encoding="utf-8") as fh:
        tpl = yaml_parse(fh.read())
    os.makedirs(out_dir, exist_ok=True)
    failed, seen = False, set()
    for logical_id, res in (tpl.get("Resources") or {}).items():
        if not isinstance(res, dict) or res.get("Type") != "AWS::Serverless::StateMachine":
            continue
        props = res.get("Properties") or {}
        uri = props.get("DefinitionUri")
        if not isinstance(uri, str) or uri.startswith("s3://"):
            continue
        path = os.path.normpath(os.path.join(base, uri))
        if not os.path.isfile(path):
            print(f"ERROR {logical_id}: DefinitionUri {uri} not found", file=sys.stderr)
            failed = True
            continue
        seen.add(path)
        subs = props.get("DefinitionSubstitutions") or {}
        text = open(path, encoding="utf-8").read()
        used = set(PLACEHOLDER.findall(text))
        for name in sorted(used - set(subs)):
            print(f"ERROR {logical_id} ({uri}): placeholder ${{{name}}} not in DefinitionSubstitutions",
                  file=sys.stderr)
            failed = True
        for name in sorted(set(subs) - used):
            print(f"WARNING {logical_id}: DefinitionSubstitutions key {name} unused in {uri}", file=sys.stderr)
        out = os.path.join(out_dir, f"{logical_id}.{os.path.basename(path)}")
        substituted = PLACEHOLDER.sub(lambda m: dummy(m.group(1)), text)
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(substituted)
        try:
            errs = check_error_handling(json.loads(substituted))
        except ValueError as exc:
            errs = [f"not valid JSON: {exc}"]
        for err in errs:
            print(f"ERROR {uri}: {err}", file=sys.stderr)
        failed = failed or bool(errs)
        print(out)
    for path in sorted(glob.glob(os.path.join(base, "statemachines", "**", "*.asl.json"), recursive=True)):
        if os.path.normpath(path) not in seen:
            print(f"WARNING: {os.path.relpath(path, base)} is not referenced by any state machine", file=sys.stderr)
            print(path)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: asl_prepare.py TEMPLATE OUT_DIR")
    sys.exit(main(sys.argv[1], sys.argv[2]))
