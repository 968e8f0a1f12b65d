"""Customer journeys compiled to AWS Step Functions: the core package (a Lambda layer on AWS)."""

__version__ = "0.1.0"
