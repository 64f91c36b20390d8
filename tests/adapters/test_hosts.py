"""Two hosts, simulated on one machine: each has its own corpus copy and index directory,
and runs one `parley slack` worker (HTTP, behind a "load balancer": the test picks the
worker) and one `parley discord` shard process; one PostgreSQL server holds what they
share. Real processes, the real libraries, local fakes of Slack and Discord, a real
database that the test stops for ten seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.adapters.harness import start_worker
from tests.fakes.discord import BOT_ID, GUILD_ID, FakeDiscord
from tests.fakes.slack import BOT_USER, FakeSlack
from tests.helpers import CORPUS_DIR, LUNAR_NOTE, PARLEY
from tests.postgres import PostgresServer, server_binaries

pytestmark = pytest.mark.skipif(server_binaries() is None, reason="no PostgreSQL server binaries (pgserver)")

LUNAR_QUESTION = "What would power a lunar research station?"


class ThreadedDiscord:
    """The fake Discord on an event loop of its own thread, driven from this one."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.fake: FakeDiscord = self.call(self._start())

    async def _start(self) -> FakeDiscord:
        fake = FakeDiscord()
        await fake.start()
        return fake

    def call(self, coroutine, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.call(self.fake.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def own_postgres():
    """A server of this test's own: it is stopped and started again mid-test."""
    server = PostgresServer(server_binaries())
    server.start()
    yield server
    server.destroy()


def host(root: Path, built: Path) -> dict[str, str]:
    """One host's settings: its own corpus and index directory (a copy of the same build)."""
    shutil.copytree(CORPUS_DIR, root / "corpus")
    shutil.copytree(built, root / "index", symlinks=True)
    return {"PARLEY_CORPUS_DIR": str(root / "corpus"), "PARLEY_INDEX_DIR": str(root / "index"),
            "PARLEY_FEEDBACK_DB": str(root / "unused.sqlite3")}


def start_shard(discord: ThreadedDiscord, shard: int, settings: dict[str, str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "DISCORD_TOKEN": "fake.token.value",
           "PARLEY_DISCORD_API_BASE": f"http://127.0.0.1:{discord.fake.port}/api/v10",
           "PARLEY_DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{discord.fake.port}/gateway",
           "PARLEY_DISCORD_SHARD_COUNT": "2", "PARLEY_DISCORD_SHARD_IDS": str(shard),
           "PARLEY_COOLDOWN_SECONDS": "0", **settings}
    return subprocess.Popen([str(PARLEY), "discord"], env=env, stdout=subprocess.DEVNULL, stderr=log.open("w"))


def slack_answer(fake: FakeSlack, worker, question: str, user: str = "U1") -> dict:
    status, _, _, response_id = worker.command(fake, "/ask", question, user=user)
    assert status == 200
    return fake.wait_for(f"/response/{response_id}", timeout=60)[0].body


def vote_up(fake: FakeSlack, worker, answer: dict, user: str) -> str:
    """Press 👍 under ``answer``; what Parley replied."""
    actions = next(b for b in answer["blocks"] if b["type"] == "actions")
    up = next(e for e in actions["elements"] if e["action_id"] == "parley_vote_up")
    before = len(fake.calls("/response/"))
    assert worker.action(fake, up, user) == 200
    return fake.wait_for("/response/", count=before + 1)[-1].body["text"]


def votes_in(url: str) -> list[tuple]:
    with psycopg.connect(url) as connection:
        return connection.execute("SELECT platform, user_id, vote FROM votes ORDER BY id").fetchall()


def test_two_hosts_share_one_database_and_one_index_version(built_index, own_postgres, tmp_path):
    url = own_postgres.new_database()
    shared = {"PARLEY_DATABASE_URL": url, "PARLEY_SLACK_ADMIN_USERS": "UADMIN"}
    hosts = [host(tmp_path / name, built_index[0]) for name in ("a", "b")]
    fake, discord = FakeSlack().start(), ThreadedDiscord()
    processes = []
    try:
        workers = []
        for settings in hosts:
            process, worker = start_worker(Path(settings["PARLEY_INDEX_DIR"]), fake, {}, tmp_path,
                                           **shared, **settings)
            processes.append(process)
            workers.append(worker)
        # Discord sends the guild's events to shard (guild id >> 22) % 2: it runs on host b,
        # the host that catches up with a new version by building it.
        guild_shard = (GUILD_ID >> 22) % 2
        for shard in (0, 1):
            settings = hosts[1] if shard == guild_shard else hosts[0]
            processes.append(start_shard(discord, shard, {**shared, **settings}, tmp_path / f"shard-{shard}.log"))
        deadline = time.monotonic() + 60
        while len(discord.fake.identifies) < 2:
            assert all(p.poll() is None for p in processes), "a process died at start-up"
            assert time.monotonic() < deadline, "the shards did not connect"
            time.sleep(0.1)
        a, b = workers
        assert discord.fake.shard_of(GUILD_ID) == guild_shard

        # A mention, its other delivery and its retry, on different workers: one answer.
        mention = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> What is competitive coexistence?",
                   "ts": "1700000000.000300", "channel": "C1", "event_ts": "1700000000.000300"}
        assert a.event(mention)[0] == 200
        assert b.event({**mention, "type": "message", "channel_type": "channel"}, event_id="Ev2")[0] == 200
        assert b.event(mention, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})[0] == 200
        fake.wait_for("/api/chat.postMessage", timeout=60)
        time.sleep(1.5)  # room for a wrong second answer
        assert len(fake.calls("/api/chat.postMessage")) == 1

        # A vote through each worker and one through Discord land in one table.
        assert "recorded" in vote_up(fake, a, slack_answer(fake, a, "What is coopetition?"), "U7")
        assert "recorded" in vote_up(fake, b, slack_answer(fake, b, "Who is Xue Lan?"), "U8")
        token = discord.call(discord.fake.slash("ask", {"question": "What is coopetition?"}, user_id=4242))
        follow = discord.call(discord.fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0].body
        up = next(c["custom_id"] for row in follow["components"] for c in row["components"]
                  if c.get("custom_id", "").startswith("parley:up:"))
        discord.call(discord.fake.click(up, follow["components"], user_id=4242))
        deadline = time.monotonic() + 20
        while len(votes_in(url)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert votes_in(url) == [("slack", "U7", "up"), ("slack", "U8", "up"), ("discord", "4242", "up")]

        # /reindex on host a, after both hosts' corpora gained a document: both serve it
        # within seconds (host b builds it itself and checks the digest), and no question
        # fails meanwhile.
        for settings in hosts:
            Path(settings["PARLEY_CORPUS_DIR"], "lunar.txt").write_text(LUNAR_NOTE, encoding="utf-8")
        started = time.monotonic()
        _, _, _, reindex_id = a.command(fake, "/reindex", "", user="UADMIN")
        served_by_both, answers = False, []
        while time.monotonic() - started < 60 and not served_by_both:
            answers = [slack_answer(fake, worker, LUNAR_QUESTION) for worker in (a, b)]
            token = discord.call(discord.fake.slash("ask", {"question": LUNAR_QUESTION}))
            answers.append(discord.call(discord.fake.wait_for("POST", f"/webhooks/{BOT_ID}/{token}"))[0].body)
            assert all("went wrong" not in json.dumps(answer) for answer in answers)
            served_by_both = all("fission reactor" in json.dumps(answer) for answer in answers)
        propagated = time.monotonic() - started
        assert served_by_both, answers
        print(f"both hosts served the new version {propagated:.1f} s after /reindex")
        assert propagated < 30
        assert "Indexed 6 documents" in fake.wait_for(f"/response/{reindex_id}", timeout=60)[0].body["text"]
        digests = set()
        for settings in hosts:
            version = Path(settings["PARLEY_INDEX_DIR"], "current").resolve()
            digests.add(json.dumps(json.loads((version / "manifest.json").read_text())["files"], sort_keys=True))
        assert len(digests) == 1  # the same bytes on both hosts

        # The database stopped for ten seconds: questions are still answered (without vote
        # buttons), a vote is told to wait, and everything comes back by itself.
        before = votes_in(url)
        answer = slack_answer(fake, a, "What is coopetition?")
        own_postgres.stop("immediate")
        stopped = time.monotonic()
        try:
            for worker in (a, b):
                during = slack_answer(fake, worker, "What is coopetition?", user="U9")
                assert "coopetition" in json.dumps(during).lower()
                assert not any(block["type"] == "actions" for block in during["blocks"])
            assert "can't record votes" in vote_up(fake, b, answer, "U9")
            time.sleep(max(0.0, 10 - (time.monotonic() - stopped)))
        finally:
            own_postgres.start()
        deadline = time.monotonic() + 20
        while True:
            said = vote_up(fake, b, answer, "U9")
            if "recorded" in said or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert "recorded" in said
        assert votes_in(url) == before + [("slack", "U9", "up")]
        logs = "".join(path.read_text() for path in tmp_path.glob("*.log"))
        assert "catching up with index version" in logs  # host b built the published version itself
        assert "unreachable" in logs and "reachable again" in logs
        assert "xoxb-test" not in logs and "fake.token.value" not in logs
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        fake.stop()
        discord.close()
