"""Senders: the local world accepts the senders a journey names (a rehearsal); SES rejecting a sender
fails the step with a message naming the address and how to verify it, and the failure is recorded;
`journeys build` lists the identities the stack's journeys send from."""

from __future__ import annotations

from conftest import MONDAY_8AM, outcomes

MARKETING = """\
journey: newsletter
entry: {trigger: webhook}
steps:
  - id: news
    type: send_email
    settings: {from: "Marketing <news@ourcompany.example>", subject: "News for {{ contact.first_name }}", text: "Hello"}
  - {id: after, type: add_tag, settings: {tags: [went-on]}}
"""


def test_given_a_journey_naming_its_own_sender_when_run_locally_then_the_email_is_sent_from_it(write_journey, run, ada):
    trace = run(write_journey(MARKETING), ada)

    assert trace["status"] == "SUCCEEDED" and outcomes(trace) == {"news": "done", "after": "done"}
    (sent,) = trace["_run"].outbox
    assert sent["headers"]["From"] == "Marketing <news@ourcompany.example>"


def test_given_a_sender_ses_has_not_verified_then_the_step_fails_naming_it_and_how_to_verify_and_is_recorded(ada):
    import pytest

    from journeys.local.runner import LocalStack
    from journeys.runtime.messaging import SenderRejected

    execution = "arn:aws:states:us-east-1:123456789012:execution:newsletter:c-ada-1"
    payload = {"journey": {"id": "newsletter", "timezone": None},
               "step": {"id": "news", "type": "send_email",
                        "settings": {"from": "Marketing <news@unverified.example>", "subject": "Hi", "text": "Hello"}},
               "execution": execution, "state": {"contact": ada, "event": {}, "data": {}, "seq": 0}}
    with LocalStack(MONDAY_8AM) as stack:  # nothing deployed: no journey verified this sender, as on AWS
        stack.contacts.upsert(ada)
        with pytest.raises(SenderRejected) as rejected:
            stack.handlers("messaging", payload)
        recorded = stack.journeys.step_results(execution)

    message = str(rejected.value)
    assert "'news@unverified.example'" in message and "create-email-identity --email-identity unverified.example" in message
    assert [(r["step"], r["outcome"]) for r in recorded] == [("news", "failed")] and "news@unverified.example" in recorded[0]["reason"]


def test_given_journeys_with_senders_then_build_lists_their_identities(tmp_path):
    from journeys.language.loader import load_journey
    from journeys.language.senders import identity_of, sender_addresses

    path = tmp_path / "newsletter.journey.yaml"
    path.write_text(MARKETING + """\
  - {id: team, type: send_notification_email, settings: {from: "ops@OurCompany.example", to: [sales@x.example], subject: s, text: t}}
  - {id: templated, type: send_email, settings: {from: "{{ contact.owner }}", subject: s, text: t}}
""")
    addresses = sender_addresses(load_journey(path)[0])

    assert addresses == ["news@ourcompany.example", "ops@OurCompany.example"]
    assert {identity_of(a) for a in addresses} == {"ourcompany.example"}
