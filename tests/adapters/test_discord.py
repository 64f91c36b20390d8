"""The real discord.py client against a fake Discord on 127.0.0.1 (tests/fakes/discord.py)."""

from __future__ import annotations

import asyncio
import io
import json
import statistics
import time

import pytest

from parley.bot.adapters.discord_bot import ParleyBot
from parley.bot.answer import Answer, AnswerEngine, Perspective, clean_question
from parley.bot.phrases import MENTION_HINT, MORE_GONE
from parley.bot.render.discord_embeds import escape, render_answer
from parley.bot.render.text import shown_quote
from parley.index.indexing.review import find_claim
from parley.index.search.served import ServedIndex
from parley.index.store.versions import IndexLocation
from tests.adapters.harness import discord_config, discord_endpoints, running_bot
from tests.answers import (
    CONTESTED,
    NOT_ENGLISH,
    UNCOVERED,
    ScriptedEngine,
    citation,
    contested,
    contested_complete,
    scripted_engine,
)
from tests.fakes.discord import ADMIN_ROLE_ID, ADMINISTER, BOT_ID, CHANNEL_ID, GUILD_ID, IMPOSTOR_ROLE_ID
from tests.helpers import flag_first_race_quote, race_quotes

EPHEMERAL = 64


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 120))


def test_login_syncs_the_slash_commands(service):
    async def scenario():
        async with running_bot(service) as (fake, bot):
            synced = await fake.wait_for("PUT", "/commands")
            assert synced[0].path == f"/applications/{BOT_ID}/commands"
            names = {c["name"]: c for c in synced[0].body}
            assert set(names) == {"ask", "sources", "points", "reindex", "review"}
            assert names["ask"]["description"].startswith("Ask about the US-China AI")
            assert int(names["reindex"]["default_member_permissions"]) == ADMINISTER
            assert int(names["review"]["default_member_permissions"]) == ADMINISTER
            assert fake.identify["intents"] & (1 << 15)  # message content, for thread follow-ups

    run(scenario())


def test_ask_defers_then_follows_up_with_cited_quotes(service):
    async def scenario():
        async with running_bot(service) as (fake, bot):
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


def test_a_private_ask_is_ephemeral(service):
    async def scenario():
        async with running_bot(service) as (fake, bot):
            token = await fake.slash("ask", {"question": "Who is Xue Lan?", "private": True})
            callback = (await fake.wait_for("POST", f"/{token}/callback"))[0]
            follow = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]
            assert callback.body["data"]["flags"] & EPHEMERAL
            assert follow.body["flags"] & EPHEMERAL

    run(scenario())


def test_a_mention_is_answered_in_a_thread_and_follow_ups_there_too(service, caplog):
    caplog.set_level("DEBUG", logger="discord.ext.commands")
    caplog.set_level("INFO")

    async def scenario():
        async with running_bot(service) as (fake, bot):
            message_id = await fake.post_message(f"<@{BOT_ID}> What is coopetition?", mentions_bot=True)
            thread = (await fake.wait_for("POST", f"/channels/{CHANNEL_ID}/messages/{message_id}/threads"))[0]
            assert thread.body["name"] == "What is coopetition?"
            thread_id = fake.threads[0]
            first = (await fake.wait_for("POST", f"/channels/{thread_id}/messages"))[0]
            assert "coopetition" in str(first.body["embeds"]).lower()
            assert first.body["allowed_mentions"] == {"parse": []}
            await fake.post_message("And who is Xue Lan?", channel_id=int(thread_id))
            replies = await fake.wait_for("POST", f"/channels/{thread_id}/messages", count=2)
            assert "Xue Lan" in str(replies[-1].body["embeds"])
            assert len(fake.sent("POST", "/threads")) == 1  # the follow-up stayed in the thread
            assert "CommandNotFound" not in caplog.text and "coopetition" not in caplog.text.lower()

    run(scenario())


