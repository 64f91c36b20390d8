"""The components under an answer: 👍 / 👎 buttons, More (when the answer leaves passages
out) and a "wrong framing?" select; under a claim to review, the curator's choices; and
under the debate map's list and under a point's two sides, a menu of points to go to.

Persistent ``DynamicItem``s: the custom id carries the answer id (and the citation count),
so a click still lands after a restart or on another shard's process.

A click calls the cog that built the components (``AnswerActions``, ``ReviewActions``,
``PointActions``), handed in when they are built: never ``interaction.client``, so this
module knows nothing of the bot or the cogs, and the imports run one way (bot -> cogs ->
views).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

import discord

from parley.bot import phrases
from parley.bot.render.discord_embeds import (
    FRAMING_PLACEHOLDER,
    OPTION_VALUE_LIMIT,
    OPTIONS_PER_SELECT,
    citation_option,
    point_option,
    points_placeholder,
    review_label,
)
from parley.bot.state.votes import Vote

if TYPE_CHECKING:
    from parley.bot.answer import PointSummary
    from parley.bot.answer.types import PointRef

REVIEW_CHOICES = ("race", "cooperation", "none", "skip")  # the buttons' order under a claim
ItemClass = TypeVar("ItemClass", bound=type[discord.ui.DynamicItem[Any]])


class AnswerActions(Protocol):
    """What the components under an answer call (the answers cog)."""

    async def vote(self, interaction: discord.Interaction, answer_id: str, vote: Vote, citation: int | None) -> None:
        """Record a 👍 / 👎, or "wrong framing" on citation number ``citation``."""

    async def show_more(self, interaction: discord.Interaction, answer_id: str) -> None:
        """Send the complete answer to the presser alone."""


class ReviewActions(Protocol):
    """What the buttons under a claim to review call (the curation cog)."""

    async def decide_claim(self, interaction: discord.Interaction, key: str, choice: str) -> None:
        """Serve a curator's decision on claim ``key``, then show the next claim."""


class PointActions(Protocol):
    """What a menu of points calls (the answers cog)."""

    async def show_point(self, interaction: discord.Interaction, point_id: str) -> None:
        """Send both sides of point ``point_id`` to the chooser alone."""


def bound(item: ItemClass, actions: object) -> ItemClass:
    """A subclass of ``item`` whose clicks call ``actions``.

    discord.py rebuilds a clicked item from its class alone (``from_custom_id``), so what the
    click calls has to ride on the class; a subclass per bot keeps two bots in one process
    (shards, tests) apart, which a class attribute set on ``item`` itself would not.
    """
    return type(item.__name__, (item,), {"actions": actions}, template=item.__discord_ui_compiled_template__)


class FeedbackComponents:
    """The components under an answer, bound to the ``actions`` their clicks call."""

    def __init__(self, actions: AnswerActions):
        self.vote = bound(VoteButton, actions)
        self.more = bound(MoreButton, actions)
        self.framing = bound(FramingSelect, actions)
        self.items = (self.vote, self.more, self.framing)  # for ``add_dynamic_items`` at start-up

    def view(self, answer_id: str, citations: int, *, more: bool = False) -> discord.ui.View:
        """👍 · 👎 · More (when the answer leaves passages out) · "wrong framing?" (when it cites)."""
        view = discord.ui.View(timeout=None)
        view.add_item(self.vote("up", answer_id))
        view.add_item(self.vote("down", answer_id))
        if more:
            view.add_item(self.more(answer_id))
        if citations:
            view.add_item(self.framing(answer_id, citations))
        return view


class ReviewComponents:
    """The buttons under a claim to review, bound to the ``actions`` their clicks call."""

    def __init__(self, actions: ReviewActions):
        self.button = bound(ReviewButton, actions)
        self.items = (self.button,)  # for ``add_dynamic_items`` at start-up

    def view(self, key: str) -> discord.ui.View:
        """Race · Cooperation · Neither · Skip under a claim to review."""
        view = discord.ui.View(timeout=None)
        for choice in REVIEW_CHOICES:
            view.add_item(self.button(choice, key))
        return view


