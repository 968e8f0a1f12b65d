"""Powertools Logger, Tracer and Metrics for every function, with contact PII kept out of logs.

Log records pass through `PiiMaskingFormatter`: values of PII keys are masked wherever they sit in
the record (extra keys, appended keys, nested dicts). Keys are compared without case, `_` and `-`,
so `first_name`, `firstName` and `First-Name` are one key: names (`name`, `first_name`, `surname`,
...), email addresses, phone numbers (`phone`, `mobile_phone`, `phoneNumber`, ...) and addresses
(`address`, `street`, `billing_address`, ...). Inside any string, email addresses and phone-number-
like text are masked too. Masking keeps the first character and the domain of an email
(`a***@example.com`) so a person can still tell records apart.

Metrics: `count` writes one EMF record per call. Their `service` dimension is the deployment's
service name (POWERTOOLS_SERVICE_NAME: the stack name on AWS), so dashboards and alarms of one stack
never count another stack's steps.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import suppress
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "journeys"  # the default service name (local runs, tests)
NAMESPACE = "Journeys"
GOAL_EXITS = "GoalExits"  # lambda_app counts goal exits; template.yaml's error alarms subtract them
SENDS_DEFERRED = "SendsDeferred"  # quiet hours, send rate: an error for Lambda, a wait for the journey (subtracted too)
# Keys compare normalised (lower case, without `_`, `-`, `.` and spaces): first_name == firstName.
PII_KEYS = frozenset({
    "email", "emailaddress", "replyto", "contactemail",
    "name", "firstname", "lastname", "fullname", "middlename", "givenname", "familyname", "surname",
    "displayname", "nickname", "maidenname",
    "phone", "phonenumber", "mobile", "mobilephone", "mobilenumber", "cellphone", "telephone", "tel", "fax",
    "address", "street", "streetaddress", "addressline1", "addressline2", "postaladdress", "postcode", "zipcode",
})
# ... and any key ending in one of these: work_phone, billing_address, contact_email, ...
PII_KEY_SUFFIXES = ("email", "phone", "phonenumber", "address", "firstname", "lastname", "fullname")
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# Phone-number-like text: `+` and 7-15 digits, or groups of digits joined by one space, dot or dash
# (optionally after a +country code or an (area code)). A bare run of digits is not masked (epoch
# seconds, account ids and order numbers look the same), nor is anything glued to letters, `/`, `:`
# or `@` (ARNs, URLs, times, UUIDs); _mask_phone then wants 7-15 digits and no date.
PHONE = re.compile(r"(?<![\w@/:.+-])(?:\+\d{7,15}|(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{1,5}(?:[ .-]\d{2,6}){1,5})"
                   r"(?![\w@/:-]|\.\d)")
DATE = re.compile(r"\d{4}([-.])\d{2}\1\d{2}|\d{2}([-.])\d{2}\2\d{4}")  # 2026-01-05, 05.01.2026: not phones
PHONE_DIGITS = range(7, 16)  # E.164: at most 15 digits; fewer than 7 is a number, not a phone
MASK = "***"


def _mask_phone(match: re.Match) -> str:
    text = match.group(0)
    digits = sum(c.isdigit() for c in text)
    if digits not in PHONE_DIGITS or DATE.fullmatch(text):
        return text
    return MASK


def mask_text(text: str) -> str:
    """Email addresses and phone-number-like text inside a string, masked."""
    masked = EMAIL.sub(lambda m: f"{m.group(1)}{MASK}@{m.group(2)}", text)
    return PHONE.sub(_mask_phone, masked)


def is_pii_key(key: str) -> bool:
    normal = re.sub(r"[\s_.-]", "", key).lower()
    return normal in PII_KEYS or normal.endswith(PII_KEY_SUFFIXES)


def mask(value: Any, key: str | None = None) -> Any:
    """A copy of `value` with PII masked (values of PII keys; emails and phones anywhere in strings)."""
    if key is not None and is_pii_key(key) and value not in (None, "", [], {}):
        if isinstance(value, str) and EMAIL.fullmatch(value):
            return mask_text(value)
        if isinstance(value, list):
            return [mask(item, key) for item in value]
        return MASK
    if isinstance(value, dict):
        return {k: mask(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask(item) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return mask_text(str(value))  # exceptions, dates, ...: written as their str(), so masked as one


class PiiMaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with `mask` applied to every record before it is written."""

    # Keys Powertools itself writes: never masked (function_name, service, ... are not PII).
    KEEP = frozenset({"level", "location", "timestamp", "service", "cold_start", "function_name",
                      "function_memory_size", "function_arn", "function_request_id", "xray_trace_id",
                      "sampling_rate", "exception_name"})

    def serialize(self, log: dict) -> str:  # type: ignore[override]
        masked = {k: (v if k in self.KEEP else mask(v, k)) for k, v in log.items()}
        return super().serialize(masked)


def service() -> str:
    """The deployment's service name: POWERTOOLS_SERVICE_NAME (the stack name on AWS)."""
    return os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE


def logger() -> Logger:
    return Logger(service=service(), logger_formatter=PiiMaskingFormatter())


def tracer() -> Tracer:
    return Tracer(service=service())


def metrics() -> Metrics:
    return Metrics(namespace=NAMESPACE, service=service())


def count(name: str, dimensions: dict[str, str | None]) -> None:
    """One EMF metric with its own dimensions (e.g. StepDone by Journey x StepType x Step), plus
    `service`.

    single_metric prints the record at once, so a metric never inherits another one's dimensions
    and is written even when the handler raises right after (stdout is flushed for that case).
    """
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true"):
        return  # local runs: stdout is the CLI's (single_metric does not read this switch)
    clean = {k: str(v) for k, v in dimensions.items() if v not in (None, "")}
    with suppress(Exception):  # metrics must never fail a step or a webhook
        with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE,
                           default_dimensions={"service": service(), **clean}):
            pass  # dimensions are all given up front; leaving the block writes the EMF record
        sys.stdout.flush()


__all__ = ["PiiMaskingFormatter", "count", "is_pii_key", "logger", "mask", "mask_text", "metrics", "service", "tracer"]