def test_reindex_is_refused_for_a_plain_member_and_runs_for_admins_while_asks_continue(
        reindexable, corpus_copy, make_service):
    local_engine, reindexer = reindexable
    (corpus_copy / "extra.txt").write_text(
        "---\ntitle: A note on lunar stations\n---\nEngineers proposed a lunar research station powered by "
        "a small fission reactor, so crews could stay through the long lunar night.\n")

    async def scenario():
        async with running_bot(make_service(local_engine, reindexer=reindexer), admin_roles=(ADMIN_ROLE_ID,)) as (fake, bot):
            refused = await fake.slash("reindex")
            callback = (await fake.wait_for("POST", f"/{refused}/callback"))[0]
            assert callback.body["type"] == 4 and callback.body["data"]["flags"] & EPHEMERAL
            assert "Manage Server" in callback.body["data"]["content"]
            impostor = await fake.slash("reindex", user_id=6006, roles=[IMPOSTOR_ROLE_ID])  # same name, other id
            assert "Manage Server" in (await fake.wait_for("POST", f"/{impostor}/callback"))[0].body["data"]["content"]

            by_role = await fake.slash("reindex", user_id=2002, roles=[ADMIN_ROLE_ID])
            ask = await fake.slash("ask", {"question": "What is competitive coexistence?"}, user_id=3003)
            answered = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{ask}"))[0]
            assert "coexistence" in str(answered.body["embeds"]).lower()
            report = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{by_role}", timeout=90))[0]
            assert "Indexed 6 documents" in report.body["content"]

            after = await fake.slash("ask", {"question": "How would a lunar station get power at night?"}, user_id=4004)
            new_answer = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{after}"))[0]
            assert "fission reactor" in str(new_answer.body["embeds"])

            by_permission = await fake.slash("reindex", user_id=5005, permissions=ADMINISTER)
            report = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{by_permission}", timeout=60))[0]
            assert "up to date" in report.body["content"]

    run(scenario())


@pytest.mark.parametrize("blank", ["\u200b\u200b", "\u202e\u2060", "<@&1>"])
def test_a_mention_with_nothing_visible_gets_the_hint_and_no_thread(service, blank):
    async def scenario():
        async with running_bot(service) as (fake, bot):
            await fake.post_message(f"<@{BOT_ID}> {blank}", mentions_bot=True)
            reply = (await fake.wait_for("POST", f"/channels/{CHANNEL_ID}/messages"))[0]
            assert reply.body["content"] == MENTION_HINT
            assert fake.sent("POST", "/threads") == []

    run(scenario())


def test_pings_in_a_question_or_quote_reach_no_one(service):
    async def scenario():
        async with running_bot(service) as (fake, bot):
            token = await fake.slash("ask", {"question": "@everyone @here <@&123> is China an adversary?"})
            follow = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]
            assert follow.body["allowed_mentions"] == {"parse": []}
            for request in fake.requests:
                if request.method == "POST" and request.body and "allowed_mentions" in (request.body.get("data") or request.body):
                    assert (request.body.get("data") or request.body)["allowed_mentions"] == {"parse": []}

    run(scenario())


def test_votes_from_buttons_land_in_sqlite(service, feedback):
    async def scenario():
        async with running_bot(service) as (fake, bot):
            token = await fake.slash("ask", {"question": "Is open-weight AI from China a threat or an opportunity?"}, user_id=7007)
            follow = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]
            custom_ids = [c["custom_id"] for row in follow.body["components"] for c in row["components"]]
            up = next(c for c in custom_ids if c.startswith("parley:up:"))
            framing = next(c for c in custom_ids if c.startswith("parley:framing:"))
            components = follow.body["components"]
            vote = await fake.click(up, components, user_id=7007)
            thanks = (await fake.wait_for("POST", f"/{vote}/callback"))[0]
            assert thanks.body["data"]["flags"] & EPHEMERAL
            second = await fake.click(framing, components, user_id=8008, values=["2"])
            await fake.wait_for("POST", f"/{second}/callback")
            return follow

    run(scenario())
    votes = list(feedback.votes())
    assert [(v.user_id, v.vote) for v in votes] == [("7007", "up"), ("8008", "wrong_framing")]
    assert votes[0].question == "Is open-weight AI from China a threat or an opportunity?"
    assert len(votes[0].passage_ids) >= 2 and votes[1].passage_id == votes[0].passage_ids[1]


def test_a_missing_index_gives_a_visible_message(make_service, tmp_path):
    service = make_service(AnswerEngine(ServedIndex(IndexLocation(tmp_path / "no-index"))))

    async def scenario():
        async with running_bot(service) as (fake, bot):
            token = await fake.slash("ask", {"question": "Is there an AI race?"})
            reply = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]
            assert "index is missing" in reply.body["content"]
            assert reply.body["flags"] & EPHEMERAL

    run(scenario())


