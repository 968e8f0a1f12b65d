"""What every Task state does on AWS (and in local runs): the step groups, the stores, idempotency, metrics."""
