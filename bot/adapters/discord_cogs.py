"""Discord's features, one cog per group: answers (/ask, mentions, /sources, /points and
its menus, More, votes) and curation (/reindex, /review and its buttons).

Each cog receives the service and the bounded thread pools it runs blocking work on, and
builds the components its messages carry, bound to itself (``discord_views``). Every
entry point has an error guard: a slash command the cog's ``cog_app_command_error``, a
component callback or a listener its own ``try`` (discord.py gives those no hook), so the
user gets one short line from ``told`` and the trace goes to the log.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from parley.bot import phrases
from parley.bot.adapters.discord_views import FeedbackComponents, PointMenus, ReviewComponents
from parley.bot.answer.question import is_blank
from parley.bot.render.chart import FILENAME as CHART_FILE
from parley.bot.render.chart import sources_chart
from parley.bot.render.discord_embeds import (
    DiscordMessage,
    decision_said,
    escape,
    render_answer,
    render_points,
    render_sources,
    review_message,
)
from parley.bot.render.text import describe_build, offers_more
from parley.bot.service import Asked, Refused, Reindexed, Service, User
from parley.bot.state.votes import Vote
from parley.index import ParleyError

log = logging.getLogger("parley.discord")
NO_PINGS = discord.AllowedMentions.none()
PLATFORM = "discord"
Send = Callable[..., Awaitable[Any]]


class AnswersCog(commands.Cog, name="Answers"):
    """/ask, mentions and their threads, /sources, /points, and the components under an
    answer and under the debate map."""

    def __init__(self, bot: commands.Bot, service: Service, answering: ThreadPoolExecutor):
        self.bot = bot  # for its own user only (whom a mention names); the rest is handed in
        self.service = service
        self.answering = answering
        self.components = FeedbackComponents(self)
        self.point_menus = PointMenus(self)

    async def cog_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """The error hook for this cog's slash commands: one ephemeral line for the user."""
        await report_command_error(interaction, error)

    @app_commands.command(name="ask")
    @app_commands.describe(question="What you want to know", private="Only you see the answer")
    async def ask(self, interaction: discord.Interaction, question: str, private: bool = False) -> None:
        """Ask about the US-China AI race-or-cooperation debate; answers quote the corpus."""
        user = user_of(interaction.user)
        wait = self.service.admit(user)
        if wait:
            await interaction.response.send_message(wait.text, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(thinking=True, ephemeral=private)
        asked = await in_pool(self.answering, self.service.answer, user, question)
        await self.send_answer(interaction.followup.send, asked, ephemeral=private)

    @app_commands.command(name="sources")
    async def sources(self, interaction: discord.Interaction) -> None:
        """List the documents Parley answers from, with their framings."""
        sources = await in_pool(self.answering, self.service.sources)
        chart = await in_pool(self.answering, sources_chart, sources)
        first, *rest = render_sources(sources)
        await interaction.response.send_message(embeds=embeds_of(first), file=discord.File(io.BytesIO(chart), CHART_FILE),
                                                ephemeral=True, allowed_mentions=NO_PINGS)
        for message in rest:
            await interaction.followup.send(embeds=embeds_of(message), ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="points")
    async def points(self, interaction: discord.Interaction) -> None:
        """Browse the debate map: its points, and both sides of the one you pick."""
        # Deferred first: the pool may be busy with answers, and Discord gives the response 3 s.
        await interaction.response.defer(thinking=True, ephemeral=True)
        points = await in_pool(self.answering, self.service.points)
        if not points:
            await interaction.followup.send(phrases.NO_POINTS, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        rendered = render_points(points)
        for number, message in enumerate(rendered, start=1):
            menu = {"view": self.point_menus.listed(points)} if number == len(rendered) else {}
            await interaction.followup.send(embeds=embeds_of(message), ephemeral=True, allowed_mentions=NO_PINGS,
                                            **menu)

    async def show_point(self, interaction: discord.Interaction, point_id: str) -> None:
        """A point chosen from a menu: both sides of it, to the chooser alone, with a menu of
        its related points to walk the map on."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        try:
            result = await in_pool(self.answering, self.service.point, point_id)
            if isinstance(result, Refused):  # an id the map no longer has (re-indexed since the menu was sent)
                await interaction.followup.send(escape(result.text), ephemeral=True, allowed_mentions=NO_PINGS)
                return
            rendered = render_answer(result)
            for number, message in enumerate(rendered, start=1):
                menu = {"view": self.point_menus.related(result.related)} if number == len(rendered) else {}
                await interaction.followup.send(content=message.content, embeds=embeds_of(message), ephemeral=True,
                                                allowed_mentions=NO_PINGS, **menu)
        except Exception as error:  # noqa: BLE001 — discord.py gives component callbacks no error hook; this is it
            await tell(interaction, told(error, "a point of the map"))

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A mention starts a thread with the answer; a message in that thread asks again."""
        try:
            await self.answer_message(message)
        except Exception as error:  # noqa: BLE001 — a listener's only hook is the bot's on_error; this is the cog's
            await message.reply(told(error, "answering a mention"), allowed_mentions=NO_PINGS)

    async def answer_message(self, message: discord.Message) -> None:
        """Answer a mention (in a new thread) or a message in a thread the bot opened."""
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
        wait = self.service.admit(user)
        if wait:
            await message.reply(wait.text, allowed_mentions=NO_PINGS)
            return
        target: discord.abc.Messageable = message.channel
        if not in_our_thread:
            target = await message.create_thread(name=_thread_name(question))
        asked = await in_pool(self.answering, self.service.answer, user, question)
        await self.send_answer(target.send, asked)

    async def show_more(self, interaction: discord.Interaction, answer_id: str) -> None:
        """The More button: the complete answer as an ephemeral follow-up to the presser."""
        await interaction.response.defer(thinking=True, ephemeral=True)
        try:
            result = await in_pool(self.answering, self.service.more, user_of(interaction.user), answer_id)
        except Exception as error:  # noqa: BLE001 — discord.py gives component callbacks no error hook; this is it
            await tell(interaction, told(error, "More"))
            return
        if isinstance(result, Asked):
            await self.send_answer(interaction.followup.send, result, ephemeral=True)
        else:
            await interaction.followup.send(result.text, ephemeral=True, allowed_mentions=NO_PINGS)

    async def vote(self, interaction: discord.Interaction, answer_id: str, vote: Vote, citation: int | None) -> None:
        """👍 / 👎, or "wrong framing" on citation ``citation``: recorded, then thanked privately.

        On the bounded answering pool, not the loop's default executor: a slow store then
        holds only the threads the bot was sized for (``answer_workers``).
        """
        try:
            voted = await in_pool(self.answering, self.service.vote, user_of(interaction.user), answer_id, vote,
                                  citation)
        except Exception as error:  # noqa: BLE001 — components have no error hook; this is it
            await tell(interaction, told(error, "vote"))
            return
        await interaction.response.send_message(voted.text, ephemeral=True, allowed_mentions=NO_PINGS)

    async def send_answer(self, send: Send, asked: Asked, **options: Any) -> None:
        """Every message of a rendered answer; the last carries the feedback components."""
        rendered = render_answer(asked.answer)
        for number, message in enumerate(rendered, start=1):
            if number == len(rendered) and asked.answer_id:
                options["view"] = self.components.view(asked.answer_id, len(asked.answer.citations),
                                                       more=offers_more(asked.answer))
            await send(content=message.content, embeds=embeds_of(message), allowed_mentions=NO_PINGS, **options)


class CurationCog(commands.Cog, name="Curation"):
    """/reindex, /review and the buttons under a claim to review: Manage Server or an admin role."""

    def __init__(self, service: Service, answering: ThreadPoolExecutor, reindexing: ThreadPoolExecutor,
                 *, admin_roles: tuple[int, ...]):
        self.service = service
        self.answering = answering  # reading the review queue
        self.reindexing = reindexing  # writing a decision rebuilds: one at a time, as /reindex does
        self.admin_roles = admin_roles
        self.components = ReviewComponents(self)

    async def cog_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """The error hook for this cog's slash commands: one ephemeral line for the user."""
        await report_command_error(interaction, error)

    @app_commands.command(name="reindex")
    @app_commands.default_permissions(manage_guild=True)
    async def reindex(self, interaction: discord.Interaction) -> None:
        """Re-index the corpus (Manage Server or an admin role); answers continue meanwhile."""
        user, admin = user_of(interaction.user), self.is_curator(interaction)
        refused = self.service.may_reindex(user, admin=admin)
        if refused:
            await interaction.response.send_message(refused.text, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        result = await in_pool(self.reindexing, lambda: self.service.reindex(user, admin=admin))
        text = describe_build(result.report) if isinstance(result, Reindexed) else result.text
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)

    @app_commands.command(name="review")
    @app_commands.default_permissions(manage_guild=True)
    async def review(self, interaction: discord.Interaction) -> None:
        """Review how the corpus's claims are framed (Manage Server or an admin role); private."""
        await self.send_next_claim(interaction, user_of(interaction.user), admin=self.is_curator(interaction))

    def is_curator(self, interaction: discord.Interaction) -> bool:
        """May re-index and review: Manage Server or one of the admin roles."""
        return is_admin(interaction, self.admin_roles)

    async def send_next_claim(self, interaction: discord.Interaction, user: User, *, admin: bool,
                              prefix: str = "") -> None:
        """The curator's next claim, privately, with its buttons (the response or a follow-up)."""
        claim = await in_pool(self.answering, lambda: self.service.next_claim(user, admin=admin))
        send = interaction.followup.send if interaction.response.is_done() else interaction.response.send_message
        if isinstance(claim, Refused):
            await send(f"{prefix}{claim.text}", ephemeral=True, allowed_mentions=NO_PINGS)
        elif claim is None:
            await send(review_message(None, prefix), ephemeral=True, allowed_mentions=NO_PINGS)
        else:
            await send(review_message(claim, prefix), view=self.components.view(claim.key), ephemeral=True,
                       allowed_mentions=NO_PINGS)

    async def decide_claim(self, interaction: discord.Interaction, key: str, choice: str) -> None:
        """A review button: the decision served (no re-embedding), then the next claim."""
        user, admin = user_of(interaction.user), self.is_curator(interaction)
        if not admin:  # a click carries only the custom id: check who clicked, not who was shown the claim
            await interaction.response.send_message(phrases.review_refused(PLATFORM), ephemeral=True,
                                                    allowed_mentions=NO_PINGS)
            return
        await interaction.response.defer(thinking=True, ephemeral=True)
        try:
            if choice == "skip":
                self.service.skip(user, key)
                said = ""
            else:
                result = await in_pool(
                    self.reindexing, lambda: self.service.review(user, admin=True, key=key, framing=choice))
                said = decision_said(result.text)
            await self.send_next_claim(interaction, user, admin=True, prefix=said)
        except Exception as error:  # noqa: BLE001 — components have no error hook; this is it
            await tell(interaction, told(error, "review"))


# -- shared by the cogs ----------------------------------------------------------------

async def in_pool(pool: ThreadPoolExecutor, work: Callable[..., Any], *args: Any) -> Any:
    """Blocking service work off the event loop, on one of the bot's bounded pools."""
    return await asyncio.get_running_loop().run_in_executor(pool, work, *args)


def told(error: BaseException, doing: str) -> str:
    """Log what the user will not see (the trace of anything unexpected); return what they will."""
    if not isinstance(error, ParleyError):
        log.error("%s failed", doing, exc_info=error)
    return phrases.user_message(error)


async def tell(interaction: discord.Interaction, text: str) -> None:
    """One ephemeral line: the response if none was sent yet, else a follow-up."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


async def report_command_error(interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
    """What a cog's ``cog_app_command_error`` does: the user told, the trace logged."""
    original = getattr(error, "original", error)  # CommandInvokeError wraps what the command raised
    await tell(interaction, told(original, f"/{interaction.command.name if interaction.command else '?'}"))


def is_admin(interaction: discord.Interaction, admin_roles: tuple[int, ...]) -> bool:
    """Manage Server (resolved by Discord for this member) or a role whose id is listed."""
    member = interaction.user
    if not isinstance(member, discord.Member):
        return False  # in DMs nobody administers a server
    if interaction.permissions.manage_guild:
        return True
    allowed = set(admin_roles)
    return any(role.id in allowed for role in member.roles)


def embeds_of(message: DiscordMessage) -> list[discord.Embed]:
    """A rendered message's embed dicts as discord.py embeds."""
    return [discord.Embed.from_dict(embed) for embed in message.embeds]


def user_of(author: discord.abc.User) -> User:
    """The service's user for a Discord author (votes and cooldowns are per platform)."""
    return User(PLATFORM, str(author.id))


def _thread_name(question: str) -> str:
    # Discord caps thread names at 100 characters; 90 leaves room and reads as a title.
    name = " ".join(question.split())
    return name if len(name) <= 90 else name[:89] + "…"
