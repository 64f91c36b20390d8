"""Defer and answer latency of /ask through the real discord.py client and the fake
Discord: twenty asks one at a time, then twenty at once.

    PARLEY_PERF=1 .venv/bin/python -m pytest -s tests/perf/test_discord_latency.py
"""

from __future__ import annotations

import asyncio
import os
import statistics

import pytest

from tests.adapters.harness import running_bot
from tests.fakes.discord import BOT_ID

pytestmark = pytest.mark.skipif(os.environ.get("PARLEY_PERF") != "1", reason="a perf run: set PARLEY_PERF=1")


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94]


def test_discord_defer_and_answer_latency(warm_service):
    async def scenario():
        async with running_bot(warm_service) as (fake, bot):
            defer, answered = [], []
            for n in range(20):  # one at a time: the latency of a single ask
                token = await fake.slash("ask", {"question": "Should the US slow down AI development, given China?"},
                                         user_id=100 + n)
                callback = (await fake.wait_for("POST", f"/{token}/callback"))[0]
                follow = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]
                defer.append((callback.at - fake.interactions[token]) * 1000)
                answered.append((follow.at - fake.interactions[token]) * 1000)
            tokens = [await fake.slash("ask", {"question": "What is competitive coexistence?"}, user_id=500 + n)
                      for n in range(20)]
            burst = []
            for token in tokens:
                callback = (await fake.wait_for("POST", f"/{token}/callback"))[0]
                burst.append((callback.at - fake.interactions[token]) * 1000)
                await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}", timeout=60)
            return defer, answered, burst

    defer, answered, burst = asyncio.run(asyncio.wait_for(scenario(), 300))
    print(f"\nDiscord sequential defer ms p50 {statistics.median(defer):.1f} p95 {p95(defer):.1f} | "
          f"interaction->follow-up ms p50 {statistics.median(answered):.1f} p95 {p95(answered):.1f}")
    print(f"Discord burst of 20 at once: defer ms p50 {statistics.median(burst):.1f} p95 {p95(burst):.1f} "
          f"max {max(burst):.1f}")
    assert max(defer + burst) < 3000  # Discord's deadline for the first response
