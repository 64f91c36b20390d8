"""Opt-in latency runs through the real client libraries and the local fakes: set
PARLEY_PERF=1 and run with -s to see the figures."""
