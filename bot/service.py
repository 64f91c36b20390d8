"""What every surface does, once: per-user cooldown, ask, record the answer for its vote
and More buttons; the complete answer behind More; sources; votes; re-index and framing
review for admins.

Adapters (Discord, Slack, the console) only parse a platform event, call one of these,
render what comes back and send it. The methods block (the answer core is CPU work):
async or ack-bound adapters call them from a thread pool of their own. Failures are raised,
and each adapter's one error hook turns them into ``phrases.user_message``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from parley.bot import phrases
from parley.bot.answer import Answer, AnswerEngine, PointSummary, SourceSummary
from parley.bot.state.cooldown import SharedCooldown
from parley.bot.state.database import StoreUnavailable
from parley.bot.state.votes import FeedbackStore, Vote
from parley.index import BuildLockedError, ClaimFraming, ParleyError

if TYPE_CHECKING:
    from parley.index import BuildReport, ClaimToReview, Reindexer, VersionFollower

log = logging.getLogger("parley.service")


@dataclass(frozen=True)
class User:
    """Who is asking, and where: votes and cooldowns are per platform and user."""

    platform: str
    user_id: str


@dataclass(frozen=True)
class Asked:
    """An answer, and the id its vote buttons carry (``None``: no buttons, e.g. a refusal)."""

    answer: Answer
    answer_id: str | None


@dataclass(frozen=True)
class Wait:
    """The user asked again too soon."""

    seconds: float

    @property
    def text(self) -> str:
        return phrases.wait(self.seconds)


@dataclass(frozen=True)
class Voted:
    stored: bool  # False: the answer is unknown (purged, or too old), or the store is down
    unavailable: bool = False  # the shared store could not be reached: try again later

    @property
    def text(self) -> str:
        return phrases.VOTE_UNAVAILABLE if self.unavailable else phrases.vote_recorded(self.stored)


@dataclass(frozen=True)
class Reindexed:
    report: BuildReport


@dataclass(frozen=True)
class Reviewed:
    """A curator's framing decision, written and served."""

    claim: ClaimToReview
    framing: ClaimFraming
    report: BuildReport

    @property
    def text(self) -> str:
        return phrases.reviewed(self.claim.text, self.framing, self.report.embedded)


@dataclass(frozen=True)
class Refused:
    """Not done, and why, in words for the user (not an admin; a re-index already running)."""

    text: str


@dataclass(frozen=True)
class Ready:
    """What is served: for start-up checks and logs."""

    passages: int
    directory: Path


