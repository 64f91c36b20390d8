"""The Discord adapter's lifecycle: the bot, its start-up, and the commands that run it.

``ParleyBot`` receives its dependencies and loads the features in ``setup_hook`` (the
shape of discord.py's ``examples/advanced_startup.py``): the cogs of ``discord_cogs``
translate interactions and messages into calls to the ``Service``, and their results into
messages from ``render.discord_embeds``. Blocking work runs in the bot's bounded thread
pools, so the event loop keeps deferring new interactions (within Discord's 3 s) while the
CPU works. Every send carries ``AllowedMentions.none()``: nothing the bot posts can ping
anyone.
"""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import discord
import yarl
from discord.ext import commands

from parley.bot.adapters.discord_cogs import NO_PINGS, AnswersCog, CurationCog
from parley.bot.service import Ready, Service
from parley.bot.settings import Settings, SettingsError
from parley.index import ParleyError

# What the bot needs in a channel: read, reply, open and post in threads, link sources.
PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True,
    create_public_threads=True, embed_links=True, read_message_history=True,
)


@dataclass(frozen=True)
class DiscordConfig:
    """The bot's settings from ``Settings``: where commands sync, who curates, how it runs."""

    guild_ids: tuple[int, ...]  # sync commands to these servers at once (testing); empty: globally
    admin_roles: tuple[int, ...]  # role ids allowed to /reindex (names can be copied by anyone with Manage Roles)
    answer_workers: int
    shard_count: int | None  # None: as many as Discord recommends
    shard_ids: tuple[int, ...] | None  # None: every shard, in this process

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordConfig:
        """The Discord part of the settings."""
        return cls(guild_ids=tuple(settings.discord_guild_ids), admin_roles=tuple(settings.discord_admin_roles),
                   answer_workers=settings.answer_workers, shard_count=settings.discord_shard_count or None,
                   shard_ids=tuple(settings.discord_shard_ids) or None)


class ParleyBot(commands.AutoShardedBot):
    """Receives everything it needs; features load in ``setup_hook``.

    Auto-sharded: one process runs every shard Discord recommends, or the ``shard_ids``
    it is given out of ``shard_count`` when a large bot is spread over several processes.
    """

    def __init__(self, *, service: Service, config: DiscordConfig):
        intents = discord.Intents.default()
        intents.message_content = True  # follow-ups in a thread do not mention the bot
        super().__init__(command_prefix=commands.when_mentioned, intents=intents,
                         allowed_mentions=NO_PINGS, help_command=None,
                         shard_count=config.shard_count, shard_ids=list(config.shard_ids) if config.shard_ids else None)
        self.service = service
        self.config = config
        self.answering = ThreadPoolExecutor(max_workers=config.answer_workers, thread_name_prefix="answer")
        self.reindexing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex")

    async def setup_hook(self) -> None:
        """Load the features, then sync the slash commands."""
        answers = AnswersCog(self, self.service, self.answering)
        curation = CurationCog(self.service, self.answering, self.reindexing, admin_roles=self.config.admin_roles)
        # Before the gateway connects: a click on an answer sent before a restart still lands.
        self.add_dynamic_items(*answers.components.items, *answers.point_menus.items, *curation.components.items)
        await self.add_cog(answers)
        await self.add_cog(curation)
        if self.config.shard_ids and 0 not in self.config.shard_ids:
            return  # commands are global: the process that runs shard 0 syncs them, once
        if self.config.guild_ids:
            for guild_id in self.config.guild_ids:  # instant, for testing servers
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: ``AnswersCog.on_message`` answers mentions. (commands.Bot would
        try each mention as a command and log CommandNotFound, with the user's first word.)"""

    async def close(self) -> None:
        """Disconnect, then drop the work still queued: nobody is left to send its result to."""
        await super().close()
        self.answering.shutdown(wait=False, cancel_futures=True)
        self.reindexing.shutdown(wait=False, cancel_futures=True)


# -- starting up ---------------------------------------------------------------------

def configure_endpoints(api_base: str, gateway_url: str) -> None:
    """Send REST and gateway traffic through the given bases (a proxy, or a test fake)."""
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def token_of(settings: Settings) -> str:
    """The bot token, or a ``SettingsError`` that says where to put it."""
    if settings.discord_token is None:
        raise SettingsError("DISCORD_TOKEN is not set: put the bot token in the environment or in .env "
                            "(README, section Discord).")
    return settings.discord_token.get_secret_value()


def invite_url(settings: Settings) -> str:
    """The OAuth2 invite URL with the scopes and permissions the bot needs."""
    return discord.utils.oauth_url(application_id_from_token(token_of(settings)), permissions=PERMISSIONS,
                                   scopes=("bot", "applications.commands"))


def application_id_from_token(token: str) -> int:
    """A bot token's first part is its user (= application) id, base64-encoded."""
    first = token.split(".", 1)[0]
    try:
        return int(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode())
    except ValueError:
        raise ParleyError("DISCORD_TOKEN does not look like a bot token (its first part is not an id).") from None


def build_bot(settings: Settings) -> ParleyBot:
    """Everything the bot needs, built and loaded, but not connected."""
    from parley.bot.wiring import build_service

    token_of(settings)
    configure_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    service = build_service(settings)
    service.warm_up()
    return ParleyBot(service=service, config=DiscordConfig.from_settings(settings))


def check(settings: Settings) -> Ready:
    """Start up as ``run`` does, without connecting: what would be served."""
    return build_bot(settings).service.ready()


def run(settings: Settings) -> None:
    """Connect and serve until stopped. The token goes to discord.py only, never to a log."""
    build_bot(settings).run(token_of(settings), log_handler=None)
