"""The embedded default: moto's Step Functions interpreter, in-process Lambdas, a virtual clock."""
