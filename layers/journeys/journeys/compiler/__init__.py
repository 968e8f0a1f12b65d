"""Journey -> ASL compiler."""

from journeys.compiler.asl import Compiled, StateInfo, compile_journey

__all__ = ["Compiled", "StateInfo", "compile_journey"]
