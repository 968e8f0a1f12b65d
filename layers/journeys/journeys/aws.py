"""AWS SDK clients and resources, made once per thread and reused.

Creating a boto3 client costs ~10-30 ms (it loads service models); a Lambda container reuses
them across invocations, as AWS recommends. Per thread, because boto3 resources are not
thread-safe and the local runner executes several state machines at once.
"""

from __future__ import annotations

import threading

import boto3

_local = threading.local()


def client(service: str):
    cache = _local.__dict__.setdefault("clients", {})
    if service not in cache:
        cache[service] = boto3.client(service)
    return cache[service]


def resource(service: str):
    cache = _local.__dict__.setdefault("resources", {})
    if service not in cache:
        cache[service] = boto3.resource(service)
    return cache[service]
