"""The service every surface shares, on the real engine and a real SQLite file."""

from __future__ import annotations

import json

import pytest

from parley.bot import phrases
from parley.bot.answer import AnswerEngine
from parley.bot.service import Asked, Refused, Reindexed, Service, User, Wait
from parley.bot.state.votes import FeedbackStore
from parley.index.indexing.build import ChunkSettings
from parley.index.search.served import Reindexer, ReindexJob, ServedIndex
from tests import answers as scripted
from tests.helpers import CLAIM_LABELS

ALICE = User("slack", "U1")
CONTESTED = "Is open-weight AI from China a threat or an opportunity?"
OFF_TOPIC = "How do I bake sourdough bread?"


@pytest.fixture
def db(database):
    return database


@pytest.fixture
def feedback(database):
    return FeedbackStore(database)


def rows(db, sql: str) -> list[tuple]:
    return db.rows(sql)


def test_a_second_question_within_the_cooldown_is_told_to_wait(engine, feedback):
    service = Service(engine, None, feedback, cooldown_seconds=60)
    assert isinstance(service.ask(ALICE, "Who is Xue Lan?"), Asked)
    again = service.ask(ALICE, "Who is Xue Lan?")
    assert isinstance(again, Wait) and 59 < again.seconds <= 60
    assert again.text == "Please wait 60 s before asking again."
    # The clock is per person and platform.
    assert isinstance(service.ask(User("slack", "U2"), "Who is Xue Lan?"), Asked)
    assert isinstance(service.ask(User("discord", "U1"), "Who is Xue Lan?"), Asked)


def test_an_answer_is_recorded_for_its_vote_buttons_and_a_refusal_is_not(engine, feedback, db):
    service = Service(engine, None, feedback, cooldown_seconds=0)
    asked = service.ask(ALICE, CONTESTED)
    assert isinstance(asked, Asked) and asked.answer.answered and asked.answer_id
    [(platform, question, passage_ids)] = rows(db, "SELECT platform, question, passage_ids FROM answers")
    assert (platform, question) == ("slack", CONTESTED)
    assert json.loads(passage_ids) == [c.passage_id for c in asked.answer.citations]

    refused = service.ask(ALICE, OFF_TOPIC)
    assert isinstance(refused, Asked) and not refused.answer.answered and refused.answer_id is None
    assert len(rows(db, "SELECT * FROM answers")) == 1


def test_votes_land_in_sqlite_and_a_vote_on_an_unknown_answer_is_refused_kindly(engine, feedback, db):
    service = Service(engine, None, feedback, cooldown_seconds=0)
    asked = service.ask(ALICE, CONTESTED)
    up = service.vote(User("slack", "U7"), asked.answer_id, "up")
    framing = service.vote(User("slack", "U8"), asked.answer_id, "wrong_framing", 2)
    stale = service.vote(User("slack", "U9"), "000000000000", "down")
    assert (up.text, framing.text) == (phrases.VOTE_THANKS, phrases.VOTE_THANKS)
    assert (stale.stored, stale.text) == (False, phrases.VOTE_TOO_OLD)
    assert rows(db, "SELECT user_id, vote, passage_id FROM votes ORDER BY id") == [
        ("U7", "up", None), ("U8", "wrong_framing", asked.answer.citations[1].passage_id)]


def test_the_local_console_service_records_nothing(engine, tmp_path):
    service = Service(engine, None, None, cooldown_seconds=0)
    asked = service.ask(User("console", "local"), CONTESTED)
    assert asked.answer.answered and asked.answer_id is None
    assert list(tmp_path.iterdir()) == []


def test_a_non_admin_is_refused_a_reindex_and_nothing_is_built(index_copy, corpus_copy, embedder, feedback):
    engine = AnswerEngine(ServedIndex(index_copy))
    reindexer = Reindexer(engine.served, embedder, ReindexJob(corpus_copy, ChunkSettings(), CLAIM_LABELS))
    service = Service(engine, reindexer, feedback, cooldown_seconds=0)
    (corpus_copy / "extra.txt").write_text("---\ntitle: A note on lunar stations\n---\nA lunar research station "
                                           "would run on a small fission reactor through the long lunar night.\n")
    before = index_copy.current_version()

    for platform in ("discord", "slack"):
        refused = service.reindex(User(platform, "someone"), admin=False)
        assert refused == Refused(phrases.reindex_refused(platform))
    assert "Manage Server" in phrases.reindex_refused("discord")
    assert index_copy.current_version() == before

    done = service.reindex(User("slack", "UADMIN"), admin=True)
    assert isinstance(done, Reindexed) and done.report.documents == 6
    assert index_copy.current_version() != before
    answer = service.ask(ALICE, "How would a lunar station get power at night?").answer
    assert any("fission reactor" in citation.quote for citation in answer.citations)


def test_without_a_reindexer_even_an_admin_is_told_why_not(engine, feedback):
    service = Service(engine, None, feedback, cooldown_seconds=0)
    assert service.reindex(User("slack", "UADMIN"), admin=True) == Refused(phrases.REINDEX_UNAVAILABLE)


def test_more_asks_the_recorded_question_again_for_the_complete_answer(feedback, db):
    engine = scripted.scripted_engine()
    service = Service(engine, None, feedback, cooldown_seconds=60)
    asked = service.ask(ALICE, scripted.CONTESTED)
    bob = User("slack", "U2")
    more = service.more(bob, asked.answer_id)
    assert isinstance(more, Asked) and more.answer.complete and len(more.answer.citations) == 7
    assert engine.asked == [(scripted.CONTESTED, False), (scripted.CONTESTED, True)]
    assert more.answer_id not in (None, asked.answer_id)  # the complete answer gets votes of its own
    assert rows(db, "SELECT question FROM answers") == [(scripted.CONTESTED,)] * 2

    assert isinstance(service.more(bob, asked.answer_id), Wait)  # More is asking: the cooldown holds
    assert service.more(User("slack", "U3"), "000000000000") == Refused(phrases.MORE_GONE)
    assert service.ask(User("slack", "U4"), scripted.UNCOVERED).answer_id is None  # a refusal has nothing to expand
    assert Service(engine, None, None, cooldown_seconds=0).more(ALICE, asked.answer_id) == Refused(phrases.MORE_GONE)


def test_with_the_store_unreachable_questions_are_answered_and_votes_told_to_wait(engine):
    from parley.bot.state.database import open_database

    down = open_database("postgresql://parley@127.0.0.1:9/parley", None)  # nothing listens there
    try:
        service = Service(engine, None, FeedbackStore(down), cooldown_seconds=30)
        user = User("slack", "U1")
        asked = service.ask(user, CONTESTED)
        assert isinstance(asked, Asked) and asked.answer.answered and asked.answer_id is None  # no buttons
        assert isinstance(service.ask(user, CONTESTED), Wait)  # the cooldown, kept in this process meanwhile
        assert service.vote(user, "0123456789ab", "up").text == phrases.VOTE_UNAVAILABLE
        assert service.more(User("slack", "U2"), "0123456789ab") == Refused(phrases.STORE_UNAVAILABLE)
    finally:
        down.close()
