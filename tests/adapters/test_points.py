"""/points on every surface: the debate map's list, a menu to pick a point, both sides of
it, and its related points to walk on; read off the wire of the fakes (tests/fakes/)."""

from __future__ import annotations

import asyncio
import io
import json
import time

import pytest

from parley.bot import phrases
from parley.bot.adapters.console import Console
from parley.bot.answer import PointSummary
from parley.bot.render import discord_embeds, slack_blocks
from parley.bot.render.text import HEADINGS, shown_quote
from parley.bot.service import Service
from tests.adapters.harness import Server, running_bot
from tests.fakes.discord import BOT_ID
from tests.fakes.slack import FakeSlack, blocks_problem
from tests.helpers import CORPUS_DIR

EPHEMERAL = 64
TALKS = "talks-outcomes"  # a point of the shipped map, with the neighbours the curators gave it
TALKS_NEIGHBOURS = next(p["neighbours"] for p in json.loads((CORPUS_DIR / "debate-map.json").read_text())["points"]
                        if p["id"] == TALKS)[:3]


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 120))


class MapOnly:
    """The engine's map face alone, over made-up points: ``points`` as given, no point to show."""

    def __init__(self, points: list[PointSummary]):
        self._points = points

    def points(self) -> list[PointSummary]:
        return self._points

    def point(self, point_id: str) -> None:
        return None


def made_up_points(count: int) -> list[PointSummary]:
    """``count`` points with titles too long for any menu."""
    return [PointSummary(f"point-{n}", f"Point {n}: " + "a very long question about the race " * 5, "",
                         {"race": n, "cooperation": 1}) for n in range(count)]


def _selects(components: list[dict]) -> list[dict]:
    return [c for row in components for c in row["components"] if c["type"] == 3]


def _embeds_text(body: dict) -> str:
    """What the embeds say, as sent (Markdown escapes and all)."""
    return "\n".join([*(e.get("description") or "" for e in body.get("embeds") or []),
                      *(f["value"] for e in body.get("embeds") or [] for f in e["fields"])])


# -- Discord ---------------------------------------------------------------------------

def test_discord_points_lists_the_map_privately_with_a_menu_of_its_point_ids(mapped_service, mapped_engine):
    points = mapped_engine.points()

    async def scenario():
        async with running_bot(mapped_service) as (fake, bot):
            synced = {c["name"]: c for c in (await fake.wait_for("PUT", "/commands"))[0].body}
            assert synced["points"]["description"] == "Browse the debate map: its points, and both sides of the one you pick."
            token = await fake.slash("points")
            callback = (await fake.wait_for("POST", f"/{token}/callback"))[0]
            listed = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]
            return callback, callback.at - fake.interactions[token], listed.body

    callback, seconds, listed = run(scenario())
    assert callback.body["type"] == 5 and callback.body["data"]["flags"] & EPHEMERAL and seconds < 3.0
    assert listed["flags"] & EPHEMERAL and listed["allowed_mentions"] == {"parse": []}
    text = _embeds_text(listed)
    for point in points:
        assert discord_embeds.escape(phrases.point_line(point.title, point.claims)) in text, point.point_id
    [menu] = _selects(listed["components"])
    assert menu["custom_id"] == "parley:point:list"
    assert [o["value"] for o in menu["options"]] == [p.point_id for p in points] and len(points) <= 25
    assert [o["label"] for o in menu["options"]] == [p.title for p in points]  # all under 100 characters
    assert menu["placeholder"] == phrases.points_menu(len(points), len(points))


