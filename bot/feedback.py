"""What chat processes share about answers: votes, kept questions, events already taken.

``FeedbackStore``: an answer is recorded when it is sent (its id goes into the buttons'
custom ids, so a vote or a More press still lands after a restart); a vote records who,
when, on which question and passages. ``SeenEvents``: a retried or doubly delivered chat
event is answered once, even when a load balancer hands the copies to different processes
or hosts. ``SharedCooldown``: the per-user gap between questions, whichever process takes
them. All three run the same statements on SQLite or PostgreSQL (``database.py``).
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from parley.bot.database import Database, StoreUnavailable

log = logging.getLogger(__name__)

Vote = Literal["up", "down", "wrong_framing"]
VOTES: tuple[Vote, ...] = ("up", "down", "wrong_framing")
SEEN_FOR_SECONDS = 24 * 3600  # how long a claimed event or request key is remembered
PRUNE_EVERY = 500  # claims between two deletions of older keys
MAX_RETENTION_DAYS = 36_500  # 100 years: more is a typo, and would overflow the date arithmetic


@dataclass(frozen=True)
class VoteRecord:
    platform: str
    user_id: str
    created_at: str
    question: str
    passage_ids: list[str]
    vote: str
    passage_id: str | None  # the citation a "wrong framing?" vote is about, if any


class FeedbackStore:
    def __init__(self, database: Database):
        self.database = database  # also the service's cooldowns and the Slack ledger use it

    def record_answer(self, platform: str, question: str, passage_ids: list[str]) -> str:
        """Remember a sent answer; returns the id its vote buttons carry."""
        answer_id = secrets.token_hex(6)
        self.database.run("INSERT INTO answers (answer_id, platform, question, passage_ids, created_at) "
                          "VALUES (%s, %s, %s, %s, %s)", (answer_id, platform, question, json.dumps(passage_ids), _now()))
        return answer_id

    def question_of(self, answer_id: str) -> str | None:
        """The question a sent answer answered (for its More button); ``None`` when the
        answer is unknown (e.g. purged)."""
        rows = self.database.rows("SELECT question FROM answers WHERE answer_id = %s", (answer_id,))
        return rows[0][0] if rows else None

    def record_vote(self, answer_id: str, platform: str, user_id: str, vote: Vote,
                    citation: int | None = None) -> bool:
        """Store a vote (``citation``: the number of the quote a "wrong framing?" vote is
        about); ``False`` when the answer is unknown (e.g. purged)."""
        if vote not in VOTES:
            raise ValueError(f"unknown vote {vote!r}")
        rows = self.database.rows("SELECT passage_ids FROM answers WHERE answer_id = %s", (answer_id,))
        if not rows:
            return False
        cited = json.loads(rows[0][0])
        passage_id = cited[citation - 1] if citation and 0 < citation <= len(cited) else None
        # One vote per user per answer (per quote, for "wrong framing?"): the latest click
        # replaces the earlier one. The unique slot makes it one statement that two
        # processes (or hosts) taking the same user's clicks cannot both insert.
        slot = f"framing:{passage_id or ''}" if vote == "wrong_framing" else "rating"
        self.database.run(
            "INSERT INTO votes (answer_id, platform, user_id, vote, passage_id, slot, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (answer_id, platform, user_id, slot) "
            "DO UPDATE SET vote = excluded.vote, created_at = excluded.created_at",
            (answer_id, platform, user_id, vote, passage_id, slot, _now()))
        return True

    def record_unanswered(self, platform: str, question: str) -> None:
        """A question refused as not covered (only with ``log_unanswered``)."""
        self.database.run("INSERT INTO unanswered (platform, question, created_at) VALUES (%s, %s, %s)",
                          (platform, question, _now()))

    def unanswered(self) -> list[str]:
        """The kept unanswered questions, oldest first."""
        return [row[0] for row in self.database.rows("SELECT question FROM unanswered ORDER BY id")]

    def flagged_passages(self) -> dict[str, int]:
        """Passage id -> how many "wrong framing" votes its quotes got: the review queue's head."""
        rows = self.database.rows("SELECT passage_id, COUNT(*) FROM votes WHERE vote = 'wrong_framing' "
                                  "AND passage_id IS NOT NULL GROUP BY passage_id")
        return {passage_id: int(count) for passage_id, count in rows}

    def votes(self) -> Iterator[VoteRecord]:
        """Every vote with its question and cited passages, oldest first."""
        rows = self.database.rows(
            "SELECT v.platform, v.user_id, v.created_at, a.question, a.passage_ids, v.vote, v.passage_id "
            "FROM votes v JOIN answers a ON a.answer_id = v.answer_id ORDER BY v.created_at, v.id")
        for platform, user_id, created_at, question, passage_ids, vote, passage_id in rows:
            yield VoteRecord(platform, user_id, created_at, question, json.loads(passage_ids), vote, passage_id)

    def purge(self, older_than_days: float) -> tuple[int, int]:
        """Delete questions (answered, or kept unanswered) and votes older than
        ``older_than_days``, and the votes on a deleted answer however recent; (questions,
        votes) removed."""
        cutoff = (datetime.now(UTC) - timedelta(days=older_than_days)).isoformat(timespec="seconds")
        with self.database.transaction() as statements:
            votes = statements.run(
                "DELETE FROM votes WHERE created_at < %s OR answer_id IN "
                "(SELECT answer_id FROM answers WHERE created_at < %s)", (cutoff, cutoff))
            answers = statements.run("DELETE FROM answers WHERE created_at < %s", (cutoff,))
            answers += statements.run("DELETE FROM unanswered WHERE created_at < %s", (cutoff,))
        return answers, votes

    def record_decision(self, record: dict) -> None:
        """A curator's framing decision (a reviewed-labels line, review.decision_record),
        kept for hosts whose labels file is not this one's; the latest per claim wins."""
        self.database.run("INSERT INTO claim_decisions (claim_key, line, decided_at) VALUES (%s, %s, %s) "
                          "ON CONFLICT (claim_key) DO UPDATE SET line = excluded.line, decided_at = excluded.decided_at",
                          (record["key"], json.dumps(record, ensure_ascii=False), record["reviewed_at"]))

    def decisions(self) -> list[dict]:
        """Every kept framing decision, in the order they were made."""
        rows = self.database.rows("SELECT line FROM claim_decisions ORDER BY decided_at, claim_key")
        return [json.loads(line) for (line,) in rows]

    def close(self) -> None:
        self.database.close()


