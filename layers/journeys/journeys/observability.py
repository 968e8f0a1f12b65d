"""Powertools Logger, Tracer and Metrics for every function, with contact PII kept out of logs.

Log records pass through `PiiMaskingFormatter`: values of PII keys (email, first_name, last_name,
phone, ...) are masked wherever they sit in the record (extra keys, appended keys, nested dicts),
and email addresses inside free-text messages are masked too. Masking keeps the first character
and the domain of an email (`a***@example.com`) so a person can still tell records apart.
"""

from __future__ import annotations

import os
import re
from contextlib import suppress
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = "journeys"
NAMESPACE = "Journeys"
PII_KEYS = frozenset({"email", "first_name", "last_name", "full_name", "phone", "phone_number", "mobile", "address",
                      "reply_to", "contact_email"})
EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
MASK = "***"


def mask_text(text: str) -> str:
    return EMAIL.sub(lambda m: f"{m.group(1)}{MASK}@{m.group(2)}", text)


def mask(value: Any, key: str | None = None) -> Any:
    """A copy of `value` with PII masked (keys in PII_KEYS, emails anywhere in strings)."""
    if key is not None and key.lower() in PII_KEYS and value not in (None, "", [], {}):
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
    return value


class PiiMaskingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, with `mask` applied to every record before it is written."""

    # Keys Powertools itself writes: never masked (function_name, service, ... are not PII).
    KEEP = frozenset({"level", "location", "timestamp", "service", "cold_start", "function_name",
                      "function_memory_size", "function_arn", "function_request_id", "xray_trace_id",
                      "sampling_rate", "exception_name"})

    def serialize(self, log: dict) -> str:  # type: ignore[override]
        masked = {k: (v if k in self.KEEP else mask(v, k)) for k, v in log.items()}
        return super().serialize(masked)


def logger() -> Logger:
    return Logger(service=SERVICE, logger_formatter=PiiMaskingFormatter())


def tracer() -> Tracer:
    return Tracer(service=SERVICE)


def metrics() -> Metrics:
    return Metrics(namespace=NAMESPACE, service=SERVICE)


def count(name: str, dimensions: dict[str, str | None]) -> None:
    """One EMF metric with its own dimensions (e.g. StepDone by Journey x StepType x Step).

    single_metric flushes at once, so a metric never inherits another one's dimensions.
    """
    if os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true"):
        return  # local runs: stdout is the CLI's (single_metric does not read this switch)
    clean = {k: str(v) for k, v in dimensions.items() if v not in (None, "")}
    with suppress(Exception):  # metrics must never fail a step or a webhook
        with single_metric(name=name, unit=MetricUnit.Count, value=1, namespace=NAMESPACE,
                           default_dimensions={"service": SERVICE, **clean}):
            pass  # dimensions are all given up front; leaving the block writes the EMF record


__all__ = ["PiiMaskingFormatter", "count", "logger", "mask", "mask_text", "metrics", "tracer"]
