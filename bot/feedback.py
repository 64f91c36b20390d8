"""Parley's one SQLite file, shared by every adapter and every bot process on a volume.

``FeedbackStore``: an answer is recorded when it is sent (its id goes into the buttons'
custom ids, so a vote or a More press still lands after a restart); a vote records who,
when, on which question and passages. ``SeenEvents``: a retried or doubly delivered chat
event is answered once, even when a load balancer hands the copies to different processes.

Both open the file through ``_connect`` (WAL, so several processes write safely; a busy
timeout, so they wait for each other instead of failing). Every statement is
parameterised: nothing from a message is ever spliced into SQL. The file holds users'
questions and ids: Parley creates it readable by its own user only (0600, and SQLite gives
its -wal and -shm files the same mode), in a folder of mode 0700 when it makes the folder.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

Vote = Literal["up", "down", "wrong_framing"]
VOTES: tuple[Vote, ...] = ("up", "down", "wrong_framing")
SEEN_FOR_SECONDS = 24 * 3600  # how long a claimed event or request key is remembered
PRUNE_EVERY = 500  # claims between two deletions of older keys
MAX_RETENTION_DAYS = 36_500  # 100 years: more is a typo, and would overflow the date arithmetic

_FEEDBACK_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    answer_id   TEXT PRIMARY KEY,
    platform    TEXT NOT NULL,
    question    TEXT NOT NULL,
    passage_ids TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS unanswered (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    platform    TEXT NOT NULL,
    question    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS votes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id   TEXT NOT NULL REFERENCES answers(answer_id),
    platform    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    vote        TEXT NOT NULL CHECK (vote IN ('up', 'down', 'wrong_framing')),
    passage_id  TEXT,
    created_at  TEXT NOT NULL
);
"""
_SEEN_SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_events (key TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS our_threads (key TEXT PRIMARY KEY, at REAL NOT NULL);
"""


def _connect(path: Path, schema: str) -> sqlite3.Connection:
    """A connection to the shared file, its tables created if missing. Autocommit: each
    statement is its own transaction, so no process holds the write lock for long."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))  # an existing file keeps its mode
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA busy_timeout=5000")
    connection.executescript(schema)
    return connection


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
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self._db = _connect(path, _FEEDBACK_SCHEMA)

    def record_answer(self, platform: str, question: str, passage_ids: list[str]) -> str:
        """Remember a sent answer; returns the id its vote buttons carry."""
        answer_id = secrets.token_hex(6)
        with self._lock:
            self._db.execute(
                "INSERT INTO answers (answer_id, platform, question, passage_ids, created_at) VALUES (?, ?, ?, ?, ?)",
                (answer_id, platform, question, json.dumps(passage_ids), _now()),
            )
        return answer_id

    def question_of(self, answer_id: str) -> str | None:
        """The question a sent answer answered (for its More button); ``None`` when the
        answer is unknown (e.g. purged)."""
        with self._lock:
            row = self._db.execute("SELECT question FROM answers WHERE answer_id = ?", (answer_id,)).fetchone()
        return row[0] if row else None

    def record_vote(self, answer_id: str, platform: str, user_id: str, vote: Vote,
                    citation: int | None = None) -> bool:
        """Store a vote (``citation``: the number of the quote a "wrong framing?" vote is
        about); ``False`` when the answer is unknown (e.g. purged)."""
        if vote not in VOTES:
            raise ValueError(f"unknown vote {vote!r}")
        with self._lock:
            row = self._db.execute("SELECT passage_ids FROM answers WHERE answer_id = ?", (answer_id,)).fetchone()
            if not row:
                return False
            cited = json.loads(row[0])
            passage_id = cited[citation - 1] if citation and 0 < citation <= len(cited) else None
            # One vote per user per answer (per quote, for "wrong framing?"): the latest
            # click replaces the earlier one, in one transaction across processes.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if vote == "wrong_framing":
                    self._db.execute(
                        "DELETE FROM votes WHERE answer_id = ? AND platform = ? AND user_id = ? "
                        "AND vote = 'wrong_framing' AND passage_id IS ?", (answer_id, platform, user_id, passage_id))
                else:
                    self._db.execute(
                        "DELETE FROM votes WHERE answer_id = ? AND platform = ? AND user_id = ? "
                        "AND vote IN ('up', 'down')", (answer_id, platform, user_id))
                self._db.execute(
                    "INSERT INTO votes (answer_id, platform, user_id, vote, passage_id, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)", (answer_id, platform, user_id, vote, passage_id, _now()))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return True

    def record_unanswered(self, platform: str, question: str) -> None:
        """A question refused as not covered (only with ``log_unanswered``)."""
        with self._lock:
            self._db.execute("INSERT INTO unanswered (platform, question, created_at) VALUES (?, ?, ?)",
                             (platform, question, _now()))

    def unanswered(self) -> list[str]:
        """The kept unanswered questions, oldest first."""
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT question FROM unanswered ORDER BY id").fetchall()]

    def flagged_passages(self) -> dict[str, int]:
        """Passage id -> how many "wrong framing" votes its quotes got: the review queue's head."""
        with self._lock:
            rows = self._db.execute("SELECT passage_id, COUNT(*) FROM votes WHERE vote = 'wrong_framing' "
                                    "AND passage_id IS NOT NULL GROUP BY passage_id").fetchall()
        return dict(rows)

    def votes(self) -> Iterator[VoteRecord]:
        """Every vote with its question and cited passages, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT v.platform, v.user_id, v.created_at, a.question, a.passage_ids, v.vote, v.passage_id "
                "FROM votes v JOIN answers a ON a.answer_id = v.answer_id ORDER BY v.id"
            ).fetchall()
        for platform, user_id, created_at, question, passage_ids, vote, passage_id in rows:
            yield VoteRecord(platform, user_id, created_at, question, json.loads(passage_ids), vote, passage_id)

    def purge(self, older_than_days: float) -> tuple[int, int]:
        """Delete questions (answered, or kept unanswered) and votes older than
        ``older_than_days``, and the votes on a deleted answer however recent; (questions,
        votes) removed."""
        cutoff = (datetime.now(UTC) - timedelta(days=older_than_days)).isoformat(timespec="seconds")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                votes = self._db.execute(
                    "DELETE FROM votes WHERE created_at < ? OR answer_id IN "
                    "(SELECT answer_id FROM answers WHERE created_at < ?)", (cutoff, cutoff)).rowcount
                answers = self._db.execute("DELETE FROM answers WHERE created_at < ?", (cutoff,)).rowcount
                answers += self._db.execute("DELETE FROM unanswered WHERE created_at < ?", (cutoff,)).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return answers, votes

    def close(self) -> None:
        with self._lock:
            self._db.close()


class SeenEvents:
    """Chat events already taken, and the threads Parley answers in (so a follow-up there
    is a question for Parley), in the same file as the votes."""

    def __init__(self, path: Path):
        self._lock = threading.Lock()
        self._db = _connect(path, _SEEN_SCHEMA)
        self._claims = 0

    def claim(self, key: str) -> bool:
        """``True`` for the first caller with this key, in any process sharing the file."""
        now = time.time()
        with self._lock:
            cursor = self._db.execute("INSERT OR IGNORE INTO seen_events (key, at) VALUES (?, ?)", (key, now))
            self._claims += 1
            if self._claims % PRUNE_EVERY == 0:  # Slack stops retrying within hours: keep a day
                self._db.execute("DELETE FROM seen_events WHERE at < ?", (now - SEEN_FOR_SECONDS,))
        return cursor.rowcount == 1

    def remember_thread(self, key: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO our_threads (key, at) VALUES (?, ?)", (key, time.time()))

    def is_our_thread(self, key: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM our_threads WHERE key = ?", (key,)).fetchone() is not None

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
