"""Journey -> ASL compiler."""

from .asl import Compiled, StateInfo, compile_journey

__all__ = ["Compiled", "StateInfo", "compile_journey"]
