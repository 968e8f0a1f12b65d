"""`journeys cost`: unit prices with their sources, the arithmetic (count x price x contacts, total
= sum of parts), the naive design from traced paths, and the command's JSON and table."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from click.testing import CliRunner

from conftest import REPO, SHARED

LEAD = SHARED / "lead-nurturing.journey.yaml"


# ---------------------------------------------------------------------------- prices


def test_given_the_prices_then_each_has_an_aws_source_and_the_date_it_was_taken():
    from journeys.cost import prices

    found = prices.all_prices()
    assert len(found) >= 9
    for name, price in found.items():
        assert price.usd > 0, name
        assert re.fullmatch(r"https://aws\.amazon\.com/[a-z0-9-]+/pricing/([a-z-]+/)?", price.source), (name, price.source)
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", price.taken), name


def test_given_the_prices_then_they_are_the_us_east_1_list_prices():
    from journeys.cost import prices as P

    per_million = {name: round(price.usd * 1_000_000, 4) for name, price in P.all_prices().items()}
    assert per_million["STANDARD_TRANSITION"] == 25.0  # $0.025 per 1,000
    assert per_million["EXPRESS_REQUEST"] == 1.0
    assert per_million["LAMBDA_REQUEST"] == 0.2
    assert per_million["LAMBDA_GB_SECOND[x86_64]"] == 16.6667
    assert per_million["LAMBDA_GB_SECOND[arm64]"] == 13.3334
    assert per_million["DYNAMODB_READ_UNIT"] == 0.125  # after the November 2024 cut
    assert per_million["DYNAMODB_WRITE_UNIT"] == 0.625
    assert per_million["SES_EMAIL"] == 100.0  # $0.10 per 1,000


def test_given_the_template_then_each_function_has_its_memory_and_architecture():
    from journeys.cost.estimate import Function, functions

    found = functions(REPO / "template.yaml")
    assert {"entry", "messaging", "updates", "actions", "control"} <= set(found)
    assert found["messaging"] == Function(512, "arm64")  # Globals: MemorySize 512, Architectures [arm64]


# ---------------------------------------------------------------------------- arithmetic


def _measured(**overrides):
    from journeys.cost.estimate import Measured
    from journeys.local.metering import Counts

    counts = Counts(executions=2, transitions=18, lambda_requests=Counter(messaging=6, updates=4),
                    lambda_ms=Counter(messaging=1000, updates=1000), dynamodb_read_units=20, dynamodb_write_units=26,
                    emails=3, execution_ms=[432_000_000, 432_000_000])
    own = Counts(executions=2, transitions=18, lambda_requests=Counter(messaging=6, updates=4))
    steps = [{"type": t} for t in ("add_tag", "send_email", "wait", "send_email", "wait", "gate", "join", "send_email", "exit")]
    values = dict(journey="j", contacts=2, counts=counts, own=own, traces=[{"steps": steps, "transitions": 9}] * 2)
    values.update(overrides)
    return Measured(**values)


def test_given_counts_then_each_dollar_is_per_contact_count_times_price_times_contacts():
    from journeys.cost.estimate import Function, estimate

    result = estimate(_measured(), 1_000_000, {"messaging": Function(512, "arm64"), "updates": Function(1024, "x86_64")})
    document = result.to_json()

    assert document["per_contact"] == {"transitions": 9.0, "lambda_requests": 5.0, "lambda_gb_s": 0.75,
                                       "dynamodb_read_units": 10.0, "dynamodb_write_units": 13.0, "emails": 1.5}
    # 9 x $25/M x 1M; 5 x $0.20 + 0.25 GB-s x $13.3334 + 0.5 GB-s x $16.6667 = 12.6667;
    # 10 x $0.125 + 13 x $0.625 = 9.375; 1.5 x $100; the total adds the rounded parts
    assert document["usd"] == {"step_functions": 225.0, "lambda": 12.67, "dynamodb": 9.38, "ses": 150.0, "total": 397.05}
    assert document["usd"]["total"] == round(sum(v for k, v in document["usd"].items() if k != "total"), 2)
    assert set(document) == {"journey", "contacts", "per_contact", "usd", "naive_usd"}


def test_given_a_traced_path_then_the_naive_design_has_a_task_per_step_and_keeps_waits_and_exits():
    from journeys.cost.estimate import Function, estimate, naive_shape

    steps = _measured().traces[0]["steps"]
    assert naive_shape({"steps": steps}) == (8, 5)  # 9 steps but the join; Lambdas: tag, 3 emails, gate

    result = estimate(_measured(), 1_000_000, {"messaging": Function(512, "arm64"), "updates": Function(512, "arm64")})
    naive = result.usd(naive=True)
    assert result.naive_per_contact["transitions"] == 8 and result.naive_per_contact["lambda_requests"] == 5
    assert naive["step_functions"] == 200.0
    assert naive["dynamodb"] == result.usd()["dynamodb"] and naive["ses"] == result.usd()["ses"]
    assert naive["total"] == round(sum(v for k, v in naive.items() if k != "total"), 2)


def test_given_retries_outside_the_traced_path_then_the_naive_design_pays_them_too():
    from journeys.cost.estimate import naive_per_contact

    measured = _measured()
    measured.counts.transitions += 2  # two retried Tasks: in the history, not in the trace's states
    assert naive_per_contact(measured)["transitions"] == 8 + 1


def test_given_an_express_workflow_then_requests_and_duration_are_priced_not_transitions():
    from journeys.cost.estimate import Function, estimate

    measured = _measured(workflow="EXPRESS")
    measured.counts.execution_ms = [1_250, 40]  # + 1 s of Lambda each: 2.25 s -> 2.3 s, 1.04 s -> 1.1 s
    result = estimate(measured, 1_000_000, {"messaging": Function(512, "arm64"), "updates": Function(512, "arm64")})
    items = {item.what: item.per_contact for item in result.items if item.group == "step_functions"}

    assert items["Express requests"] == 1.0
    assert items["Express duration (64 MB)"] == pytest.approx((2.3 + 1.1) * (64 / 1024) / 2)
    assert result.usd()["step_functions"] == round(1.0 + items["Express duration (64 MB)"] * 16.67, 2)


# ---------------------------------------------------------------------------- the command


@pytest.fixture(scope="module")
def lead_json():
    from journeys.cli.main import main

    result = CliRunner().invoke(main, ["cost", str(LEAD), "--contacts", "1000000", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_given_lead_nurturing_when_cost_json_then_it_has_the_contracts_shape(lead_json):
    assert {"journey", "contacts", "per_contact", "usd", "naive_usd"} <= set(lead_json)
    assert lead_json["journey"] == "lead-nurturing" and lead_json["contacts"] == 1_000_000
    assert set(lead_json["per_contact"]) == {"transitions", "lambda_requests", "lambda_gb_s", "dynamodb_read_units",
                                             "dynamodb_write_units", "emails"}
    assert set(lead_json["usd"]) == {"step_functions", "lambda", "dynamodb", "ses", "total"}
    assert "total" in lead_json["naive_usd"]


def test_given_lead_nurturing_when_cost_json_then_the_figures_are_the_shared_contacts_paths(lead_json):
    per = lead_json["per_contact"]
    # Ada and Bob each take 9 transitions and 5 Lambdas; Ada gets 3 emails, Bob (unsubscribed) none
    assert (per["transitions"], per["lambda_requests"], per["emails"]) == (9.0, 5.0, 1.5)
    assert lead_json["usd"]["step_functions"] == 225.0 and lead_json["usd"]["ses"] == 150.0
    assert lead_json["usd"]["total"] == round(sum(v for k, v in lead_json["usd"].items() if k != "total"), 2)
    # today's design adds one "After wait-3d" Task before the gate: the naive path has one state fewer
    assert lead_json["naive_usd"]["step_functions"] == 200.0
    assert lead_json["naive_usd"]["total"] < lead_json["usd"]["total"]


def test_given_cost_without_json_then_the_table_explains_each_line_and_the_total():
    from journeys.cli.main import main

    result = CliRunner().invoke(main, ["cost", str(LEAD)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "lead-nurturing: 1,000,000 contacts in us-east-1, from 2 example contacts rehearsed" in out
    # each line: per contact x unit price x contacts = USD
    assert re.search(r"state transitions \(Standard\)\s+│\s+9\.0000 │\s+\$25\.00 / 1M state transitions │\s+1,000,000 │\s+225\.00 │", out)
    assert re.search(r"DynamoDB read request units\s+│\s+10\.0000 │\s+\$0\.125 / 1M read request units │\s+1,000,000 │\s+1\.25 │", out)
    assert re.search(r"SES emails\s+│\s+1\.5000 │\s+\$100\.00 / 1M emails │\s+1,000,000 │\s+150\.00 │", out)
    # the total is the sum of the parts the caption names, for ours and for the naive design
    parts = re.findall(r"step_functions ([\d.,]+) \+ lambda ([\d.,]+) \+ dynamodb ([\d.,]+) \+ ses ([\d.,]+)", out)
    totals = re.findall(r"total\s+│(?:\s+│){3}\s+([\d.,]+) │", out)
    assert len(parts) == len(totals) == 3  # steps mode, cost mode, the naive design
    for named, total in zip(parts, totals):
        assert round(sum(float(v.replace(",", "")) for v in named), 2) == float(total.replace(",", ""))
    assert "naive design: one Lambda Task state per step" in out and "9.00 transitions per contact" in out


def test_given_a_bad_journey_file_or_count_then_cost_says_so_without_a_traceback(write_journey):
    from journeys.cli.main import main

    bad = write_journey("journey: x\nentry: {trigger: webhook}\nsteps: [{id: a, type: nope}]\n")
    result = CliRunner().invoke(main, ["cost", str(bad)])
    assert result.exit_code == 1 and "Traceback" not in result.output and str(bad.name) in result.stderr
    result = CliRunner().invoke(main, ["cost", str(LEAD), "--contacts", "0"])
    assert result.exit_code == 2 and "--contacts" in result.output
    result = CliRunner().invoke(main, ["cost", str(LEAD), "--actions", str(bad.parent / "none.yaml")])
    assert result.exit_code == 1 and "none.yaml: cannot read" in result.stderr and "Traceback" not in result.output


def test_given_optimize_modes_then_cost_json_holds_each_mode_beside_the_journeys_own(monkeypatch):
    """Both modes are rehearsed when the model has `optimize` (the cost-mode compiler); before it
    exists the same code path runs with the mode set on a copy of the journey, compiled alike."""
    from journeys.cli.main import main
    from journeys.cost import measure

    if not measure.has_modes():
        monkeypatch.setattr(measure, "has_modes", lambda: True)
    result = CliRunner().invoke(main, ["cost", str(LEAD), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)

    assert set(document["modes"]) == {"steps", "cost"}
    for mode in document["modes"].values():
        assert set(mode) == {"per_contact", "usd", "naive_usd", "workflow"}
        assert mode["usd"]["total"] == round(sum(v for k, v in mode["usd"].items() if k != "total"), 2)
    assert document["per_contact"]["transitions"] == document["modes"]["steps"]["per_contact"]["transitions"]
    assert document["modes"]["cost"]["naive_usd"] == document["modes"]["steps"]["naive_usd"]  # one naive design
    assert document["modes"]["cost"]["per_contact"]["transitions"] <= document["modes"]["steps"]["per_contact"]["transitions"]


def test_given_a_segment_of_the_shared_contacts_then_it_costs_what_the_default_contacts_cost(tmp_path, lead_json):
    """With the rehearsal engine (journeys test), a segment's contacts are priced the same way."""
    from journeys.cli.main import main
    segment = tmp_path / "team.jsonl"
    segment.write_text("".join(json.dumps({"contact": json.loads((SHARED / "contacts" / f"{who}.json").read_text()),
                                           "at": at}) + "\n" for who, at in (("ada", "+0h"), ("bob", "+1h"))))
    result = CliRunner().invoke(main, ["cost", str(LEAD), "--segment", str(segment), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    for key in ("transitions", "lambda_requests", "emails", "dynamodb_read_units", "dynamodb_write_units"):
        assert document["per_contact"][key] == lead_json["per_contact"][key], key
    assert document["naive_usd"]["step_functions"] == lead_json["naive_usd"]["step_functions"]
