"""Running the real adapters against the local fakes: a Discord bot connected to
``FakeDiscord``, a Slack app served over real HTTP with requests signed as Slack signs them,
and ``parley slack`` worker processes. Shared by tests/adapters and tests/perf."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import discord

from parley.bot.adapters.discord_bot import DiscordConfig, ParleyBot, configure_endpoints
from parley.bot.adapters.slack_app import SlackConfig, build_app, web_client
from parley.bot.adapters.slack_http import EVENTS_PATH, http_server
from parley.bot.service import Service
from parley.bot.state.events import SeenEvents
from tests.fakes.discord import FakeDiscord
from tests.fakes.slack import FakeSlack
from tests.helpers import PARLEY

SECRET = "test-signing-secret"
DISCORD_DEFAULTS = {"guild_ids": (), "admin_roles": (), "answer_workers": 2, "shard_count": None, "shard_ids": None}


@contextlib.asynccontextmanager
async def discord_endpoints() -> AsyncIterator[FakeDiscord]:
    """A started fake Discord, with discord.py pointed at it for the duration."""
    fake = FakeDiscord()
    port = await fake.start()
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    configure_endpoints(f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway")
    try:
        yield fake
    finally:
        await fake.stop()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


def discord_config(**config) -> DiscordConfig:
    return DiscordConfig(**{**DISCORD_DEFAULTS, **config})


@contextlib.asynccontextmanager
async def running_bot(service: Service, **config) -> AsyncIterator[tuple[FakeDiscord, ParleyBot]]:
    """A ParleyBot logged in to a fresh fake Discord; closed afterwards."""
    async with discord_endpoints() as fake:
        bot = ParleyBot(service=service, config=discord_config(**config))
        task = asyncio.create_task(bot.start("fake.token.value"))
        try:
            await asyncio.wait_for(fake.ready.wait(), 30)
            await asyncio.wait_for(bot.wait_until_ready(), 30)
            yield fake, bot
        finally:
            await bot.close()
            await asyncio.wait_for(task, 10)


class SignedClient:
    """Sends requests to a Slack endpoint signed as Slack signs them."""

    def __init__(self, url: str):
        self.url = url

    def post(self, body: bytes, content_type: str, *, timestamp: int | None = None, secret: str = SECRET,
             headers: dict | None = None) -> tuple[int, str, float]:
        timestamp = int(time.time()) if timestamp is None else timestamp
        # Signed over the raw bytes, as Slack does (the SDK's helper only takes UTF-8 text).
        base = f"v0:{timestamp}:".encode() + body
        signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature, **(headers or {})})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode(), time.monotonic() - started
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), time.monotonic() - started

    def command(self, fake: FakeSlack, name: str, text: str, user: str = "U1", **kwargs):
        """A slash command; returns (status, ack body, ack seconds, response_url id)."""
        response_url = fake.response_url()
        body = urlencode({"command": name, "text": text, "user_id": user, "user_name": "someone",
                          "channel_id": "C1", "channel_name": "general", "team_id": "T1",
                          "response_url": response_url, "trigger_id": "1.2.3", "api_app_id": "A1",
                          "token": "legacy"}).encode()
        status, reply, seconds = self.post(body, "application/x-www-form-urlencoded", **kwargs)
        return status, reply, seconds, response_url.rsplit("/", 1)[1]

    def event(self, event: dict, *, headers: dict | None = None, event_id: str = "Ev1"):
        body = json.dumps({"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
                           "event_id": event_id, "event_time": int(time.time()), "event": event}).encode()
        return self.post(body, "application/json", headers=headers)

    def action(self, fake: FakeSlack, action: dict, user: str) -> int:
        """A click on a Block Kit element (``action`` as rendered, plus what the user chose)."""
        payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
                   "token": "legacy", "trigger_id": "1.2", "response_url": fake.response_url(),
                   "container": {"type": "message"}, "channel": {"id": "C1"},
                   "actions": [{**action, "block_id": "b", "action_ts": "1"}]}
        return self.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")[0]


class Server(SignedClient):
    """The Slack app over real HTTP on a free port, its Web API in ``fake``."""

    def __init__(self, service: Service, fake: FakeSlack, seen: SeenEvents, *, admin_users: tuple[str, ...] = ()):
        self.app = build_app(service, seen=seen, config=SlackConfig(admin_users=admin_users, answer_workers=2),
                             client=web_client("xoxb-test", fake.api_base), signing_secret=SECRET)
        self.httpd = http_server(self.app, "127.0.0.1", 0, signing_secret=SECRET, seen=seen)
        super().__init__(f"http://127.0.0.1:{self.httpd.server_port}{EVENTS_PATH}")
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start_worker(index_dir: Path, fake: FakeSlack, store: dict[str, str], log_dir: Path,
                 **settings: str) -> tuple[subprocess.Popen, SignedClient]:
    """A `parley slack` process in HTTP mode, once it answers Slack's URL check."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
           "PARLEY_SLACK_API_BASE": fake.api_base, "PARLEY_SLACK_PORT": str(port),
           "PARLEY_INDEX_DIR": str(index_dir), "PARLEY_COOLDOWN_SECONDS": "0", **store, **settings}
    log = log_dir / f"worker-{port}.log"
    process = subprocess.Popen([str(PARLEY), "slack"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    worker = SignedClient(f"http://127.0.0.1:{port}{EVENTS_PATH}")
    challenge = json.dumps({"token": "legacy", "challenge": "ready?", "type": "url_verification"}).encode()
    deadline = time.monotonic() + 60
    while True:
        try:
            if "ready?" in worker.post(challenge, "application/json")[1]:
                return process, worker
        except OSError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.1)
