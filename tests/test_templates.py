"""The one Liquid renderer: typed lone outputs, empty undefined, compile-time parsing."""

from __future__ import annotations

import pytest

from journeys.language import templates

SCOPE = {
    "contact": {"email": "ada@analytical.example", "first_name": "Ada"},
    "event": {}, "journey": {"company": {"body": {"employees": 120, "tags": ["a"], "hq": {"city": "London"}}}},
    "now": "2026-01-05T08:00:00Z",
}


@pytest.mark.parametrize("source, expected", [
    ("{{ journey.company.body.employees }}", 120),
    ("{{ journey.company.body.tags }}", ["a"]),
    ("{{ journey.company.body.hq }}", {"city": "London"}),
    ("{{ journey.company.body.employees }} people", "120 people"),
    ("{{ journey.missing.body.name }}", ""),
    ("Hi {{ contact.nickname | default: 'friend' }}", "Hi friend"),
    ("/companies/{{ contact.email | split: '@' | last }}", "/companies/analytical.example"),
    ("{{ now }}", "2026-01-05T08:00:00Z"),
    ("plain text", "plain text"),
])
def test_given_a_template_then_it_renders_with_the_contract_typing(source, expected):
    assert templates.render(source, SCOPE) == expected


def test_given_settings_then_templates_render_but_ids_and_conditions_do_not():
    settings = {"set": {"size": "{{ journey.company.body.employees }}"}, "journey": "{{ not-a-template }}"}
    assert templates.render_settings(settings, SCOPE) == {"set": {"size": 120}, "journey": "{{ not-a-template }}"}


def test_given_a_syntax_error_then_check_names_the_key():
    problems = templates.check({"subject": "ok", "text": "Hello {{ contact.first_name | }"})
    assert [key for key, _ in problems] == ["text"]
    assert "invalid template" in problems[0][1]


@pytest.mark.parametrize("source, expected", [
    ("{{ journey.missing.body.name }}", templates.UNDEFINED),  # a lookup that gave nothing
    ("{{ journey.company.body.nothing }}", templates.UNDEFINED),
    (" {{ contact.nickname }} ", templates.UNDEFINED),  # blank text around a lone output changes nothing
    ("Hi {{ journey.missing.body.name }}", "Hi "),  # a mixed template renders undefined as empty
    ("{{ journey.missing.body.name | default: 'n/a' }}", "n/a"),  # a fallback is a value
    ("{{ journey.company.body.employees }}", 120),
])
def test_given_an_undefined_lone_output_when_a_marker_is_asked_for_then_only_it_yields_the_marker(source, expected):
    assert templates.render(source, SCOPE, when_undefined=templates.UNDEFINED) == expected


def test_given_an_explicit_null_when_a_marker_is_asked_for_then_it_renders_empty():
    scope = {**SCOPE, "journey": {"company": {"body": {"name": None}}}}

    assert templates.render("{{ journey.company.body.name }}", scope, when_undefined=templates.UNDEFINED) == ""


def test_given_an_unknown_filter_then_check_names_the_key_and_known_filters_pass():
    # Given settings with known filters and one Liquid does not have
    settings = {"subject": "Hi {{ contact.first_name | default: 'there' | upcase }}", "text": "{{ contact.email | nosuchfilter }}"}

    # When checked at compile time, Then only the unknown filter is a problem, named with its key
    assert templates.check(settings) == [("text", "invalid template '{{ contact.email | nosuchfilter }}': unknown filter 'nosuchfilter'")]
