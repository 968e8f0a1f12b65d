"""Segment entry: one batch of a segment's lines (the segment-entry state machine's Map child).

Thin on purpose: parsing and the entry rules live in journeys.edges.segment and journeys.edges.entry.
"""

from journeys.edges import webhook
from journeys.edges.segment import enter_batch


def lambda_handler(event, context):
    svc = webhook.services()  # the entry function's clients and catalog, reused per container
    return enter_batch(event, catalog=svc.catalog, sfn=svc.sfn, contacts=svc.contacts, journeys=svc.journeys)
