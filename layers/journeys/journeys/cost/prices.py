"""Every AWS unit price `journeys cost` uses, in one place: us-east-1, on-demand, free tiers left out
(at a million contacts they are noise). Each says where it comes from and when it was taken; when
AWS changes a price, change it here and the date with it.
"""

from __future__ import annotations

from dataclasses import dataclass

TAKEN = "2026-12-02"


@dataclass(frozen=True)
class Price:
    usd: float  # per one `unit`
    unit: str
    source: str
    taken: str = TAKEN
    note: str = ""


STEP_FUNCTIONS_PRICING = "https://aws.amazon.com/step-functions/pricing/"
LAMBDA_PRICING = "https://aws.amazon.com/lambda/pricing/"
DYNAMODB_PRICING = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
SES_PRICING = "https://aws.amazon.com/ses/pricing/"

STANDARD_TRANSITION = Price(0.025 / 1000, "state transition", STEP_FUNCTIONS_PRICING,
                            note="Standard workflows: $0.025 per 1,000 state transitions, retries included")
EXPRESS_REQUEST = Price(1.00 / 1_000_000, "request", STEP_FUNCTIONS_PRICING,
                        note="Express workflows: $1.00 per million requests (executions started)")
EXPRESS_GB_SECOND = Price(0.00001667, "GB-second", STEP_FUNCTIONS_PRICING,
                          note="Express duration, first 1,000 GB-hours ($0.06 per GB-hour); "
                               "rounded up to 100 ms, memory billed in 64 MB chunks")
LAMBDA_REQUEST = Price(0.20 / 1_000_000, "request", LAMBDA_PRICING, note="$0.20 per million requests")
LAMBDA_GB_SECOND = {
    "x86_64": Price(0.0000166667, "GB-second", LAMBDA_PRICING, note="x86, first 6 billion GB-seconds a month"),
    "arm64": Price(0.0000133334, "GB-second", LAMBDA_PRICING, note="Arm (Graviton), first 7.5 billion GB-seconds a month"),
}
DYNAMODB_READ_UNIT = Price(0.125 / 1_000_000, "read request unit", DYNAMODB_PRICING,
                           note="on-demand, Standard table class; halved on 2024-11-01 (was $0.25)")
DYNAMODB_WRITE_UNIT = Price(0.625 / 1_000_000, "write request unit", DYNAMODB_PRICING,
                            note="on-demand, Standard table class; halved on 2024-11-01 (was $1.25)")
SES_EMAIL = Price(0.10 / 1000, "email", SES_PRICING, note="$0.10 per 1,000 emails (each recipient is one)")

EXPRESS_MEMORY_CHUNK_GB = 64 / 1024  # Express memory is billed in 64 MB chunks: we assume one
EXPRESS_DURATION_STEP_MS = 100


def all_prices() -> dict[str, Price]:
    """Every price above by name (the table of `journeys cost` and the tests read this)."""
    prices = {name: value for name, value in globals().items() if isinstance(value, Price)}
    prices.update({f"LAMBDA_GB_SECOND[{arch}]": price for arch, price in LAMBDA_GB_SECOND.items()})
    return prices