class PointMenus:
    """The menus of points (the map's list, a point's related points), bound to the
    ``actions`` their choices call."""

    def __init__(self, actions: PointActions):
        self.select = bound(PointSelect, actions)
        self.items = (self.select,)  # for ``add_dynamic_items`` at start-up

    def listed(self, points: list[PointSummary]) -> discord.ui.View:
        """Under the /points list: every point that fits the menu."""
        return self._view("list", [(p.point_id, p.title) for p in points])

    def related(self, points: tuple[PointRef, ...]) -> discord.ui.View:
        """Under a point's two sides: the points to go on to."""
        return self._view("related", [(p.point_id, p.title) for p in points])

    def _view(self, menu: str, points: list[tuple[str, str]]) -> discord.ui.View:
        # An id longer than a select's value limit could not come back from the menu: left out
        # (and the placeholder counts what is in the menu, so it never claims more).
        choosable = [(point_id, title) for point_id, title in points if len(point_id) <= OPTION_VALUE_LIMIT]
        shown = choosable[:OPTIONS_PER_SELECT]
        view = discord.ui.View(timeout=None)
        if shown:
            placeholder = points_placeholder(len(shown), len(points), related=menu == "related")
            view.add_item(self.select(menu, shown, placeholder))
        return view


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button],
                   template=r"parley:review:(?P<choice>race|cooperation|none|skip):(?P<key>[0-9a-f]{16})"):
    """A curator's decision on one claim (its label key). Used through ``ReviewComponents``."""

    actions: ClassVar[ReviewActions]  # set by ``bound``

    def __init__(self, choice: str, key: str):
        self.choice = choice
        self.key = key
        style = discord.ButtonStyle.secondary if choice == "skip" else discord.ButtonStyle.primary
        super().__init__(discord.ui.Button(label=review_label(choice), style=style,
                                           custom_id=f"parley:review:{choice}:{key}"))

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["choice"], match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.actions.decide_claim(interaction, self.key, self.choice)


class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=r"parley:(?P<vote>up|down):(?P<answer>[0-9a-f]{12})"):
    """👍 / 👎 on an answer. Used through ``FeedbackComponents``."""

    actions: ClassVar[AnswerActions]  # set by ``bound``

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
        await self.actions.vote(interaction, self.answer_id, self.vote, None)


class MoreButton(discord.ui.DynamicItem[discord.ui.Button], template=r"parley:more:(?P<answer>[0-9a-f]{12})"):
    """More: the complete answer, to whoever presses it alone. Used through ``FeedbackComponents``."""

    actions: ClassVar[AnswerActions]  # set by ``bound``

    def __init__(self, answer_id: str):
        self.answer_id = answer_id
        super().__init__(discord.ui.Button(label=phrases.MORE_BUTTON, style=discord.ButtonStyle.primary,
                                           custom_id=f"parley:more:{answer_id}"))

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["answer"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.actions.show_more(interaction, self.answer_id)


class FramingSelect(discord.ui.DynamicItem[discord.ui.Select],
                    template=r"parley:framing:(?P<answer>[0-9a-f]{12}):(?P<count>\d+)"):
    """"Wrong framing?" on a citation: the user picks which one. Used through ``FeedbackComponents``."""

    actions: ClassVar[AnswerActions]  # set by ``bound``

    def __init__(self, answer_id: str, citations: int):
        self.answer_id = answer_id
        # A select holds at most 25 options: later citations cannot be flagged from here.
        options = [discord.SelectOption(label=citation_option(n), value=str(n)) for n in range(1, min(citations, 25) + 1)]
        super().__init__(discord.ui.Select(
            custom_id=f"parley:framing:{answer_id}:{citations}", placeholder=FRAMING_PLACEHOLDER,
            options=options, min_values=1, max_values=1))

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        return cls(match["answer"], int(match["count"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.actions.vote(interaction, self.answer_id, "wrong_framing", int(self.item.values[0]))


class PointSelect(discord.ui.DynamicItem[discord.ui.Select], template=r"parley:point:(?P<menu>list|related)"):
    """A menu of the debate map's points; the chosen option's value is the point id. Used
    through ``PointMenus``. The custom id carries only which menu it is (each message has
    one): the options ride on the message, and the chosen value on the click."""

    actions: ClassVar[PointActions]  # set by ``bound``

    def __init__(self, menu: str, points: list[tuple[str, str]], placeholder: str):
        options = [discord.SelectOption(label=point_option(title), value=point_id) for point_id, title in points]
        super().__init__(discord.ui.Select(custom_id=f"parley:point:{menu}", placeholder=placeholder,
                                           options=options, min_values=1, max_values=1))

    @classmethod
    async def from_custom_id(cls, interaction, item, match: re.Match[str]):
        # Rebuilt from the clicked message's own select: its options are what the user saw.
        options = [(option.value, option.label) for option in item.options]
        return cls(match["menu"], options, item.placeholder or "")

    async def callback(self, interaction: discord.Interaction) -> None:
        await self.actions.show_point(interaction, self.item.values[0])
