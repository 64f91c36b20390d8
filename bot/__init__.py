"""Parley's edge: settings, the command line and (later) the chat adapters."""
