"""The Discord adapter: slash commands and mentions in, rendered answers out.

It only translates: an interaction or message becomes a question for the answer core, and
the ``Answer`` becomes messages from ``render_discord``. Answering runs in a bounded thread
pool, so the event loop keeps deferring new interactions while the CPU works. Every send
carries ``AllowedMentions.none()``: nothing the bot posts can ping anyone.
"""

from __future__ import annotations

import asyncio
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from parley.bot.answer import Answer
from parley.bot.answer import AnswerEngine
from parley.bot.feedback import FeedbackStore
from parley.bot.guard import Cooldown, user_message
from parley.bot.render.text import describe_build
from parley.index.served import Reindexer
from parley.bot.render.discord_embeds import DiscordMessage, render_answer, render_sources
from parley.index.errors import BuildLockedError, ParleyError

log = logging.getLogger("parley.discord")
NO_PINGS = discord.AllowedMentions.none()
PLATFORM = "discord"
# What the bot needs in a channel: read, reply, open and post in threads, link sources.
PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, send_messages_in_threads=True,
    create_public_threads=True, embed_links=True, read_message_history=True,
)


@dataclass(frozen=True)
class DiscordConfig:
    guild_ids: tuple[int, ...] = ()
    admin_roles: tuple[str, ...] = ()  # role names or ids allowed to /reindex
    cooldown_seconds: float = 10.0
    answer_workers: int = 2
    shard_count: int | None = None  # None: as many as Discord recommends
    shard_ids: tuple[int, ...] | None = None  # None: every shard, in this process


def configure_endpoints(api_base: str, gateway_url: str) -> None:
    """Send REST and gateway traffic through the given bases (a proxy, or a test fake)."""
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def invite_url(token: str) -> str:
    """The OAuth2 invite URL with the scopes and permissions the bot needs."""
    return discord.utils.oauth_url(
        application_id_from_token(token), permissions=PERMISSIONS, scopes=("bot", "applications.commands")
    )


def application_id_from_token(token: str) -> int:
    """A bot token's first part is its user (= application) id, base64-encoded."""
    import base64

    first = token.split(".", 1)[0]
    try:
        return int(base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode())
    except ValueError:
        raise ParleyError("DISCORD_TOKEN does not look like a bot token (its first part is not an id).") from None


class ParleyBot(commands.AutoShardedBot):
    """Receives everything it needs; features load in ``setup_hook``.

    Auto-sharded: one process runs every shard Discord recommends, or the ``shard_ids``
    it is given out of ``shard_count`` when a large bot is spread over several processes.
    """

    def __init__(self, *, engine: AnswerEngine, reindexer: Reindexer, feedback: FeedbackStore,
                 config: DiscordConfig):
        intents = discord.Intents.default()
        intents.message_content = True  # follow-ups in a thread do not mention the bot
        super().__init__(command_prefix=commands.when_mentioned, intents=intents,
                         allowed_mentions=NO_PINGS, help_command=None,
                         shard_count=config.shard_count, shard_ids=list(config.shard_ids) if config.shard_ids else None)
        self.engine = engine
        self.reindexer = reindexer
        self.feedback = feedback
        self.config = config
        self.cooldown = Cooldown(config.cooldown_seconds)
        self.answering = ThreadPoolExecutor(max_workers=config.answer_workers, thread_name_prefix="answer")
        self.reindexing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex")

    async def setup_hook(self) -> None:
        self.add_dynamic_items(VoteButton, FramingSelect)
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

    async def close(self) -> None:
        await super().close()
        self.answering.shutdown(wait=False, cancel_futures=True)
        self.reindexing.shutdown(wait=False, cancel_futures=True)

    async def answer(self, question: str) -> Answer:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.answering, self.engine.ask, question)

    def record(self, answer: Answer) -> str | None:
        if not answer.answered:
            return None
        return self.feedback.record_answer(PLATFORM, answer.question, [c.passage_id for c in answer.citations])


def messages_for(bot: ParleyBot, answer: Answer) -> list[tuple[DiscordMessage, discord.ui.View | None]]:
    """Rendered messages, the last one carrying the feedback components."""
    rendered = render_answer(answer)
    answer_id = bot.record(answer)
    views: list[discord.ui.View | None] = [None] * len(rendered)
    if answer_id:
        views[-1] = feedback_view(answer_id, len(answer.citations))
    return list(zip(rendered, views))


def feedback_view(answer_id: str, citations: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton("up", answer_id))
    view.add_item(VoteButton("down", answer_id))
    if citations:
        view.add_item(FramingSelect(answer_id, citations))
    return view


def embeds_of(message: DiscordMessage) -> list[discord.Embed]:
    return [discord.Embed.from_dict(embed) for embed in message.embeds]