def test_discord_choosing_a_point_shows_both_sides_and_its_related_points_even_after_a_restart(mapped_service,
                                                                                                mapped_engine):
    answer = mapped_engine.point(TALKS)
    messages = len(discord_embeds.render_answer(answer))  # the menu of related points is under the last

    async def first_run():
        async with running_bot(mapped_service) as (fake, bot):
            token = await fake.slash("points")
            return (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0].body["components"]

    async def second_run(components):
        async with running_bot(mapped_service) as (fake, bot):
            chosen = await fake.click("parley:point:list", components, user_id=8008, values=[TALKS])
            callback = (await fake.wait_for("POST", f"/{chosen}/callback"))[0]
            shown = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{chosen}", count=messages))[-1].body
            onward = await fake.click("parley:point:related", shown["components"], user_id=8008,
                                      values=[TALKS_NEIGHBOURS[1]])
            walked = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{onward}"))[-1].body
            return callback, shown, walked

    callback, shown, walked = run(second_run(run(first_run())))
    assert callback.body["type"] == 5 and callback.body["data"]["flags"] & EPHEMERAL
    assert shown["flags"] & EPHEMERAL and shown["allowed_mentions"] == {"parse": []}
    text = _embeds_text(shown)
    assert f"On: {discord_embeds.escape(answer.point.title)}" in text
    fields = {f["name"]: f["value"] for embed in shown["embeds"] for f in embed["fields"]}
    for stance in ("race", "cooperation"):
        [perspective] = [p for p in answer.perspectives if p.stance == stance]
        for n in perspective.citations:
            assert discord_embeds.escape(shown_quote(answer.citations[n - 1])) in fields[HEADINGS[stance]], (stance, n)
    [related] = _selects(shown["components"])
    assert related["custom_id"] == "parley:point:related"
    assert [o["value"] for o in related["options"]] == [p.point_id for p in answer.related] == TALKS_NEIGHBOURS
    next_title = mapped_engine.point(TALKS_NEIGHBOURS[1]).point.title
    assert f"On: {discord_embeds.escape(next_title)}" in _embeds_text(walked)


def test_discord_a_map_of_more_than_25_points_offers_the_first_25_and_says_so(make_service):
    points = made_up_points(30)
    messages = len(discord_embeds.render_points(points))  # the menu is under the last

    async def scenario():
        async with running_bot(make_service(MapOnly(points))) as (fake, bot):
            token = await fake.slash("points")
            listed = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}", count=messages))[-1].body
            gone = await fake.click("parley:point:list", listed["components"], values=["point-3"])
            refused = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{gone}"))[0].body
            return listed, refused

    listed, refused = run(scenario())
    [menu] = _selects(listed["components"])
    assert [o["value"] for o in menu["options"]] == [f"point-{n}" for n in range(25)]
    assert all(len(o["label"]) <= 100 and o["label"].endswith("…") for o in menu["options"])
    assert menu["placeholder"] == phrases.points_menu(25, 30) and "25 of 30" in menu["placeholder"]
    assert "Point 29:" in _embeds_text(listed)  # the list holds every point, the menu the first 25
    assert refused["content"] == discord_embeds.escape(phrases.unknown_point("point-3"))
    assert refused["flags"] & EPHEMERAL and refused["allowed_mentions"] == {"parse": []}


def test_discord_a_corpus_without_a_map_says_how_to_make_one(make_service):
    async def scenario():
        async with running_bot(make_service(MapOnly([]))) as (fake, bot):
            token = await fake.slash("points")
            return (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0].body

    said = run(scenario())
    assert said["content"] == phrases.NO_POINTS and said["flags"] & EPHEMERAL and not said.get("components")


# -- Slack -----------------------------------------------------------------------------

@pytest.fixture
def fake():
    slack = FakeSlack().start()
    yield slack
    slack.stop()


@pytest.fixture
def mapped_server(mapped_service, fake, seen):
    running = Server(mapped_service, fake, seen)
    yield running
    running.close()


def _menu(blocks: list[dict]) -> dict:
    [select] = [e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["type"] == "static_select"]
    return select


def test_slack_points_lists_the_map_privately_with_a_menu_of_its_point_ids(mapped_server, fake, mapped_engine):
    points = mapped_engine.points()
    status, reply, seconds, response_id = mapped_server.command(fake, "/points", "", user="U5")
    assert status == 200 and seconds < 1.0
    assert json.loads(reply) == {"response_type": "ephemeral", "text": phrases.LISTING_POINTS}
    [listed] = [r.body for r in fake.wait_for(f"/response/{response_id}")]
    assert listed["response_type"] == "ephemeral" and listed["replace_original"] is False
    assert blocks_problem(listed["blocks"]) is None
    wire = json.dumps(listed["blocks"], ensure_ascii=False)
    for point in points:
        assert slack_blocks.escape(phrases.point_line(point.title, point.claims)) in wire, point.point_id
    menu = _menu(listed["blocks"])
    assert menu["action_id"] == slack_blocks.POINT_ACTION
    assert [o["value"] for o in menu["options"]] == [p.point_id for p in points]
    assert all(len(o["text"]["text"]) <= 75 for o in menu["options"])


