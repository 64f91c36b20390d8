"""Parley's shipped configuration files: the documented defaults and the Slack app manifest."""
