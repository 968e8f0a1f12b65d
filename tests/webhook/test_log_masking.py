"""Contact PII never reaches the logs: the Powertools formatter masks it wherever it sits."""

from __future__ import annotations

import io
import json
import logging

from aws_lambda_powertools import Logger

from journeys.observability import PiiMaskingFormatter


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