def test_cooldown_tells_the_user_how_long_to_wait(engine, make_service):
    async def scenario():
        async with running_bot(make_service(engine, cooldown_seconds=60)) as (fake, bot):
            first = await fake.slash("ask", {"question": "Who is Xue Lan?"}, user_id=9009)
            await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{first}")
            second = await fake.slash("ask", {"question": "Who is Xue Lan?"}, user_id=9009)
            reply = (await fake.wait_for("POST", f"/{second}/callback"))[0]
            assert reply.body["type"] == 4 and "Please wait" in reply.body["data"]["content"]

    run(scenario())


def test_defer_latency_over_twenty_asks_stays_far_inside_three_seconds(service):
    async def scenario():
        async with running_bot(service) as (fake, bot):
            tokens = []
            for n in range(20):
                tokens.append(await fake.slash("ask", {"question": "What is competitive coexistence?"}, user_id=10000 + n))
            latencies = []
            for token in tokens:
                callback = (await fake.wait_for("POST", f"/{token}/callback"))[0]
                await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}", timeout=60)
                latencies.append(callback.at - fake.interactions[token])
            return latencies

    latencies = run(scenario())
    assert max(latencies) < 3.0  # the fake would have answered 10062 past it
    assert statistics.median(latencies) < 1.0


def test_a_very_long_answer_is_split_within_every_limit(make_service):
    """Thirty quotes of some 400 characters each: far past one message's 6000."""
    question = "Is the US-China AI contest a race to win or a reason to cooperate?"
    quotes = [citation(n, f"Quote {n}: " + "the contest is long and the stakes are high, " * 9, doc=f"d{n % 4}",
                       title=f"Document {n % 4}", publisher="Pub", url=f"https://example.org/{n % 4}",
                       stance="race" if n % 2 else "cooperation") for n in range(1, 31)]
    answer = Answer(question, True, [Perspective("race", list(range(1, 31, 2))),
                                     Perspective("cooperation", list(range(2, 31, 2)))], quotes,
                    "15 passages frame this as a race, 15 as cooperation.", kind="contested")

    async def scenario():
        async with running_bot(make_service(ScriptedEngine({question: answer}))) as (fake, bot):
            token = await fake.slash("ask", {"question": question})
            # Every message: waiting for two could catch the second before the last (with the buttons).
            return await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}", count=len(render_answer(answer)))

    sent = run(scenario())
    fields = [f for request in sent for embed in request.body["embeds"] for f in embed["fields"]]
    for quote in quotes:  # every quote whole, in one field
        assert any(escape(quote.quote) in f["value"] for f in fields), quote.n
    assert sent[1].body["embeds"][0]["title"].endswith("(continued)")
    assert any(f["name"].startswith("Sources") for f in fields)
    assert all(request.body["allowed_mentions"] == {"parse": []} for request in sent)
    assert sent[-1].body["components"] and not any(request.body.get("components") for request in sent[:-1])


def test_commands_sync_to_configured_servers_and_sources_lists_documents(service):
    async def scenario():
        async with running_bot(service, guild_ids=(GUILD_ID,)) as (fake, bot):
            synced = await fake.wait_for("PUT", f"/guilds/{GUILD_ID}/commands")
            assert {c["name"] for c in synced[0].body} == {"ask", "sources", "points", "reindex", "review"}
            token = await fake.slash("sources")
            reply = (await fake.wait_for("POST", f"/{token}/callback"))[0]
            listed = str(reply.body["data"]["embeds"])
            assert "Sanders splits with Washington" in listed and "passages" in listed
            assert "claims: 2 race, 13 cooperation, 7 neither; 22 of 22 reviewed" in listed
            [chart] = reply.body["_files"]
            assert chart["filename"] == "corpus-framings.png" and reply.body["data"]["flags"] & EPHEMERAL
            assert_a_real_chart(chart["bytes"])

    run(scenario())


def assert_a_real_chart(png: bytes) -> None:
    """A PNG of a sensible size within Discord's attachment limit, and not blank."""
    from PIL import Image

    assert len(png) < 8 * 1024 * 1024
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert 600 <= image.width <= 1600 and 200 <= image.height <= 2400
    colours = image.getcolors(maxcolors=1 << 16) or []
    assert len(colours) > 20  # bars, text and a legend: not a blank canvas
    assert any(r > 180 and g < 120 and b < 120 for _, (r, g, b) in colours)  # the race bars (red)


