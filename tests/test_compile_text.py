"""User text in the compiled definition: SAM's DefinitionSubstitutions must never touch it."""

from __future__ import annotations

import json
import re

from journeys.compiler import compile_journey
from journeys.compiler.asl import PLACEHOLDERS
from journeys.language.loader import load_journey

PRICE = """\
journey: price
entry: {trigger: webhook}
steps:
  - id: mail
    type: send_email
    settings: {subject: "Your total: ${{ contact.total }}", text: "Pay ${{ contact.total }} or \\\\${ literally"}
  - {id: tag, type: add_tag, settings: {tags: [billed]}}
"""
SUBSTITUTION = re.compile(r"\$\{([^}]*)\}?")  # what DefinitionSubstitutions would look at


def test_given_dollar_braces_in_user_text_then_the_definition_text_holds_only_our_placeholders(write_journey):
    journey, _ = load_journey(write_journey(PRICE))

    text = compile_journey(journey).to_json()

    assert set(SUBSTITUTION.findall(text)) == {"MessagingFunctionArn", "UpdatesFunctionArn"} <= set(PLACEHOLDERS)
    settings = json.loads(text)["States"]["mail"]["Parameters"]["step"]["settings"]
    assert settings == {"subject": "Your total: ${{ contact.total }}", "text": "Pay ${{ contact.total }} or \\${ literally"}


def test_given_dollar_braces_in_a_subject_when_run_then_the_email_says_the_price(write_journey, run):
    path = write_journey(PRICE)

    trace = run(path, {"id": "c-1", "email": "c1@example.com", "total": 42})

    assert [m["subject"] for m in trace["messages"]] == ["Your total: $42"]
