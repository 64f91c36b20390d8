"""The Discord adapter: slash commands and mentions in, rendered answers out.

It only translates: an interaction or message becomes a call to the ``Service``, and the
result becomes messages from ``render.discord_embeds``. Answering runs in a bounded thread
pool, so the event loop keeps deferring new interactions (within Discord's 3 s) while the
CPU works. Every send carries ``AllowedMentions.none()``: nothing the bot posts can ping
anyone.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import re
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from parley.bot import phrases
from parley.bot.adapters.discord_views import (
    FramingSelect,
    MoreButton,
    ReviewButton,
    VoteButton,
    feedback_view,
    review_view,
)
from parley.bot.answer.question import is_blank
from parley.bot.render.chart import FILENAME as CHART_FILE
from parley.bot.render.chart import sources_chart
from parley.bot.render.discord_embeds import DiscordMessage, escape, render_answer, render_sources
from parley.bot.render.text import describe_build, offers_more
from parley.bot.service import Asked, Ready, Refused, Reindexed, Service, User
from parley.bot.settings import Settings, SettingsError
from parley.index import ParleyError

log = logging.getLogger("parley.discord")
NO_PINGS = discord.AllowedMentions.none()
PLATFORM = "discord"
# What the bot needs in a channel: read, reply, open and post in threads, link sources.
PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True,
    create_public_threads=True, embed_links=True, read_message_history=True,
)
Send = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class DiscordConfig:
    guild_ids: tuple[int, ...]  # sync commands to these servers at once (testing); empty: globally
    admin_roles: tuple[int, ...]  # role ids allowed to /reindex (names can be copied by anyone with Manage Roles)
    answer_workers: int
    shard_count: int | None  # None: as many as Discord recommends
    shard_ids: tuple[int, ...] | None  # None: every shard, in this process

    @classmethod
    def from_settings(cls, settings: Settings) -> DiscordConfig:
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
        self.add_dynamic_items(VoteButton, MoreButton, FramingSelect, ReviewButton)
        await self.add_cog(ParleyCog(self))
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
        """No prefix commands: ``ParleyCog.on_message`` answers mentions. (commands.Bot would
        try each mention as a command and log CommandNotFound, with the user's first word.)"""

    async def close(self) -> None:
        await super().close()
        self.answering.shutdown(wait=False, cancel_futures=True)
        self.reindexing.shutdown(wait=False, cancel_futures=True)

    async def in_pool(self, pool: ThreadPoolExecutor, work: Callable[..., Any], *args: Any) -> Any:
        """Blocking service work off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(pool, work, *args)

    async def show_more(self, interaction: discord.Interaction, answer_id: str) -> None:
        """The More button: the complete answer as an ephemeral follow-up to the presser."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        try:
            result = await self.in_pool(self.answering, self.service.more, user_of(interaction.user), answer_id)
        except Exception as error:  # noqa: BLE001 — discord.py gives component callbacks no error hook; this is it
            await interaction.followup.send(told(error, "More"), ephemeral=True, allowed_mentions=NO_PINGS)
            return
        if isinstance(result, Asked):
            await send_answer(interaction.followup.send, result, ephemeral=True)
        else:
            await interaction.followup.send(result.text, ephemeral=True, allowed_mentions=NO_PINGS)

    async def send_next_claim(self, interaction: discord.Interaction, user: User, *, admin: bool,
                              prefix: str = "") -> None:
        """The curator's next claim, privately, with its buttons (the response or a follow-up)."""
        claim = await self.in_pool(self.answering, lambda: self.service.next_claim(user, admin=admin))
        send = interaction.followup.send if interaction.response.is_done() else interaction.response.send_message
        if claim is None or isinstance(claim, Refused):
            await send(f"{prefix}{claim.text if claim else phrases.REVIEW_EMPTY}", ephemeral=True,
                       allowed_mentions=NO_PINGS)
            return
        prompt = escape(phrases.review_prompt(claim.title, claim.before, claim.text, claim.after, claim.framing,
                                              claim.confidence, claim.reviewed, claim.flags))
        text = f"{prefix}{prompt}"
        if len(text) > 2000:
            text = text[:1999] + "…"
        await send(text, view=review_view(claim.key), ephemeral=True, allowed_mentions=NO_PINGS)

    async def decide_claim(self, interaction: discord.Interaction, key: str, choice: str) -> None:
        """A review button: the decision served (no re-embedding), then the next claim."""
        user, admin = user_of(interaction.user), is_admin(interaction, self.config.admin_roles)
        if not admin:
            await interaction.response.send_message(phrases.review_refused(PLATFORM), ephemeral=True,
                                                    allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        try:
            if choice == "skip":
                self.service.skip(user, key)
                said = ""
            else:
                result = await self.in_pool(
                    self.reindexing, lambda: self.service.review(user, admin=True, key=key, framing=choice))
                said = escape(result.text) + "\n\n"
            await self.send_next_claim(interaction, user, admin=True, prefix=said)
        except Exception as error:  # noqa: BLE001 — components have no error hook; this is it
            await interaction.followup.send(told(error, "review"), ephemeral=True, allowed_mentions=NO_PINGS)

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """The error hook for gateway events: a failed mention gets a short reply."""
        error = sys.exc_info()[1]
        message = args[0] if args else None
        if event_method != "on_message" or not isinstance(message, discord.Message) or error is None:
            await super().on_error(event_method, *args, **kwargs)
            return
        await message.reply(told(error, "answering a mention"), allowed_mentions=NO_PINGS)


def is_admin(interaction: discord.Interaction, admin_roles: tuple[int, ...]) -> bool:
    """Manage Server (resolved by Discord for this member) or a role whose id is listed."""
    member = interaction.user
    if not isinstance(member, discord.Member):
        return False  # in DMs nobody administers a server
    if interaction.permissions.manage_guild:
        return True
    allowed = set(admin_roles)
    return any(role.id in allowed for role in member.roles)


def told(error: BaseException, doing: str) -> str:
    """Log what the user will not see (the trace of anything unexpected); return what they will."""
    if not isinstance(error, ParleyError):
        log.error("%s failed", doing, exc_info=error)
    return phrases.user_message(error)


async def send_answer(send: Send, asked: Asked, **options: Any) -> None:
    """Every message of a rendered answer; the last carries the feedback components."""
    rendered = render_answer(asked.answer)
    for number, message in enumerate(rendered, start=1):
        if number == len(rendered) and asked.answer_id:
            options["view"] = feedback_view(asked.answer_id, len(asked.answer.citations),
                                            more=offers_more(asked.answer))
        await send(content=message.content, embeds=embeds_of(message), allowed_mentions=NO_PINGS, **options)


def embeds_of(message: DiscordMessage) -> list[discord.Embed]:
    return [discord.Embed.from_dict(embed) for embed in message.embeds]


def user_of(author: discord.abc.User) -> User:
    return User(PLATFORM, str(author.id))


class ParleyCog(commands.Cog):
    def __init__(self, bot: ParleyBot):
        self.bot = bot

    async def cog_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """The error hook for slash commands: one ephemeral line for the user."""
        original = getattr(error, "original", error)
        text = told(original, f"/{interaction.command.name if interaction.command else '?'}")
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="ask")
    @app_commands.describe(question="What you want to know", private="Only you see the answer")
    async def ask(self, interaction: discord.Interaction, question: str, private: bool = False) -> None:
        """Ask about the US-China AI race-or-cooperation debate; answers quote the corpus."""
        user = user_of(interaction.user)
        wait = self.bot.service.admit(user)
        if wait:
            await interaction.response.send_message(wait.text, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(thinking=True, ephemeral=private)
        asked = await self.bot.in_pool(self.bot.answering, self.bot.service.answer, user, question)
        await send_answer(interaction.followup.send, asked, ephemeral=private)

    @app_commands.command(name="sources")
    async def sources(self, interaction: discord.Interaction) -> None:
        """List the documents Parley answers from, with their framings."""
        sources = await self.bot.in_pool(self.bot.answering, self.bot.service.sources)
        chart = await self.bot.in_pool(self.bot.answering, sources_chart, sources)
        first, *rest = render_sources(sources)
        await interaction.response.send_message(embeds=embeds_of(first), file=discord.File(io.BytesIO(chart), CHART_FILE),
                                                ephemeral=True, allowed_mentions=NO_PINGS)
        for message in rest:
            await interaction.followup.send(embeds=embeds_of(message), ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="reindex")
    @app_commands.default_permissions(manage_guild=True)
    async def reindex(self, interaction: discord.Interaction) -> None:
        """Re-index the corpus (Manage Server or an admin role); answers continue meanwhile."""
        user, admin = user_of(interaction.user), self.may_reindex(interaction)
        refused = self.bot.service.may_reindex(user, admin=admin)
        if refused:
            await interaction.response.send_message(refused.text, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        result = await self.bot.in_pool(self.bot.reindexing, lambda: self.bot.service.reindex(user, admin=admin))
        text = describe_build(result.report) if isinstance(result, Reindexed) else result.text
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)

    def may_reindex(self, interaction: discord.Interaction) -> bool:
        return is_admin(interaction, self.bot.config.admin_roles)

    @app_commands.command(name="review")
    @app_commands.default_permissions(manage_guild=True)
    async def review(self, interaction: discord.Interaction) -> None:
        """Review how the corpus's claims are framed (Manage Server or an admin role); private."""
        await self.bot.send_next_claim(interaction, user_of(interaction.user), admin=self.may_reindex(interaction))

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A mention starts a thread with the answer; a message in that thread asks again."""
        me = self.bot.user
        if message.author.bot or me is None:
            return
        in_our_thread = isinstance(message.channel, discord.Thread) and message.channel.owner_id == me.id
        if not in_our_thread and me not in message.mentions:
            return
        question = re.sub(rf"<@!?{me.id}>", "", message.content).strip()
        if is_blank(question):  # nothing visible: no thread with an invisible name
            await message.reply(phrases.MENTION_HINT, allowed_mentions=NO_PINGS)
            return
        user = user_of(message.author)
        wait = self.bot.service.admit(user)
        if wait:
            await message.reply(wait.text, allowed_mentions=NO_PINGS)
            return
        target: discord.abc.Messageable = message.channel
        if not in_our_thread:
            target = await message.create_thread(name=_thread_name(question))
        asked = await self.bot.in_pool(self.bot.answering, self.bot.service.answer, user, question)
        await send_answer(target.send, asked)


def _thread_name(question: str) -> str:
    name = " ".join(question.split())
    return name if len(name) <= 90 else name[:89] + "…"


# -- starting up ---------------------------------------------------------------------

def configure_endpoints(api_base: str, gateway_url: str) -> None:
    """Send REST and gateway traffic through the given bases (a proxy, or a test fake)."""
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def token_of(settings: Settings) -> str:
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
