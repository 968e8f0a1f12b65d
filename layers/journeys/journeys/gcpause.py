"""Pause the cyclic garbage collector while building large acyclic structures.

Parsing and compiling a 10,000-step journey allocates ~10^6 short-lived containers; CPython's
generational GC rescans the growing heap again and again, which made compile time superlinear
(bench/bench_compile.py: 18x for 10x the steps). Reference counting still frees everything.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def paused_gc():
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