class ParleyCog(commands.Cog):
    def __init__(self, bot: ParleyBot):
        self.bot = bot

    async def cog_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        if not isinstance(original, ParleyError):
            log.error("/%s failed", interaction.command.name if interaction.command else "?", exc_info=original)
        text = user_message(original)
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="ask")
    @app_commands.describe(question="What you want to know", private="Only you see the answer")
    async def ask(self, interaction: discord.Interaction, question: str, private: bool = False) -> None:
        """Ask about the US-China AI race-or-cooperation debate; answers quote the corpus."""
        wait = self.bot.cooldown.wait(interaction.user.id)
        if wait:
            await interaction.response.send_message(
                f"Please wait {wait:.0f} s before asking again.", ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(thinking=True, ephemeral=private)
        answer = await self.bot.answer(question)
        for message, view in messages_for(self.bot, answer):
            kwargs = {"view": view} if view else {}
            await interaction.followup.send(content=message.content, embeds=embeds_of(message),
                                            ephemeral=private, allowed_mentions=NO_PINGS, **kwargs)

    @app_commands.command(name="sources")
    async def sources(self, interaction: discord.Interaction) -> None:
        """List the documents Parley answers from, with their framings."""
        loop = asyncio.get_running_loop()
        sources = await loop.run_in_executor(self.bot.answering, self.bot.engine.sources)
        messages = render_sources(sources)
        await interaction.response.send_message(embeds=embeds_of(messages[0]), ephemeral=True,
                                                allowed_mentions=NO_PINGS)
        for message in messages[1:]:
            await interaction.followup.send(embeds=embeds_of(message), ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="reindex")
    @app_commands.default_permissions(manage_guild=True)
    async def reindex(self, interaction: discord.Interaction) -> None:
        """Re-index the corpus (Manage Server or an admin role); answers continue meanwhile."""
        if not self.may_reindex(interaction):
            await interaction.response.send_message(
                "Only members with Manage Server (or a Parley admin role) can re-index.",
                ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        loop = asyncio.get_running_loop()
        try:
            report = await loop.run_in_executor(self.bot.reindexing, self.bot.reindexer.run)
        except BuildLockedError as error:
            await interaction.followup.send(str(error), ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.followup.send(describe_build(report), ephemeral=True, allowed_mentions=NO_PINGS)

    def may_reindex(self, interaction: discord.Interaction) -> bool:
        member = interaction.user
        if not isinstance(member, discord.Member):
            return False  # in DMs nobody administers a server
        if interaction.permissions.manage_guild:  # resolved by Discord for this member
            return True
        allowed = set(self.bot.config.admin_roles)
        return any(role.name in allowed or str(role.id) in allowed for role in member.roles)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if message.author.bot or me is None:
            return
        in_our_thread = isinstance(message.channel, discord.Thread) and message.channel.owner_id == me.id
        if not in_our_thread and me not in message.mentions:
            return
        question = re.sub(rf"<@!?{me.id}>", "", message.content).strip()
        try:
            if not question:
                await message.reply("Ask me a question after the mention, e.g. “@Parley is there an AI race?”",
                                    allowed_mentions=NO_PINGS)
                return
            wait = self.bot.cooldown.wait(message.author.id)
            if wait:
                await message.reply(f"Please wait {wait:.0f} s before asking again.", allowed_mentions=NO_PINGS)
                return
            target: discord.abc.Messageable = message.channel
            if not in_our_thread:
                target = await message.create_thread(name=_thread_name(question))
            answer = await self.bot.answer(question)
            for rendered, view in messages_for(self.bot, answer):
                kwargs = {"view": view} if view else {}
                await target.send(content=rendered.content, embeds=embeds_of(rendered),
                                  allowed_mentions=NO_PINGS, **kwargs)
        except Exception as error:  # noqa: BLE001 — the user gets a short message, the log the trace
            if not isinstance(error, ParleyError):
                log.error("answering a mention failed", exc_info=error)
            await message.reply(user_message(error), allowed_mentions=NO_PINGS)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"parley:(?P<vote>up|down):(?P<answer>[0-9a-f]{12})"):
    """👍 / 👎 on an answer; the custom id carries the answer, so it works after a restart."""

    def __init__(self, vote: str, answer_id: str):
        self.vote, self.answer_id = vote, answer_id
        super().__init__(discord.ui.Button(
            emoji="👍" if vote == "up" else "👎", style=discord.ButtonStyle.secondary,
            custom_id=f"parley:{vote}:{answer_id}"))

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["vote"], match["answer"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await record_vote(interaction, self.answer_id, self.vote, None)


class FramingSelect(discord.ui.DynamicItem[discord.ui.Select], template=r"parley:framing:(?P<answer>[0-9a-f]{12}):(?P<count>\d+)"):
    """"Wrong framing?" on a citation: the user picks which one."""

    def __init__(self, answer_id: str, citations: int):
        self.answer_id = answer_id
        options = [discord.SelectOption(label=f"Citation [{n}]", value=str(n)) for n in range(1, min(citations, 25) + 1)]
        super().__init__(discord.ui.Select(
            custom_id=f"parley:framing:{answer_id}:{citations}", placeholder="Wrong framing? Pick the citation",
            options=options, min_values=1, max_values=1))

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["answer"], int(match["count"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await record_vote(interaction, self.answer_id, "wrong_framing", int(self.item.values[0]))


async def record_vote(interaction: discord.Interaction, answer_id: str, vote: str, citation: int | None) -> None:
    bot: ParleyBot = interaction.client  # type: ignore[assignment]
    loop = asyncio.get_running_loop()
    stored = await loop.run_in_executor(
        None, lambda: bot.feedback.record_vote(answer_id, PLATFORM, str(interaction.user.id), vote, citation))
    text = "Thanks, your feedback was recorded." if stored else "That answer is too old to vote on."
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


def _thread_name(question: str) -> str:
    name = " ".join(question.split())
    return name if len(name) <= 90 else name[:89] + "…"
