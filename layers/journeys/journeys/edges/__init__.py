"""The cloud edges: the entry webhook, event delivery, and the one entry path they share."""
