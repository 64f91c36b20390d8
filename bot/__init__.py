"""Parley's bot side: a question in, a platform message out (answer core, rendering, the shared service, the chat adapters, measurement)."""
