"""The components under an answer: 👍 / 👎 buttons, More (when the answer leaves passages
out) and a "wrong framing?" select; and under a claim to review, the curator's choices.

Persistent ``DynamicItem``s: the custom id carries the answer id (and the citation count),
so a click still lands after a restart or on another shard's process.
"""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING

import discord

from parley.bot import phrases
from parley.bot.service import User
from parley.bot.state.votes import Vote

if TYPE_CHECKING:
    from parley.bot.adapters.discord_bot import ParleyBot

PLATFORM = "discord"
NO_PINGS = discord.AllowedMentions.none()


def feedback_view(answer_id: str, citations: int, *, more: bool = False) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton("up", answer_id))
    view.add_item(VoteButton("down", answer_id))
    if more:
        view.add_item(MoreButton(answer_id))
    if citations:
        view.add_item(FramingSelect(answer_id, citations))
    return view


def review_view(key: str) -> discord.ui.View:
    """Race · Cooperation · Neither · Skip under a claim to review."""
    view = discord.ui.View(timeout=None)
    for choice in ("race", "cooperation", "none", "skip"):
        view.add_item(ReviewButton(choice, key))
    return view


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button],
                   template=r"parley:review:(?P<choice>race|cooperation|none|skip):(?P<key>[0-9a-f]{16})"):
    """A curator's decision on one claim (its label key)."""

    def __init__(self, choice: str, key: str):
        self.choice = choice
        self.key = key
        label = phrases.REVIEW_CHOICES.get(choice, "Skip")
        style = discord.ButtonStyle.secondary if choice == "skip" else discord.ButtonStyle.primary
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"parley:review:{choice}:{key}"))

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["choice"], match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: ParleyBot = interaction.client  # type: ignore[assignment]
        await bot.decide_claim(interaction, self.key, self.choice)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"parley:(?P<vote>up|down):(?P<answer>[0-9a-f]{12})"):
    """👍 / 👎 on an answer."""

    def __init__(self, vote: Vote, answer_id: str):
        self.vote: Vote = vote
        self.answer_id = answer_id
        super().__init__(discord.ui.Button(
            emoji="👍" if vote == "up" else "👎", style=discord.ButtonStyle.secondary,
            custom_id=f"parley:{vote}:{answer_id}"))

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls("up" if match["vote"] == "up" else "down", match["answer"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await record_vote(interaction, self.answer_id, self.vote, None)


class MoreButton(discord.ui.DynamicItem[discord.ui.Button], template=r"parley:more:(?P<answer>[0-9a-f]{12})"):
    """More: the complete answer, to whoever presses it alone."""

    def __init__(self, answer_id: str):
        self.answer_id = answer_id
        super().__init__(discord.ui.Button(label=phrases.MORE_BUTTON, style=discord.ButtonStyle.primary,
                                           custom_id=f"parley:more:{answer_id}"))

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["answer"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: ParleyBot = interaction.client  # type: ignore[assignment]
        await bot.show_more(interaction, self.answer_id)


class FramingSelect(discord.ui.DynamicItem[discord.ui.Select],
                    template=r"parley:framing:(?P<answer>[0-9a-f]{12}):(?P<count>\d+)"):
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


async def record_vote(interaction: discord.Interaction, answer_id: str, vote: Vote, citation: int | None) -> None:
    bot: ParleyBot = interaction.client  # type: ignore[assignment]
    user = User(PLATFORM, str(interaction.user.id))
    loop = asyncio.get_running_loop()
    voted = await loop.run_in_executor(None, bot.service.vote, user, answer_id, vote, citation)
    await interaction.response.send_message(voted.text, ephemeral=True, allowed_mentions=NO_PINGS)