def test_a_vote_still_lands_after_the_bot_restarts(service, feedback):
    async def first_run():
        async with running_bot(service) as (fake, bot):
            token = await fake.slash("ask", {"question": "Who is Xue Lan?"})
            return (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0].body["components"]

    async def second_run(components):
        async with running_bot(service) as (fake, bot):
            down = next(c["custom_id"] for row in components for c in row["components"]
                        if c.get("custom_id", "").startswith("parley:down:"))
            token = await fake.click(down, components, user_id=4242)
            await fake.wait_for("POST", f"/{token}/callback")

    run(second_run(run(first_run())))
    assert [(v.user_id, v.vote) for v in feedback.votes()] == [("4242", "down")]


class _BrokenEncoder:
    """Stands in for a model that fails mid-answer (the only double in these tests)."""

    def encode(self, texts):
        raise RuntimeError("encoder exploded")


def test_an_unexpected_error_is_an_apology_for_the_user_and_a_trace_in_the_log(make_service, built_index, caplog):
    import logging

    from parley.bot.phrases import APOLOGY

    broken = AnswerEngine(ServedIndex(IndexLocation(built_index[0]), encoder=_BrokenEncoder()))

    async def scenario():
        async with running_bot(make_service(broken)) as (fake, bot):
            token = await fake.slash("ask", {"question": "Is there an AI race?"})
            return (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]

    with caplog.at_level(logging.DEBUG):
        reply = run(scenario())
    assert reply.body["content"] == APOLOGY
    assert "RuntimeError: encoder exploded" in caplog.text  # the trace, not just a line
    assert "fake.token.value" not in caplog.text


def test_a_failed_mention_gets_an_apology_in_reply_and_a_trace_in_the_log(make_service, built_index, caplog):
    import logging

    from parley.bot.phrases import APOLOGY

    broken = AnswerEngine(ServedIndex(IndexLocation(built_index[0]), encoder=_BrokenEncoder()))

    async def scenario():
        async with running_bot(make_service(broken)) as (fake, bot):
            message_id = await fake.post_message(f"<@{BOT_ID}> Is there an AI race?", mentions_bot=True)
            # The thread opens first (…/messages/ID/threads); the reply goes to the channel.
            sent = await fake.wait_for("POST", f"/channels/{CHANNEL_ID}/messages", count=2)
            return message_id, next(r.body for r in sent if r.path.endswith("/messages"))

    with caplog.at_level(logging.DEBUG):
        message_id, reply = run(scenario())
    assert reply["content"] == APOLOGY and reply["allowed_mentions"] == {"parse": []}
    assert str(reply["message_reference"]["message_id"]) == message_id  # a reply to the mention
    assert "RuntimeError: encoder exploded" in caplog.text


@pytest.mark.parametrize("status", [429, 500, 502])
def test_rate_limits_and_server_errors_on_follow_ups_are_retried(service, status):
    async def scenario():
        async with running_bot(service) as (fake, bot):
            fake.faults[f"/webhooks/{BOT_ID}/"] = [status]
            token = await fake.slash("ask", {"question": "Who is Xue Lan?"})
            sent = await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}", count=2, timeout=30)
            assert "Xue Lan" in str(sent[1].body["embeds"])

    run(scenario())


def test_the_bot_resumes_after_the_gateway_drops_and_answers_again(service):
    async def scenario():
        async with running_bot(service) as (fake, bot):
            await fake.drop_gateway()
            deadline = time.monotonic() + 30
            while not hasattr(fake, "resumed") and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert fake.connections == 2 and fake.resumed["session_id"] == "fake-session-0"
            token = await fake.slash("ask", {"question": "What is coopetition?"})
            follow = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]
            assert "coopetition" in str(follow.body["embeds"]).lower()

    run(scenario())


def test_fifty_simultaneous_interactions_are_all_deferred_in_time_and_the_loop_never_stalls(service):
    async def scenario():
        async with running_bot(service, answer_workers=2) as (fake, bot):
            lags = []

            async def watch_loop():
                while True:
                    started = time.monotonic()
                    await asyncio.sleep(0.01)
                    lags.append(time.monotonic() - started - 0.01)

            watcher = asyncio.create_task(watch_loop())
            tokens = await asyncio.gather(*(fake.slash("ask", {"question": "What is competitive coexistence?"},
                                                       user_id=20000 + n) for n in range(50)))
            defers = []
            for token in tokens:
                callback = (await fake.wait_for("POST", f"/{token}/callback", timeout=30))[0]
                defers.append(callback.at - fake.interactions[token])
            for token in tokens:
                await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}", timeout=120)
            watcher.cancel()
            return defers, lags

    defers, lags = run(scenario())
    assert max(defers) < 3.0
    assert max(lags) < 0.5  # answers run in the bounded pool, not on the event loop
    print(f"\n50 simultaneous interactions: defer max {max(defers) * 1000:.0f} ms; event-loop lag max {max(lags) * 1000:.0f} ms")