class Service:
    """One per process, shared by whatever surface runs there.

    ``feedback=None`` (the local console): answers are not recorded, as there are no buttons
    to vote with. ``reindexer=None``: this process cannot re-index.

    Cooldowns live in the feedback store's database, so every process sharing it keeps the
    same gap. While that store is unreachable, questions are still answered: without vote
    buttons, with the cooldown kept in this process, and a vote says to try again later.
    """

    def __init__(self, engine: AnswerEngine, reindexer: Reindexer | None, feedback: FeedbackStore | None,
                 *, cooldown_seconds: float, log_unanswered: bool = False, follower: VersionFollower | None = None):
        self.engine = engine
        self.reindexer = reindexer
        self.feedback = feedback
        self.cooldown = SharedCooldown(cooldown_seconds, feedback.database if feedback else None)
        self._skipped: dict[User, set[str]] = {}
        self.log_unanswered = log_unanswered
        self.follower = follower  # hosts sharing a database: keeps this one on the published version

    def ready(self) -> Ready:
        """Load the query encoder and the index now; raises ``ParleyError`` when there is none."""
        index = self.engine.served.retriever().index
        return Ready(len(index.passages), index.directory)

    def warm_up(self) -> None:
        """Load before going online; without an index, still start (users then get a visible
        "index missing" message and an admin can /reindex)."""
        if self.follower is not None:
            self.follower.start()  # catches up first if another host published a newer version
        try:
            self.ready()
        except ParleyError as error:
            log.warning("starting without an index: %s", error)

    def admit(self, user: User) -> Wait | None:
        """The cooldown alone, for surfaces that must acknowledge before answering."""
        seconds = self.cooldown.wait(f"{user.platform}:{user.user_id}")
        return Wait(seconds) if seconds else None

    def answer(self, user: User, question: str) -> Asked:
        """Answer an admitted question and record it for its vote buttons."""
        answer = self.engine.ask(question)
        return Asked(answer, self._record(user, answer))

    def ask(self, user: User, question: str) -> Asked | Wait:
        """Cooldown, then answer and record."""
        return self.admit(user) or self.answer(user, question)

    def more(self, user: User, answer_id: str) -> Asked | Wait | Refused:
        """The More button: the recorded question of answer ``answer_id`` asked again for the
        complete answer (every relevant quote), after the presser's cooldown."""
        try:
            question = self.feedback.question_of(answer_id) if self.feedback else None
        except StoreUnavailable:
            return Refused(phrases.STORE_UNAVAILABLE)
        if question is None:
            return Refused(phrases.MORE_GONE)
        wait = self.admit(user)
        if wait:
            return wait
        answer = self.engine.ask(question, complete=True)
        return Asked(answer, self._record(user, answer))

    def sources(self) -> list[SourceSummary]:
        return self.engine.sources()

    def points(self) -> list[PointSummary]:
        return self.engine.points()

    def point(self, point_id: str) -> Answer | Refused:
        """Both sides of one point of the debate map, or why not (an unknown id)."""
        answer = self.engine.point(point_id)
        return answer if answer is not None else Refused(phrases.unknown_point(point_id))

    def vote(self, user: User, answer_id: str, vote: Vote, citation: int | None = None) -> Voted:
        """A 👍/👎, or "wrong framing" on citation number ``citation``."""
        if self.feedback is None:
            return Voted(False)
        try:
            return Voted(self.feedback.record_vote(answer_id, user.platform, user.user_id, vote, citation))
        except StoreUnavailable:
            return Voted(False, unavailable=True)

    def may_reindex(self, user: User, *, admin: bool) -> Refused | None:
        """``admin`` is a platform fact the adapter knows (a role, a permission, a user list)."""
        if not admin:
            return Refused(phrases.reindex_refused(user.platform))
        if self.reindexer is None:
            return Refused(phrases.REINDEX_UNAVAILABLE)
        return None

    def reindex(self, user: User, *, admin: bool) -> Reindexed | Refused:
        """Build incrementally and serve the result; answers go on meanwhile."""
        refused = self.may_reindex(user, admin=admin)
        if refused or self.reindexer is None:
            return refused or Refused(phrases.REINDEX_UNAVAILABLE)
        try:
            return Reindexed(self.reindexer.run())
        except BuildLockedError:
            return Refused(phrases.REINDEX_RUNNING)

    # -- framing review ------------------------------------------------------------------
    def next_claim(self, user: User, *, admin: bool) -> ClaimToReview | Refused | None:
        """The next claim for this curator to review (``None``: the queue is empty)."""
        refused = self._may_review(user, admin=admin)
        if refused:
            return refused
        from parley.index import review_queue

        try:
            flagged = self.feedback.flagged_passages() if self.feedback else {}
        except StoreUnavailable:
            flagged = {}  # the queue without users' flags until the store is back
        queue = review_queue(self.engine.served.retriever().index, flagged, skip=self._skipped.get(user, ()))
        return queue[0] if queue else None

    def skip(self, user: User, key: str) -> None:
        """Not this one (for now): the curator's next claim is another."""
        self._skipped.setdefault(user, set()).add(key)

    def review(self, user: User, *, admin: bool, key: str, framing: ClaimFraming) -> Reviewed | Refused:
        """Record a curator's framing for the claim ``key`` and serve it: a rebuild that
        re-embeds nothing, since only labels changed."""
        refused = self._may_review(user, admin=admin)
        if refused:
            return refused
        from parley.index import find_claim, record_decision

        claim = find_claim(self.engine.served.retriever().index, key)
        if claim is None:
            return Refused(phrases.REVIEW_GONE)
        assert self.reindexer is not None and self.reindexer.job.claim_labels is not None  # _may_review checked
        record = record_decision(self.reindexer.job.claim_labels, claim, framing,
                                 reviewer=f"{user.platform}:{user.user_id}")
        if self.feedback is not None and self.reindexer.registry is not None:
            # Hosts with labels files of their own get it through the database (their builds
            # write it into their file first: wiring.sync_decisions). A decision that cannot
            # reach it would make this host's versions differ from theirs: not built then.
            try:
                self.feedback.record_decision(record)
            except StoreUnavailable:
                return Refused(phrases.REVIEW_SAVED_STORE_DOWN)
        try:
            return Reviewed(claim, framing, self.reindexer.run())
        except BuildLockedError:
            return Refused(phrases.REVIEW_SAVED_BUILD_RUNNING)

    def _may_review(self, user: User, *, admin: bool) -> Refused | None:
        if not admin:
            return Refused(phrases.review_refused(user.platform))
        if self.reindexer is None or self.reindexer.job.claim_labels is None:
            return Refused(phrases.REVIEW_UNAVAILABLE)
        return None

    def _record(self, user: User, answer: Answer) -> str | None:
        """The id the answer's buttons carry; ``None`` (no buttons) when nothing can be
        voted on, or the store is unreachable (the answer is sent all the same)."""
        try:
            if self.feedback is not None and self.log_unanswered and answer.kind == "not_covered":
                self.feedback.record_unanswered(user.platform, answer.question)
            if self.feedback is None or not answer.answered:
                return None
            return self.feedback.record_answer(user.platform, answer.question,
                                               [c.passage_id for c in answer.citations])
        except StoreUnavailable:
            return None
