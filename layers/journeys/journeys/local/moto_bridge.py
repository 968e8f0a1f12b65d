"""Every patch of moto's internals lives here (moto is pinned; tests/test_moto_bridge.py fails
loudly when one of these names moves).

1. Lambda "simple" backend `invoke` -> our handlers, in-process (moto would echo the payload).
2. Wait states, Timestamp waits, Retry back-offs and history timestamps -> the virtual clock, so
   a journey with `wait: 3d` runs in milliseconds and its trace shows the virtual times.
"""

from __future__ import annotations

import datetime as dt
import json
import traceback
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import moto
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import timestamp as timestamp_wait
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager

from ..clock import VirtualClock

PINNED_MOTO = "5.2.5"
MOCK_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}

Dispatch = Callable[[str, dict[str, Any]], Any]


def function_name(arn_or_name: str) -> str:
    """`arn:aws:lambda:r:a:function:NAME[:qualifier]` or NAME -> NAME."""
    parts = arn_or_name.split(":")
    return parts[6] if len(parts) >= 7 and parts[5] == "function" else arn_or_name


@contextmanager
def bridged(clock: VirtualClock, dispatch: Dispatch):
    """Install the patches for the duration of a run; everything is restored afterwards."""
    if moto.__version__ != PINNED_MOTO:
        raise RuntimeError(f"journeys' moto bridge is written for moto {PINNED_MOTO}, found {moto.__version__}")

    def invoke(self, function_name_or_arn, qualifier, body, headers, response_headers):
        payload = json.loads(body) if body else {}
        try:
            result = dispatch(function_name(function_name_or_arn), payload)
        except Exception as error:  # reported as a Lambda function error, as AWS would
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({
                "errorType": type(error).__name__, "errorMessage": str(error),
                "stackTrace": traceback.format_exception(error)[-3:],
            }).encode()
        return json.dumps(result).encode()

    def wait_interval(self, env, wait_seconds):
        clock.advance(max(wait_seconds, 0))

    class _VirtualDatetime(dt.datetime):
        @classmethod
        def now(cls, tz=None):  # moto compares a naive UTC timestamp with naive now()
            moment = clock.now()
            return moment.astimezone(tz) if tz else moment.replace(tzinfo=None)

    class _VirtualDatetimeModule:
        datetime = _VirtualDatetime

    class _VirtualTime:
        @staticmethod
        def sleep(seconds):
            clock.advance(seconds)

        @staticmethod
        def time():
            return clock.now().timestamp()

    saved = [
        (LambdaSimpleBackend, "invoke", LambdaSimpleBackend.invoke),
        (WaitFunction, "_wait_interval", WaitFunction._wait_interval),
        (timestamp_wait, "datetime", timestamp_wait.datetime),
        (retrier_decl, "time", retrier_decl.time),
        (EventManager, "_get_current_timestamp", EventManager.__dict__["_get_current_timestamp"]),
    ]
    LambdaSimpleBackend.invoke = invoke
    WaitFunction._wait_interval = wait_interval
    timestamp_wait.datetime = _VirtualDatetimeModule
    retrier_decl.time = _VirtualTime
    EventManager._get_current_timestamp = staticmethod(clock.now)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)