def test_slack_choosing_a_point_shows_both_sides_and_a_menu_of_its_related_points(mapped_server, fake,
                                                                                   mapped_engine):
    answer = mapped_engine.point(TALKS)
    _, _, _, response_id = mapped_server.command(fake, "/points", "", user="U5")
    menu = _menu(fake.wait_for(f"/response/{response_id}")[0].body["blocks"])
    chosen = next(o for o in menu["options"] if o["value"] == TALKS)
    assert mapped_server.action(fake, {**menu, "selected_option": chosen}, "U5") == 200
    shown = fake.wait_for("/response/", count=2)[1].body
    time.sleep(0.3)  # room for a wrong extra message to show up
    assert len(fake.calls("/response/")) == 2
    assert (shown["response_type"], shown["replace_original"]) == ("ephemeral", False)
    assert blocks_problem(shown["blocks"]) is None
    sections = [b["text"]["text"] for b in shown["blocks"] if b["type"] == "section"]
    assert f"*{slack_blocks.escape(phrases.on_point(answer.point.title))}*" in sections
    for stance in ("race", "cooperation"):
        [section] = [s for s in sections if s.startswith(f"*{HEADINGS[stance]}*")]
        [perspective] = [p for p in answer.perspectives if p.stance == stance]
        first = answer.citations[perspective.citations[0] - 1]
        assert slack_blocks.escape(" ".join(shown_quote(first).split())) in section, stance
    related = _menu(shown["blocks"])
    assert related["action_id"] == slack_blocks.POINT_ACTION
    assert [o["value"] for o in related["options"]] == TALKS_NEIGHBOURS


def test_slack_a_long_map_fits_the_menu_and_an_unknown_point_says_so(make_service, fake, seen):
    points = made_up_points(120)
    messages = len(slack_blocks.render_points(points))  # the menu is under the last
    server = Server(make_service(MapOnly(points)), fake, seen)
    try:
        _, _, _, response_id = server.command(fake, "/points", "")
        listed = fake.wait_for(f"/response/{response_id}", count=messages)
        menu = _menu(listed[-1].body["blocks"])
        assert server.action(fake, {**menu, "selected_option": menu["options"][0]}, "U5") == 200
        refused = fake.wait_for("/response/", count=len(listed) + 1)[-1].body
    finally:
        server.close()
    assert all(blocks_problem(r.body["blocks"]) is None for r in listed)
    assert [o["value"] for o in menu["options"]] == [f"point-{n}" for n in range(100)]
    assert all(len(o["text"]["text"]) <= 75 and o["text"]["text"].endswith("…") for o in menu["options"])
    assert menu["placeholder"]["text"] == phrases.points_menu(100, 120)
    assert refused["text"] == slack_blocks.escape(phrases.unknown_point("point-0"))


def test_slack_a_corpus_without_a_map_says_how_to_make_one(make_service, fake, seen):
    server = Server(make_service(MapOnly([])), fake, seen)
    try:
        _, _, _, response_id = server.command(fake, "/points", "")
        said = fake.wait_for(f"/response/{response_id}")[0].body
    finally:
        server.close()
    assert said["text"] == slack_blocks.escape(phrases.NO_POINTS) and said["response_type"] == "ephemeral"


# -- the console -------------------------------------------------------------------------

@pytest.fixture
def mapped_console(mapped_engine) -> tuple[Console, io.StringIO]:
    output = io.StringIO()
    return Console(Service(mapped_engine, None, None, cooldown_seconds=0), output), output


def test_console_points_lists_the_map_and_points_id_shows_both_sides(mapped_console, mapped_engine):
    chat, output = mapped_console
    chat.handle("/points")
    listed = output.getvalue()
    for point in mapped_engine.points():
        assert f"{point.point_id}: {phrases.point_line(point.title, point.claims)}" in listed
    chat.handle(f"/points {TALKS}")
    shown = output.getvalue()[len(listed):]
    answer = mapped_engine.point(TALKS)
    assert phrases.on_point(answer.point.title) in shown
    assert HEADINGS["race"] in shown and HEADINGS["cooperation"] in shown
    for citation in answer.citations:
        assert shown_quote(citation) in shown, citation.n
    assert phrases.related_points([p.title for p in answer.related]) in shown


def test_console_points_with_an_unknown_id_and_the_help_that_names_points(mapped_console):
    chat, output = mapped_console
    chat.handle("/points no-such-point")
    chat.handle("/help")
    text = output.getvalue()
    assert phrases.unknown_point("no-such-point") in text
    assert "/points [ID]" in text and "/sources" in text and "/reindex" in text