def test_hostile_text_in_a_mention_is_answered_without_markup_or_pings(service):
    async def scenario():
        async with running_bot(service) as (fake, bot):
            text = f"<@{BOT_ID}> @everyone \u200bWhat is\u202e competitive\u2060 coexistence?"
            await fake.post_message(text, mentions_bot=True)
            deadline = time.monotonic() + 30
            while not fake.threads and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            answer = (await fake.wait_for("POST", f"/channels/{fake.threads[0]}/messages"))[0]
            assert answer.body["allowed_mentions"] == {"parse": []}
            wire = json.dumps(answer.body)
            assert "\\u200b" not in wire and "\\u202e" not in wire
            # The title is the question as Parley read it, whatever the cleaning kept: it pings no one.
            asked = clean_question("@everyone \u200bWhat is\u202e competitive\u2060 coexistence?")[0]
            assert answer.body["embeds"][0]["title"] == escape(asked)
            assert "competitive coexistence" in str(answer.body["embeds"])

    run(scenario())


def test_two_processes_split_the_shards_and_each_interaction_is_answered_once(service):
    """Sharding as two processes would run it: the same total count, disjoint shard ids,
    one fake Discord. Each guild's events reach only its shard, and only the process
    holding shard 0 syncs the global commands."""
    async def scenario():
        async with discord_endpoints() as fake:
            bots = [ParleyBot(service=service, config=discord_config(shard_count=2, shard_ids=(shard,)))
                    for shard in (0, 1)]
            tasks = [asyncio.create_task(bot.start("fake.token.value")) for bot in bots]
            try:
                for bot in bots:
                    await asyncio.wait_for(bot.wait_until_ready(), 30)
                assert sorted(tuple(i["shard"]) for i in fake.identifies) == [(0, 2), (1, 2)]
                owner = fake.shard_of(GUILD_ID)
                assert [len(bot.guilds) for bot in bots] == [int(owner == 0), int(owner == 1)]

                token = await fake.slash("ask", {"question": "What is coopetition?"})
                follow = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]
                assert "coopetition" in str(follow.body["embeds"]).lower()
                await asyncio.sleep(0.3)  # room for a wrong second answer to show up
                assert len(fake.sent("POST", f"/{token}/callback")) == 1
                assert len(fake.sent("POST", f"/webhooks/{BOT_ID}/{token}")) == 1
                assert len(fake.sent("PUT", "/commands")) == 1
            finally:
                for bot in bots:
                    await bot.close()
                await asyncio.wait_for(asyncio.gather(*tasks), 10)

    run(scenario())


def test_without_a_shard_count_the_bot_runs_as_many_shards_as_discord_recommends(service):
    async def scenario():
        async with running_bot(service) as (fake, bot):
            assert fake.sent("GET", "/gateway/bot")  # asked Discord how many shards to run
            assert bot.shard_count == 1 and [tuple(i["shard"]) for i in fake.identifies] == [(0, 1)]

    run(scenario())


def _custom_ids(components: list[dict]) -> list[str]:
    return [c["custom_id"] for row in components for c in row["components"] if "custom_id" in c]


def test_more_shows_the_complete_answer_to_the_presser_alone_even_after_a_restart(make_service):
    engine = scripted_engine()
    service = make_service(engine)

    async def first_run():
        async with running_bot(service) as (fake, bot):
            token = await fake.slash("ask", {"question": CONTESTED}, user_id=7007)
            follow = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]
            assert "Press More" in json.dumps(follow.body["embeds"])
            return follow.body["components"]

    async def second_run(components):
        async with running_bot(service) as (fake, bot):
            more = next(c for c in _custom_ids(components) if c.startswith("parley:more:"))
            token = await fake.click(more, components, user_id=8008)
            callback = (await fake.wait_for("POST", f"/{token}/callback"))[0]
            await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}")
            await asyncio.sleep(0.3)  # room for a wrong second message to show up
            return callback, fake.sent("POST", f"/webhooks/{BOT_ID}/{token}")

    callback, sent = run(second_run(run(first_run())))
    assert callback.body["type"] == 5 and callback.body["data"]["flags"] & EPHEMERAL  # "thinking…", to the presser
    [complete] = sent
    assert complete.body["flags"] & EPHEMERAL and complete.body["allowed_mentions"] == {"parse": []}
    fields = [f for embed in complete.body["embeds"] for f in embed["fields"]]
    shown = " ".join(f["value"] for f in fields)
    for quote in contested_complete().citations:
        assert escape(shown_quote(quote)) in shown, quote.n
    assert "4 passages frame this as a race, 2 as cooperation." in shown and "Press More" not in shown
    custom_ids = _custom_ids(complete.body["components"])
    assert any(c.startswith("parley:up:") for c in custom_ids)  # the complete answer can be voted on
    assert not any(c.startswith("parley:more:") for c in custom_ids)
    assert engine.asked == [(CONTESTED, False), (CONTESTED, True)]


