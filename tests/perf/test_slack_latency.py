"""Ack latency of /ask and time to the answer at response_url: real slack-bolt over real
HTTP, signed requests, the Web API and response_url in the local fake Slack.

    PARLEY_PERF=1 .venv/bin/python -m pytest -s tests/perf/test_slack_latency.py
"""

from __future__ import annotations

import os
import statistics
import time

import pytest

from tests.adapters.harness import Server
from tests.fakes.slack import FakeSlack

pytestmark = pytest.mark.skipif(os.environ.get("PARLEY_PERF") != "1", reason="a perf run: set PARLEY_PERF=1")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


def test_slack_ack_and_answer_latency(warm_service, seen):
    fake = FakeSlack().start()
    server = Server(warm_service, fake, seen)
    acks, answers = [], []
    try:
        for n in range(20):
            _, _, seconds, response_id = server.command(
                fake, "/ask", "Should the US slow down AI development, given China?", user=f"U{n}")
            fake.wait_for("/response/" + response_id)
            acks.append(seconds * 1000)
        for n in range(20):
            started = time.monotonic()
            _, _, _, response_id = server.command(fake, "/ask", "What is competitive coexistence?", user=f"V{n}")
            arrived = fake.wait_for("/response/" + response_id)[0].at
            answers.append((arrived - started) * 1000)
    finally:
        server.close()
        fake.stop()
    print(f"\nSlack ack ms p50 {statistics.median(acks):.1f} p95 {p95(acks):.1f} | command->answer at "
          f"response_url ms p50 {statistics.median(answers):.1f} p95 {p95(answers):.1f}")
    assert max(acks) < 3000  # Slack's deadline for the ack
