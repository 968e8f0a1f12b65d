"""The journeys command line (click): validate, compile, run, build, graph, actions, ..."""

from journeys.cli.main import main

__all__ = ["main"]