def test_more_on_an_answer_no_longer_stored_says_so(make_service):
    components = [{"type": 1, "components": [{"type": 2, "style": 1, "label": "More",
                                              "custom_id": "parley:more:000000000000"}]}]

    async def scenario():
        async with running_bot(make_service(scripted_engine())) as (fake, bot):
            token = await fake.click("parley:more:000000000000", components, user_id=8008)
            return (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]

    reply = run(scenario())
    assert reply.body["content"] == MORE_GONE and reply.body["flags"] & EPHEMERAL


@pytest.mark.parametrize("question, said", [(UNCOVERED, "The corpus doesn't mention Taiwan or TSMC."),
                                            (NOT_ENGLISH, NOT_ENGLISH)])
def test_a_refusal_has_no_buttons(make_service, question, said):
    async def scenario():
        async with running_bot(make_service(scripted_engine())) as (fake, bot):
            token = await fake.slash("ask", {"question": question})
            return (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]

    reply = run(scenario())
    assert said in reply.body["content"] and not reply.body.get("embeds")
    assert not reply.body.get("components")


def test_an_answer_with_nothing_more_has_votes_but_no_more_button(make_service):
    async def scenario():
        async with running_bot(make_service(ScriptedEngine({CONTESTED: contested(more={})}))) as (fake, bot):
            token = await fake.slash("ask", {"question": CONTESTED})
            return (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0]

    custom_ids = _custom_ids(run(scenario()).body["components"])
    assert any(c.startswith("parley:up:") for c in custom_ids)
    assert not any(c.startswith("parley:more:") for c in custom_ids)


REVIEW_QUESTION = "Should the US cooperate with China on AI safety, or race to beat it?"


def test_review_shows_a_flagged_claim_privately_and_a_decision_reaches_the_next_answer(reviewable, feedback):
    flagged = flag_first_race_quote(reviewable.engine, feedback, REVIEW_QUESTION)

    async def scenario():
        async with running_bot(reviewable) as (fake, bot):
            refused = await fake.slash("review", user_id=3003)
            callback = (await fake.wait_for("POST", f"/{refused}/callback"))[0].body["data"]
            assert callback["flags"] & EPHEMERAL and "Manage Server" in callback["content"]
            assert "components" not in callback or not callback["components"]

            token = await fake.slash("review", user_id=2002, permissions=ADMINISTER)
            shown = (await fake.wait_for("POST", f"/{token}/callback"))[0].body["data"]
            assert shown["flags"] & EPHEMERAL and "flagged 1 time as a wrong framing" in shown["content"]
            assert "Now: race" in shown["content"] and flagged.quote.split()[0] in shown["content"]
            buttons = {c["label"]: c["custom_id"] for row in shown["components"] for c in row["components"]}
            assert list(buttons) == ["Race", "Cooperation", "Neither", "Skip"]

            stranger = await fake.click(buttons["Neither"], shown["components"], user_id=3003)
            assert "Manage Server" in (await fake.wait_for("POST", f"/{stranger}/callback"))[0].body["data"]["content"]

            decided = await fake.click(buttons["Neither"], shown["components"], user_id=2002, permissions=ADMINISTER)
            said = (await fake.wait_for("POST", f"/webhooks/{BOT_ID}/{decided}", timeout=60))[0].body
            content = said["content"].replace("\\", "")  # Markdown escapes off
            assert said["flags"] & EPHEMERAL and "as neither. Answers use it now (0 passages re-embedded)." in content
            return buttons["Neither"].rsplit(":", 1)[1]

    key = run(scenario())
    again = reviewable.engine.ask(REVIEW_QUESTION, complete=True)
    # The reviewed sentence (a framed claim of the flagged passage) is no longer a race quote.
    reviewed = find_claim(reviewable.engine.served.retriever().index, key)
    assert reviewed is not None and reviewed.text not in race_quotes(again)
