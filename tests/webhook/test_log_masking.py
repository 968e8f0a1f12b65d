"""Contact PII never reaches the logs: the Powertools formatter masks it wherever it sits."""

from __future__ import annotations

import io
import json
import logging
import uuid

from aws_lambda_powertools import Logger

from journeys.runtime.observability import PiiMaskingFormatter


def test_given_a_log_record_with_contact_pii_then_emails_names_and_phones_are_masked_but_ids_stay():
    stream = io.StringIO()
    logger = Logger(service="journeys-test-masking", level="INFO", logger_formatter=PiiMaskingFormatter(),
                    logger_handler=logging.StreamHandler(stream))
    logger.append_keys(contact_id="c-ada")

    logger.info("sent to ada@analytical.example", extra={
        "contact": {"id": "c-ada", "email": "ada@analytical.example", "first_name": "Ada", "last_name": "Lovelace",
                    "phone": "+44 20 7946 0000", "plan": "trial"},
        "recipients": ["grace@navy.example"],
    })

    record = json.loads(stream.getvalue())
    text = stream.getvalue()
    for secret in ("ada@analytical.example", "Lovelace", "Ada\"", "7946", "grace@navy.example"):
        assert secret not in text
    assert record["message"] == "sent to a***@analytical.example"
    assert record["contact"] == {"id": "c-ada", "email": "a***@analytical.example", "first_name": "***",
                                 "last_name": "***", "phone": "***", "plan": "trial"}
    assert record["contact_id"] == "c-ada" and record["service"] == "journeys-test-masking"


def fresh_logger(stream: io.StringIO) -> Logger:
    """A Powertools Logger writing to `stream` (a new service name: Powertools keeps one handler per service)."""
    return Logger(service=f"journeys-test-masking-{uuid.uuid4().hex[:8]}", level="INFO",
                  logger_formatter=PiiMaskingFormatter(), logger_handler=logging.StreamHandler(stream))


def logged(message: str, **extra) -> tuple[dict, str]:
    stream = io.StringIO()
    logger = fresh_logger(stream)
    logger.info(message, extra=extra)
    return json.loads(stream.getvalue()), stream.getvalue()


def test_given_a_contact_with_name_phone_and_address_variants_then_every_one_is_masked():
    contact = {"id": "c-ada", "name": "Ada Lovelace", "firstName": "Ada", "lastName": "Lovelace", "surname": "Lovelace",
               "mobile_phone": "07946 000000", "phoneNumber": "+447946000000", "work-phone": "020 7946 0001",
               "address": "12 St James's Square", "billing_address": {"street": "12 St James's Square", "city": "London"},
               "company_size": 120, "plan": "trial"}

    record, text = logged("contact updated", contact=contact, event_name="trial_started", step_name="Tag as lead")

    for secret in ("Lovelace", "Ada", "7946", "James"):
        assert secret not in text
    masked = record["contact"]
    assert {k: masked[k] for k in ("id", "company_size", "plan")} == {"id": "c-ada", "company_size": 120, "plan": "trial"}
    assert all(masked[k] == "***" for k in ("name", "firstName", "lastName", "surname", "mobile_phone", "phoneNumber",
                                             "work-phone", "address", "billing_address"))
    assert record["event_name"] == "trial_started" and record["step_name"] == "Tag as lead"  # not PII: kept


def test_given_a_free_text_message_with_phones_and_an_email_then_they_are_masked_and_the_rest_kept():
    record, text = logged("call +44 20 7946 0000 or (555) 123-4567 for ada@analytical.example; "
                          "waiting until 2026-01-05T08:00:00Z, 3 attempts, execution "
                          "arn:aws:states:us-east-1:123456789012:execution:lead-nurturing:c-ada-e6b60391a1859c084f9d")

    assert record["message"] == ("call *** or *** for a***@analytical.example; waiting until 2026-01-05T08:00:00Z, "
                                 "3 attempts, execution "
                                 "arn:aws:states:us-east-1:123456789012:execution:lead-nurturing:c-ada-e6b60391a1859c084f9d")
    assert "7946" not in text and "123-4567" not in text


def test_given_an_exception_whose_text_carries_a_phone_then_the_logged_traceback_is_masked():
    stream = io.StringIO()
    logger = fresh_logger(stream)

    try:
        raise ValueError("contact c-ada: phone +1 555 123 4567 rejected")
    except ValueError:
        logger.exception("update failed")

    assert "555 123 4567" not in stream.getvalue() and "contact c-ada: phone ***" in stream.getvalue()
