"""The journey language: models, file loading with named errors, conditions, templates, durations."""