class SeenEvents:
    """Chat events already taken, and the threads Parley answers in (so a follow-up there
    is a question for Parley), in the same store as the votes."""

    def __init__(self, database: Database):
        self._db = database
        self._claims = 0

    def claim(self, key: str) -> bool:
        """``True`` for the first caller with this key, in any process sharing the store."""
        now = time.time()
        taken = self._db.run("INSERT INTO seen_events (key, at) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                             (key, now)) == 1
        self._claims += 1
        if self._claims % PRUNE_EVERY == 0:  # Slack stops retrying within hours: keep a day
            self._db.run("DELETE FROM seen_events WHERE at < %s", (now - SEEN_FOR_SECONDS,))
        return taken

    def remember_thread(self, key: str) -> None:
        self._db.run("INSERT INTO our_threads (key, at) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                     (key, time.time()))

    def is_our_thread(self, key: str) -> bool:
        return bool(self._db.rows("SELECT 1 FROM our_threads WHERE key = %s", (key,)))


class SharedCooldown:
    """Per-user minimum gap between questions, across every process sharing the store: a
    user whose questions a load balancer spreads over workers still waits. While the store
    is unreachable, each process keeps the gap on its own (a user may then ask once per
    process within the gap) and says so once in the log."""

    def __init__(self, seconds: float, database: Database | None):
        self.seconds = seconds
        self._db = database
        self._local: dict[str, float] = {}
        self._lock = threading.Lock()
        self._admitted = 0

    def wait(self, user_key: str) -> float:
        """Seconds the user still has to wait (0 when they may ask now, which starts the clock)."""
        if self.seconds <= 0:
            return 0.0
        now = time.time()  # wall-clock time: hosts compare it (keep their clocks in sync, e.g. NTP)
        if self._db is not None:
            try:
                return self._shared_wait(user_key, now)
            except StoreUnavailable:
                pass  # logged by the store; keep the gap in this process meanwhile
        with self._lock:
            remaining = self._local.get(user_key, -1e18) + self.seconds - now
            if remaining > 0:
                return remaining
            self._local[user_key] = now
        return 0.0

    def _shared_wait(self, user_key: str, now: float) -> float:
        assert self._db is not None
        # One statement: start the clock if the gap has passed, and say whether it did.
        started = self._db.rows(
            "INSERT INTO cooldowns (user_key, at) VALUES (%s, %s) ON CONFLICT (user_key) "
            "DO UPDATE SET at = excluded.at WHERE cooldowns.at <= %s RETURNING at",
            (user_key, now, now - self.seconds))
        self._admitted += 1
        if self._admitted % PRUNE_EVERY == 0:
            self._db.run("DELETE FROM cooldowns WHERE at < %s", (now - self.seconds,))
        if started:
            return 0.0
        last = self._db.rows("SELECT at FROM cooldowns WHERE user_key = %s", (user_key,))
        return max(0.0, float(last[0][0]) + self.seconds - now) if last else 0.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
