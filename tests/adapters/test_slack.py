"""Real slack-bolt served over real HTTP, requests signed exactly as Slack signs them,
the Web API and response_url pointing at a fake Slack (tests/fakes/slack.py)."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from parley.bot import phrases
from parley.bot.adapters.slack_app import SlackConfig, build_app, web_client
from parley.bot.answer import clean_question
from parley.bot.render.slack_blocks import MORE_ACTION, escape
from parley.bot.render.text import shown_quote
from parley.bot.state.database import SqliteDatabase
from parley.index.indexing.review import find_claim
from tests.adapters.harness import SECRET, Server, start_worker
from tests.answers import CONTESTED, NOT_ENGLISH, UNCOVERED, contested_complete, scripted_engine
from tests.fakes.slack import BOT_USER, FakeSlack, blocks_problem
from tests.helpers import LUNAR_NOTE, flag_first_race_quote, race_quotes, store_env


@pytest.fixture
def fake():
    slack = FakeSlack().start()
    yield slack
    slack.stop()


@pytest.fixture
def server(service, fake, seen):
    running = Server(service, fake, seen)
    yield running
    running.close()


def test_ask_is_acked_at_once_and_answered_at_response_url(server, fake, caplog):
    caplog.set_level("DEBUG")
    status, reply, seconds, response_id = server.command(fake, "/ask", "What is coopetition?")
    assert status == 200 and seconds < 1.0
    assert json.loads(reply) == {"response_type": "ephemeral", "text": "Searching the corpus…"}
    answer = fake.wait_for(f"/response/{response_id}")[0].body
    assert answer["response_type"] == "in_channel" and answer["replace_original"] is False
    assert answer["blocks"][0] == {"type": "header", "text": {"type": "plain_text", "text": "What is coopetition?"}}
    assert "coopetition" in json.dumps(answer["blocks"]).lower()
    assert any(block["type"] == "actions" for block in answer["blocks"])
    assert SECRET not in caplog.text and "xoxb-test" not in caplog.text


def test_private_ask_is_ephemeral(server, fake):
    _, _, _, response_id = server.command(fake, "/ask", "private Who is Xue Lan?")
    answer = fake.wait_for(f"/response/{response_id}")[0].body
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"][0]["text"]["text"] == "Who is Xue Lan?"


@pytest.mark.parametrize("tamper", ["bad signature", "stale timestamp"])
def test_unsigned_or_stale_requests_are_rejected(server, fake, tamper):
    kwargs = {"secret": "wrong-secret"} if tamper == "bad signature" else {"timestamp": int(time.time()) - 600}
    status, _, _, response_id = server.command(fake, "/ask", "Is there an AI race?", **kwargs)
    assert status == 401
    time.sleep(0.3)
    assert fake.calls(f"/response/{response_id}") == []


@pytest.mark.parametrize("timestamp", ["abc", "1e3", "", "+1700000000", "-5"])
def test_a_malformed_timestamp_is_a_401_with_one_short_log_line(server, fake, caplog, timestamp):
    caplog.set_level("INFO")
    status, _, _, _ = server.command(fake, "/ask", "my secret question", headers={"X-Slack-Request-Timestamp": timestamp})
    assert status == 401
    assert [r.getMessage() for r in caplog.records] == ["Rejected a Slack request unsigned, badly signed or stale"]


@pytest.mark.parametrize("body", [b"{not json", bytes(range(256)), b""])
def test_an_unsigned_body_of_any_shape_is_a_401_that_logs_no_content(server, caplog, body):
    caplog.set_level("DEBUG")
    status, _, _ = server.post(body, "application/json", secret="wrong-secret")
    assert status == 401
    assert "Traceback" not in caplog.text and "ERROR" not in caplog.text
    rejected = urllib.parse.urlencode({"command": "/ask", "text": "who am I asking", "user_name": "alice"}).encode()
    assert server.post(rejected, "application/x-www-form-urlencoded", secret="wrong-secret")[0] == 401
    assert "who am I asking" not in caplog.text and "alice" not in caplog.text


def test_a_body_over_the_cap_is_refused_unread(server):
    request = urllib.request.Request(server.url, data=b"x" * (1024 * 1024 + 1), method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 413


def test_a_replayed_signed_command_is_answered_once(server, fake):
    response_url = fake.response_url()
    body = urllib.parse.urlencode({"command": "/ask", "text": "What is coopetition?", "user_id": "U1",
                                   "channel_id": "C1", "team_id": "T1", "response_url": response_url,
                                   "trigger_id": "1.2.3", "api_app_id": "A1", "token": "legacy"}).encode()
    timestamp = int(time.time())
    first = server.post(body, "application/x-www-form-urlencoded", timestamp=timestamp)
    replayed = server.post(body, "application/x-www-form-urlencoded", timestamp=timestamp)
    assert (first[0], replayed[0]) == (200, 200)
    path = f"/response/{response_url.rsplit('/', 1)[1]}"
    fake.wait_for(path)
    time.sleep(0.5)
    assert len(fake.calls(path)) == 1


def test_url_verification_echoes_the_challenge(server):
    body = json.dumps({"token": "legacy", "challenge": "c-123", "type": "url_verification"}).encode()
    status, reply, _ = server.post(body, "application/json")
    assert status == 200 and json.loads(reply) == {"challenge": "c-123"}


def test_a_mention_delivered_twice_and_retried_is_answered_once_in_its_thread(server, fake):
    mention = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> What is competitive coexistence?",
               "ts": "1700000000.000100", "channel": "C1", "event_ts": "1700000000.000100"}
    as_message = {**mention, "type": "message", "channel_type": "channel"}
    assert server.event(mention)[0] == 200
    assert server.event(as_message, event_id="Ev2")[0] == 200
    assert server.event(mention, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})[0] == 200
    posted = fake.wait_for("/api/chat.postMessage")
    time.sleep(1.0)
    posted = fake.calls("/api/chat.postMessage")
    assert len(posted) == 1
    assert posted[0].body["thread_ts"] == "1700000000.000100" and posted[0].body["channel"] == "C1"
    assert "coexistence" in json.dumps(posted[0].body["blocks"]).lower()

    follow_up = {"type": "message", "user": "U1", "text": "And who is Xue Lan?", "ts": "1700000000.000200",
                 "thread_ts": "1700000000.000100", "channel": "C1", "channel_type": "channel"}
    server.event(follow_up, event_id="Ev3")
    again = fake.wait_for("/api/chat.postMessage", count=2)
    assert again[1].body["thread_ts"] == "1700000000.000100" and "Xue Lan" in json.dumps(again[1].body["blocks"])


@pytest.mark.parametrize(("odd", "status", "logged"), [
    ({"channel": 12345}, 400, "A signed Slack request could not be read; answered 400"),  # bolt cannot parse it
    ({"channel": ["C1"]}, 200, "A Slack app_mention event had no usable channel or timestamp; it was not answered"),
    ({"channel": None}, 200, "A Slack app_mention event had no usable channel or timestamp; it was not answered"),
    ({"ts": 1.5}, 200, "A Slack app_mention event had no usable channel or timestamp; it was not answered"),
    ({"text": ["not", "text"]}, 200, None),  # answerable: the user hears back in the thread
    ({"user": {"id": "U1"}}, 200, None),
])
def test_a_mention_with_fields_of_unexpected_types_is_answered_or_logged_never_lost(server, fake, caplog, odd, status,
                                                                                    logged):
    caplog.set_level("INFO")
    mention = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> Who is Xue Lan?",
               "ts": "1700000003.000100", "channel": "C1", **odd}
    assert server.event(mention)[0] == status
    if logged:
        deadline = time.monotonic() + 10
        while logged not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert logged in caplog.text
        assert fake.calls("/api/chat.postMessage") == []
    else:
        posted = fake.wait_for("/api/chat.postMessage")[0].body
        assert posted["thread_ts"] == "1700000003.000100"


def test_a_mention_while_the_ledger_is_locked_is_answered_and_the_skipped_check_logged(
        server, fake, caplog, tmp_path, database):
    """De-duplication degrades, never the answer: a rare double answer beats a lost question."""
    if not isinstance(database, SqliteDatabase):
        pytest.skip("SQLite's write lock; a PostgreSQL outage is tested in tests/adapters/test_hosts.py")
    caplog.set_level("INFO")
    blocker = sqlite3.connect(tmp_path / "parley.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock past the busy timeout
    try:
        server.event({"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> Who is Xue Lan?",
                      "ts": "1700000004.000100", "channel": "C1"})
        posted = fake.wait_for("/api/chat.postMessage", timeout=30)[0].body
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert posted["thread_ts"] == "1700000004.000100" and "Xue Lan" in json.dumps(posted)
    assert posted["text"] != phrases.APOLOGY
    assert "Could not check a Slack post for a second delivery" in caplog.text and "database is locked" in caplog.text


def test_a_direct_message_is_answered_in_a_thread(server, fake):
    dm = {"type": "message", "user": "U2", "text": "Who is Max Tegmark?", "ts": "1700000001.000100",
          "channel": "D1", "channel_type": "im"}
    server.event(dm)
    posted = fake.wait_for("/api/chat.postMessage")[0].body
    assert posted["channel"] == "D1" and posted["thread_ts"] == "1700000001.000100"
    assert "Tegmark" in json.dumps(posted["blocks"])


def test_reindex_is_refused_without_admins_and_for_non_admins(service, fake, seen):
    nobody = Server(service, fake, seen)
    try:
        status, reply, _, _ = nobody.command(fake, "/reindex", "")
        assert status == 200 and "PARLEY_SLACK_ADMIN_USERS" in json.loads(reply)["text"]
    finally:
        nobody.close()
    some = Server(service, fake, seen, admin_users=("UADMIN",))
    try:
        status, reply, _, response_id = some.command(fake, "/reindex", "", user="U9")
        assert "Only Parley admins" in json.loads(reply)["text"]
        time.sleep(0.5)
        assert fake.calls(f"/response/{response_id}") == []
    finally:
        some.close()


def test_an_admin_reindexes_while_questions_are_answered(reindexable, corpus_copy, make_service, fake, seen):
    engine, reindexer = reindexable
    (corpus_copy / "extra.txt").write_text(LUNAR_NOTE)
    admin = Server(make_service(engine, reindexer=reindexer), fake, seen, admin_users=("UADMIN",))
    try:
        status, reply, seconds, reindex_id = admin.command(fake, "/reindex", "", user="UADMIN")
        assert status == 200 and seconds < 1.0 and "Re-indexing" in json.loads(reply)["text"]
        _, _, _, ask_id = admin.command(fake, "/ask", "What is coopetition?", user="U5")
        assert "coopetition" in json.dumps(fake.wait_for(f"/response/{ask_id}")[0].body).lower()
        report = fake.wait_for(f"/response/{reindex_id}", timeout=90)[0].body
        assert "Indexed 6 documents" in report["text"]
    finally:
        admin.close()


def test_channel_pings_in_a_question_stay_inert(server, fake):
    question = "<!channel> <!here> <@U123> is China an adversary?"
    _, _, _, response_id = server.command(fake, "/ask", question)
    answer = fake.wait_for(f"/response/{response_id}")[0].body
    wire = json.dumps(answer)
    assert "<!channel>" not in wire and "<!here>" not in wire and "<@U123>" not in wire
    assert answer["blocks"][0]["text"]["text"] == escape(clean_question(question)[0])  # as Parley read it


def test_a_button_vote_lands_in_sqlite(server, fake, feedback):
    _, _, _, response_id = server.command(fake, "/ask", "Is open-weight AI from China a threat or an opportunity?", user="U7")
    answer = fake.wait_for(f"/response/{response_id}")[0].body
    actions = next(b for b in answer["blocks"] if b["type"] == "actions")
    elements = {e["action_id"]: e for e in actions["elements"]}
    up, select = elements["parley_vote_up"], elements["parley_wrong_framing"]
    assert server.action(fake, up, "U7") == 200
    assert server.action(fake, {**select, "selected_option": select["options"][1]}, "U8") == 200
    deadline = time.monotonic() + 10
    while len(list(feedback.votes())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    votes = list(feedback.votes())
    assert [(v.user_id, v.vote) for v in votes] == [("U7", "up"), ("U8", "wrong_framing")]
    assert votes[1].passage_id == votes[0].passage_ids[1]
    thanks = fake.wait_for("/response/", count=3)  # the answer, then one reply per vote
    assert [r.body["text"] for r in thanks[1:]] == [phrases.VOTE_THANKS] * 2


def test_ack_latency_over_twenty_commands(server, fake):
    seconds = [server.command(fake, "/ask", f"What is competitive coexistence? ({n})", user=f"U{n}")[2] for n in range(20)]
    assert max(seconds) < 1.0


def test_socket_mode_acks_over_the_socket(service, fake, seen):
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app = build_app(service, seen=seen, config=SlackConfig(admin_users=(), answer_workers=2),
                    client=web_client("xoxb-test", fake.api_base), signing_secret=None)
    handler = SocketModeHandler(app, app_token="xapp-test", web_client=app.client)
    handler.connect()
    try:
        deadline = time.monotonic() + 10
        while not hasattr(fake, "socket") and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        response_url = fake.response_url()
        sent_at = time.monotonic()
        envelope = fake.send_envelope("slash_commands", {
            "command": "/ask", "text": "What is coopetition?", "user_id": "U1", "channel_id": "C1",
            "team_id": "T1", "response_url": response_url, "trigger_id": "1", "api_app_id": "A1"})
        deadline = time.monotonic() + 10
        while not any(a.get("envelope_id") == envelope for a in fake.socket_acks) and time.monotonic() < deadline:
            time.sleep(0.01)
        ack = next(a for a in fake.socket_acks if a.get("envelope_id") == envelope)
        assert ack["_at"] - sent_at < 1.0
        assert ack["payload"]["text"] == "Searching the corpus…"
        answer = fake.wait_for("/response/" + response_url.rsplit("/", 1)[1])[0].body
        assert "coopetition" in json.dumps(answer).lower()
    finally:
        handler.close()


@pytest.mark.parametrize("status", [429, 500, 503])
def test_web_api_rate_limits_and_server_errors_are_retried(server, fake, status):
    fake.faults["/api/chat.postMessage"] = [status]
    server.event({"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> Who is Xue Lan?",
                  "ts": f"17000000{status}.000100", "channel": "C1"})
    posted = fake.wait_for("/api/chat.postMessage", count=2, timeout=30)
    assert len(posted) == 2  # the failed attempt, then the retry that landed
    time.sleep(0.5)
    assert len(fake.calls("/api/chat.postMessage")) == 2
    assert "Xue Lan" in json.dumps(posted[1].body["blocks"])


@pytest.mark.parametrize("private", [False, True])
def test_a_failing_response_url_falls_back_to_the_web_api(server, fake, private):
    fake.faults["/response/"] = [404, 404, 404]  # expired
    text = ("private " if private else "") + "What is coopetition?"
    server.command(fake, "/ask", text)
    method = "/api/chat.postEphemeral" if private else "/api/chat.postMessage"
    fallback = fake.wait_for(method, timeout=30)[0].body
    assert fallback["channel"] == "C1" and "coopetition" in json.dumps(fallback["blocks"]).lower()
    if private:
        assert fallback["user"] == "U1"


def test_two_hundred_concurrent_asks_are_all_acked_in_time_and_answered_once(server, fake):
    from concurrent.futures import ThreadPoolExecutor

    questions = ["What is coopetition?", "Who is Xue Lan?", "What is competitive coexistence?", "Is China an adversary?"]
    with ThreadPoolExecutor(max_workers=200) as pool:
        results = list(pool.map(lambda n: server.command(fake, "/ask", questions[n % 4], user=f"L{n}"), range(200)))
    assert [status for status, _, _, _ in results] == [200] * 200
    acks = sorted(seconds for _, _, seconds, _ in results)
    assert acks[-1] < 3.0, acks[-5:]
    deadline = time.monotonic() + 120
    ids = [response_id for _, _, _, response_id in results]
    while sum(1 for i in ids if fake.calls(f"/response/{i}")) < 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [len(fake.calls(f"/response/{i}")) for i in ids] == [1] * 200
    print(f"\n200 concurrent /ask: ack p50 {acks[99] * 1000:.0f} ms, max {acks[-1] * 1000:.0f} ms; 200 answered once")


def test_hostile_text_through_the_slash_command_is_answered_with_a_note(server, fake):
    text = "\x00\u202eIs China an adversary?\u200b " + "padding " * 12_500  # 100,000+ characters
    status, _, seconds, response_id = server.command(fake, "/ask", text)
    assert status == 200 and seconds < 3.0
    answer = fake.wait_for(f"/response/{response_id}")[0].body
    wire = json.dumps(answer)
    assert "characters long; I answered its first" in wire
    assert "\\u0000" not in wire and "\\u202e" not in wire and "\\u200b" not in wire


def test_two_worker_processes_behind_a_balancer_answer_each_mention_once(built_index, fake, database, tmp_path):
    """Slack retries an event and delivers a mention twice (app_mention and message); a
    load balancer may send each copy to a different process. The shared store lets exactly
    one of them answer, and both record votes in the same place."""
    workers = [start_worker(built_index[0], fake, store_env(database), tmp_path) for _ in range(2)]
    try:
        (_, first), (_, second) = workers
        mention = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> What is competitive coexistence?",
                   "ts": "1700000000.000300", "channel": "C1", "event_ts": "1700000000.000300"}
        as_message = {**mention, "type": "message", "channel_type": "channel"}
        assert first.event(mention)[0] == 200
        assert second.event(as_message, event_id="Ev2")[0] == 200
        assert second.event(mention, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})[0] == 200
        fake.wait_for("/api/chat.postMessage")
        time.sleep(1.5)
        posted = fake.calls("/api/chat.postMessage")
        assert len(posted) == 1 and posted[0].body["thread_ts"] == "1700000000.000300"

        # A second mention goes the other way round; still one answer.
        other = {**mention, "ts": "1700000000.000400", "event_ts": "1700000000.000400",
                 "text": f"<@{BOT_USER}> Who is Xue Lan?"}
        assert second.event(other, event_id="Ev3")[0] == 200
        assert first.event({**other, "type": "message", "channel_type": "channel"}, event_id="Ev4")[0] == 200
        fake.wait_for("/api/chat.postMessage", count=2)
        time.sleep(1.5)
        assert len(fake.calls("/api/chat.postMessage")) == 2
    finally:
        for process, _ in workers:
            process.terminate()
            process.wait(timeout=10)


class _BrokenEncoder:
    """Stands in for a model that fails mid-answer (the only double in these tests)."""

    def encode(self, texts):
        raise RuntimeError("encoder exploded")


def test_an_unexpected_error_is_an_apology_where_the_user_asked_and_a_trace_in_the_log(
        make_service, built_index, fake, seen, caplog):
    from parley.bot.answer import AnswerEngine
    from parley.index.search.served import ServedIndex
    from parley.index.store.versions import IndexLocation

    broken = make_service(AnswerEngine(ServedIndex(IndexLocation(built_index[0]), encoder=_BrokenEncoder())))
    server = Server(broken, fake, seen)
    try:
        with caplog.at_level("DEBUG"):
            _, _, _, response_id = server.command(fake, "/ask", "Is there an AI race?")
            server.event({"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> Is there an AI race?",
                          "ts": "1700000009.000100", "channel": "C1"})
            reply = fake.wait_for(f"/response/{response_id}")[0].body
            posted = fake.wait_for("/api/chat.postMessage")[0].body
    finally:
        server.close()
    assert (reply["text"], reply["response_type"]) == (phrases.APOLOGY, "ephemeral")
    assert (posted["text"], posted["thread_ts"]) == (phrases.APOLOGY, "1700000009.000100")
    assert caplog.text.count("RuntimeError: encoder exploded") >= 2  # the traces, not just a line
    assert SECRET not in caplog.text and "xoxb-test" not in caplog.text


def test_more_answers_the_presser_alone_with_the_complete_answer(make_service, fake, seen):
    engine = scripted_engine()
    server = Server(make_service(engine), fake, seen)
    try:
        _, _, _, response_id = server.command(fake, "/ask", CONTESTED, user="U7")
        answer = fake.wait_for(f"/response/{response_id}")[0].body
        assert "Press More" in json.dumps(answer["blocks"])
        actions = next(b for b in answer["blocks"] if b["type"] == "actions")
        more = next(e for e in actions["elements"] if e["action_id"] == MORE_ACTION)
        assert server.action(fake, more, "U8") == 200
        pressed = fake.wait_for("/response/", count=2)[1].body
        time.sleep(0.3)  # room for a wrong extra message to show up
        assert len(fake.calls("/response/")) == 2
    finally:
        server.close()
    assert (pressed["response_type"], pressed["replace_original"]) == ("ephemeral", False)
    wire = json.dumps(pressed["blocks"], ensure_ascii=False)
    for citation in contested_complete().citations:
        assert escape(" ".join(shown_quote(citation).split())) in wire, citation.n
    assert "4 passages frame this as a race, 2 as cooperation." in wire
    assert MORE_ACTION not in wire and "Press More" not in wire
    assert engine.asked == [(CONTESTED, False), (CONTESTED, True)]


def test_more_on_an_answer_no_longer_stored_says_so(make_service, fake, seen):
    server = Server(make_service(scripted_engine()), fake, seen)
    try:
        gone = {"type": "button", "action_id": MORE_ACTION, "value": "000000000000",
                "text": {"type": "plain_text", "text": "More"}}
        assert server.action(fake, gone, "U8") == 200
        reply = fake.wait_for("/response/")[0].body
    finally:
        server.close()
    assert (reply["text"], reply["response_type"]) == (phrases.MORE_GONE, "ephemeral")


@pytest.mark.parametrize("question, said", [(UNCOVERED, "The corpus doesn't mention Taiwan or TSMC."),
                                            (NOT_ENGLISH, NOT_ENGLISH)])
def test_a_refusal_has_no_buttons(make_service, fake, seen, question, said):
    server = Server(make_service(scripted_engine()), fake, seen)
    try:
        _, _, _, response_id = server.command(fake, "/ask", question)
        answer = fake.wait_for(f"/response/{response_id}")[0].body
    finally:
        server.close()
    assert [b["type"] for b in answer["blocks"]] == ["header", "section"]
    assert said in answer["blocks"][1]["text"]["text"]


REVIEW_QUESTION = "Should the US cooperate with China on AI safety, or race to beat it?"


def test_review_shows_a_flagged_claim_privately_and_a_decision_reaches_the_next_answer(reviewable, feedback, fake,
                                                                                       seen):
    flag_first_race_quote(reviewable.engine, feedback, REVIEW_QUESTION)
    server = Server(reviewable, fake, seen, admin_users=("UADMIN",))
    try:
        status, reply, _, response_id = server.command(fake, "/review", "", user="U9")
        assert status == 200 and json.loads(reply)["text"] == phrases.review_refused("slack")
        time.sleep(0.3)
        assert fake.calls(f"/response/{response_id}") == []

        _, reply, _, response_id = server.command(fake, "/review", "", user="UADMIN")
        assert json.loads(reply) == {"response_type": "ephemeral", "text": phrases.REVIEW_LOOKING}
        shown = fake.wait_for(f"/response/{response_id}")[0].body
        assert shown["response_type"] == "ephemeral" and "flagged 1 time as a wrong framing" in shown["text"]
        assert blocks_problem(shown["blocks"]) is None
        buttons = {b["text"]["text"]: b for b in shown["blocks"][-1]["elements"]}
        assert list(buttons) == ["Race", "Cooperation", "Neither", "Skip"]

        assert server.action(fake, buttons["Neither"], "U9") == 200  # not an admin: refused, nothing written
        assert server.action(fake, buttons["Neither"], "UADMIN") == 200
        replies = fake.wait_for("/response/", count=3, timeout=60)  # the claim, the refusal, the decision
        texts = [r.body["text"] for r in replies]
        assert phrases.review_refused("slack") in texts
        assert any("as neither. Answers use it now (0 passages re-embedded)." in t for t in texts)
    finally:
        server.close()
    # The reviewed sentence (a framed claim of the flagged passage) is no longer a race quote.
    reviewed = find_claim(reviewable.engine.served.retriever().index, buttons["Neither"]["value"])
    assert reviewed is not None and reviewed.text not in race_quotes(reviewable.engine.ask(REVIEW_QUESTION, complete=True))


def test_sources_lists_documents_privately_and_sends_the_chart_to_the_users_dm(server, fake):
    _, reply, _, response_id = server.command(fake, "/sources", "", user="U5")
    listed = fake.wait_for(f"/response/{response_id}", count=2)
    assert all(r.body["response_type"] == "ephemeral" for r in listed)
    assert "claims: 2 race, 13 cooperation, 7 neither; 22 of 22 reviewed" in json.dumps(listed[0].body["blocks"])
    assert listed[-1].body["text"] == phrases.CHART_SENT
    assert fake.calls("/api/conversations.open")[0].body["users"] == "U5"
    [upload] = fake.calls("/upload/")
    assert upload.body.startswith(b"\x89PNG") and len(upload.body) > 5000
    completed = fake.calls("/api/files.completeUploadExternal")[0].body
    assert completed["channel_id"] == "DU5"
