"""Real slack-bolt served over real HTTP, requests signed exactly as Slack signs them,
the Web API and response_url pointing at a fake Slack (tests/fake_slack.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from slack_sdk.signature import SignatureVerifier

from parley.bot.feedback import FeedbackStore
from parley.bot.guard import SeenEvents
from parley.index.served import ReindexJob, Reindexer
from parley.bot.slack_adapter import EVENTS_PATH, SlackConfig, build_app, http_server, web_client
from parley.index.build import ChunkSettings
from tests.fakes.slack import BOT_USER, FakeSlack
from tests.helpers import PARLEY, STANCE_LABELS

SECRET = "test-signing-secret"


@pytest.fixture
def fake():
    slack = FakeSlack().start()
    yield slack
    slack.stop()


@pytest.fixture
def stores(tmp_path):
    feedback, seen = FeedbackStore(tmp_path / "db.sqlite3"), SeenEvents(tmp_path / "db.sqlite3")
    yield feedback, seen
    feedback.close()
    seen.close()


class Server:
    def __init__(self, engine, fake, stores, *, reindexer=None, **config):
        feedback, seen = stores
        self.app = build_app(engine=engine, reindexer=reindexer, feedback=feedback, seen=seen,
                             config=SlackConfig(**{"cooldown_seconds": 0, **config}),
                             client=web_client("xoxb-test", fake.api_base), signing_secret=SECRET)
        self.httpd = http_server(self.app, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}{EVENTS_PATH}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def post(self, body: bytes, content_type: str, *, timestamp: int | None = None, secret: str = SECRET,
             headers: dict | None = None) -> tuple[int, str, float]:
        timestamp = int(time.time()) if timestamp is None else timestamp
        signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body.decode())
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature, **(headers or {})})
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode(), time.monotonic() - started
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), time.monotonic() - started

    def command(self, fake, name: str, text: str, user: str = "U1", **kwargs):
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


@pytest.fixture
def server(engine, fake, stores):
    running = Server(engine, fake, stores)
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


def test_a_direct_message_is_answered_in_a_thread(server, fake):
    dm = {"type": "message", "user": "U2", "text": "Who is Max Tegmark?", "ts": "1700000001.000100",
          "channel": "D1", "channel_type": "im"}
    server.event(dm)
    posted = fake.wait_for("/api/chat.postMessage")[0].body
    assert posted["channel"] == "D1" and posted["thread_ts"] == "1700000001.000100"
    assert "Tegmark" in json.dumps(posted["blocks"])


def test_reindex_is_refused_without_admins_and_for_non_admins(engine, fake, stores):
    nobody = Server(engine, fake, stores)
    try:
        status, reply, _, _ = nobody.command(fake, "/reindex", "")
        assert status == 200 and "PARLEY_SLACK_ADMIN_USERS" in json.loads(reply)["text"]
    finally:
        nobody.close()
    some = Server(engine, fake, stores, admin_users=("UADMIN",))
    try:
        status, reply, _, response_id = some.command(fake, "/reindex", "", user="U9")
        assert "Only Parley admins" in json.loads(reply)["text"]
        time.sleep(0.5)
        assert fake.calls(f"/response/{response_id}") == []
    finally:
        some.close()


def test_an_admin_reindexes_while_questions_are_answered(embedder, fake, stores, index_copy, corpus_copy):
    from parley.bot.answer import AnswerEngine
    from parley.index.served import ServedIndex
    from parley.index.search import SearchSettings

    served = ServedIndex(index_copy)
    reindexer = Reindexer(served, embedder, ReindexJob(corpus_copy, ChunkSettings(), STANCE_LABELS))
    (corpus_copy / "extra.txt").write_text("---\ntitle: Lunar note\n---\nA lunar research station would run on "
                                           "a small fission reactor through the long lunar night.\n")
    admin = Server(AnswerEngine(served), fake, stores, reindexer=reindexer, admin_users=("UADMIN",))
    try:
        status, reply, seconds, reindex_id = admin.command(fake, "/reindex", "", user="UADMIN")
        assert status == 200 and seconds < 1.0 and "Re-indexing" in json.loads(reply)["text"]
        _, _, _, ask_id = admin.command(fake, "/ask", "What is coopetition?", user="U5")
        assert "coopetition" in json.dumps(fake.wait_for(f"/response/{ask_id}")[0].body).lower()
        report = fake.wait_for(f"/response/{reindex_id}", timeout=90)[0].body
        assert "Re-indexed 6 documents" in report["text"]
    finally:
        admin.close()


def test_channel_pings_in_a_question_stay_inert(server, fake):
    _, _, _, response_id = server.command(fake, "/ask", "<!channel> <!here> <@U123> is China an adversary?")
    answer = fake.wait_for(f"/response/{response_id}")[0].body
    wire = json.dumps(answer)
    assert "<!channel>" not in wire and "<!here>" not in wire and "<@U123>" not in wire
    assert answer["blocks"][0]["text"]["text"].startswith("&lt;!channel&gt;")


def test_a_button_vote_lands_in_sqlite(server, fake, stores):
    _, _, _, response_id = server.command(fake, "/ask", "Is open-weight AI from China a threat or an opportunity?", user="U7")
    answer = fake.wait_for(f"/response/{response_id}")[0].body
    actions = next(b for b in answer["blocks"] if b["type"] == "actions")
    up = actions["elements"][0]
    select = actions["elements"][2]
    for action, user in ((up, "U7"), ({**select, "selected_option": select["options"][1]}, "U8")):
        payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T1"}, "api_app_id": "A1",
                   "token": "legacy", "trigger_id": "1.2", "response_url": fake.response_url(),
                   "container": {"type": "message"}, "channel": {"id": "C1"},
                   "actions": [{**action, "block_id": "b", "action_ts": "1"}]}
        status, _, _ = server.post(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")
        assert status == 200
    deadline = time.monotonic() + 10
    while len(list(stores[0].votes())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    votes = list(stores[0].votes())
    assert [(v.user_id, v.vote) for v in votes] == [("U7", "up"), ("U8", "wrong_framing")]
    assert votes[1].passage_id == votes[0].passage_ids[1]


def test_ack_latency_over_twenty_commands(server, fake):
    seconds = [server.command(fake, "/ask", f"What is competitive coexistence? ({n})", user=f"U{n}")[2] for n in range(20)]
    assert max(seconds) < 1.0


def test_socket_mode_acks_over_the_socket(engine, fake, stores):
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    feedback, seen = stores
    app = build_app(engine=engine, reindexer=None, feedback=feedback, seen=seen, config=SlackConfig(cooldown_seconds=0),
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


class Worker(Server):
    """A `parley slack` process in HTTP mode, reached at ``url`` (signing as ``Server``)."""

    def __init__(self, url: str):
        self.url = url


def start_worker(built_index, fake, db, tmp_path) -> tuple[subprocess.Popen, Worker]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
           "PARLEY_SLACK_API_BASE": fake.api_base, "PARLEY_SLACK_PORT": str(port),
           "PARLEY_INDEX_DIR": str(built_index[0]), "PARLEY_FEEDBACK_DB": str(db), "PARLEY_COOLDOWN_SECONDS": "0"}
    process = subprocess.Popen([str(PARLEY), "slack"], env=env, stdout=subprocess.DEVNULL,
                               stderr=(tmp_path / f"worker-{port}.log").open("w"))
    worker = Worker(f"http://127.0.0.1:{port}{EVENTS_PATH}")
    challenge = json.dumps({"token": "legacy", "challenge": "ready?", "type": "url_verification"}).encode()
    deadline = time.monotonic() + 60
    while True:
        try:
            if "ready?" in worker.post(challenge, "application/json")[1]:
                return process, worker
        except OSError:
            pass
        assert process.poll() is None, (tmp_path / f"worker-{port}.log").read_text()
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.1)


def test_two_worker_processes_behind_a_balancer_answer_each_mention_once(built_index, fake, tmp_path):
    """Slack retries an event and delivers a mention twice (app_mention and message); a
    load balancer may send each copy to a different process. The shared SQLite store
    (WAL) lets exactly one of them answer, and both record votes in the same place."""
    db = tmp_path / "shared.sqlite3"
    workers = [start_worker(built_index, fake, db, tmp_path) for _ in range(2)]
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
