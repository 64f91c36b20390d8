"""The real discord.py client against a fake Discord on 127.0.0.1 (tests/fake_discord.py)."""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time

import discord
import pytest

from bot.discord_adapter import DiscordConfig, ParleyBot, configure_endpoints
from bot.feedback import FeedbackStore
from bot.reindex import ReindexJob, Reindexer
from index.build import ChunkSettings
from tests.fake_discord import ADMIN_ROLE_ID, ADMINISTER, BOT_ID, CHANNEL_ID, FakeDiscord
from tests.helpers import STANCE_LABELS

EPHEMERAL = 64


@contextlib.asynccontextmanager
async def running_bot(engine, feedback, *, reindexer=None, **config):
    fake = FakeDiscord()
    port = await fake.start()
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    configure_endpoints(f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway")
    bot = ParleyBot(engine=engine, reindexer=reindexer, feedback=feedback,
                    config=DiscordConfig(**{"cooldown_seconds": 0, **config}))
    task = asyncio.create_task(bot.start("fake.token.value"))
    try:
        await asyncio.wait_for(fake.ready.wait(), 30)
        await asyncio.wait_for(bot.wait_until_ready(), 30)
        yield fake, bot
    finally:
        await bot.close()
        await asyncio.wait_for(task, 10)
        await fake.stop()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest.fixture
def feedback(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    yield store
    store.close()


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 120))


def test_login_syncs_the_slash_commands(engine, feedback):
    async def scenario():
        async with running_bot(engine, feedback) as (fake, bot):
            synced = await fake.wait_for("PUT", "/commands")
            assert synced[0].path == f"/applications/{BOT_ID}/commands"
            names = {c["name"]: c for c in synced[0].body}
            assert set(names) == {"ask", "sources", "reindex"}
            assert names["ask"]["description"].startswith("Ask about the US-China AI")
            assert int(names["reindex"]["default_member_permissions"]) == ADMINISTER
            assert fake.identify["intents"] & (1 << 15)  # message content, for thread follow-ups

    run(scenario())


def test_ask_defers_then_follows_up_with_cited_quotes(engine, feedback):
    async def scenario():
        async with running_bot(engine, feedback) as (fake, bot):
            token = await fake.slash("ask", {"question": "What did the 2023 open letter signed by many luminaries ask for?"})
            callback = (await fake.wait_for("POST", f"/{token}/callback"))[0]
            assert callback.body["type"] == 5
            follow = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]
            assert follow.body["allowed_mentions"] == {"parse": []}
            embed = follow.body["embeds"][0]
            text = " ".join(f["value"] for f in embed["fields"])
            assert "six month halt" in text and "\\[1\\]" in text
            assert any(f["name"] == "Sources" for f in embed["fields"])
            assert follow.body["components"]  # feedback buttons
            return callback.at - fake.interactions[token]

    assert run(scenario()) < 3.0
