"""Answers as sent and the votes on them, shared by every chat process.

``FeedbackStore``: an answer is recorded when it is sent (its id goes into the buttons'
custom ids, so a vote or a More press still lands after a restart); a vote records who,
when, on which question and passages. The same statements run on SQLite or PostgreSQL
(``database.py``).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from parley.bot.state.database import Database

log = logging.getLogger(__name__)

Vote = Literal["up", "down", "wrong_framing"]
VOTES: tuple[Vote, ...] = ("up", "down", "wrong_framing")


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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
