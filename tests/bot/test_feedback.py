"""The feedback store and its export, on a real SQLite file."""

import json
import sqlite3
import stat

import pytest

from parley.bot.feedback import FeedbackStore
from tests.helpers import run_parley


def test_votes_are_stored_with_question_passages_and_user(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    answer_id = store.record_answer("slack", "Is there a race?", ["p1", "p2", "p3"])
    assert store.record_vote(answer_id, "slack", "U1", "down")
    assert store.record_vote(answer_id, "slack", "U2", "wrong_framing", citation=3)
    assert not store.record_vote("000000000000", "slack", "U3", "up")
    votes = list(store.votes())
    assert [(v.user_id, v.vote, v.passage_id) for v in votes] == [("U1", "down", None), ("U2", "wrong_framing", "p3")]
    assert votes[0].question == "Is there a race?" and votes[0].passage_ids == ["p1", "p2", "p3"]
    store.close()


def test_sql_in_a_question_is_stored_as_text(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    evil = "x'); DROP TABLE votes; --"
    answer_id = store.record_answer("discord", evil, [])
    store.record_vote(answer_id, "discord", evil, "up")
    assert [v.question for v in store.votes()] == [evil]
    store.close()
    tables = sqlite3.connect(tmp_path / "f.sqlite3").execute("SELECT name FROM sqlite_master").fetchall()
    assert ("votes",) in tables


def test_export_writes_json_lines(tmp_path):
    db = tmp_path / "f.sqlite3"
    store = FeedbackStore(db)
    answer_id = store.record_answer("discord", "Q?", ["p1"])
    store.record_vote(answer_id, "discord", "42", "up")
    store.close()
    result = run_parley("feedback", "export", env={"PARLEY_FEEDBACK_DB": str(db)})
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [{"platform": "discord", "user_id": "42", "created_at": rows[0]["created_at"],
                     "question": "Q?", "passage_ids": ["p1"], "vote": "up", "passage_id": None}]


def test_purge_deletes_what_is_older_than_the_retention_period(tmp_path):
    db = tmp_path / "f.sqlite3"
    store = FeedbackStore(db)
    old = store.record_answer("slack", "Old question?", ["p1"])
    store.record_vote(old, "slack", "U1", "up")
    store.close()
    with sqlite3.connect(db) as connection:  # age the first answer and vote by 100 days
        connection.execute("UPDATE answers SET created_at = '2020-01-01T00:00:00+00:00'")
        connection.execute("UPDATE votes SET created_at = '2020-01-01T00:00:00+00:00'")
    store = FeedbackStore(db)
    fresh = store.record_answer("slack", "New question?", ["p2"])
    store.record_vote(fresh, "slack", "U2", "down")
    store.close()
    result = run_parley("feedback", "purge", env={"PARLEY_FEEDBACK_DB": str(db), "PARLEY_FEEDBACK_RETENTION_DAYS": "90"})
    assert result.returncode == 0, result.stderr
    assert "Deleted 1 votes and 1 answers" in result.stdout
    store = FeedbackStore(db)
    assert [v.question for v in store.votes()] == ["New question?"]
    store.close()


def test_seen_events_share_the_votes_file_and_each_event_is_claimed_once_across_connections(tmp_path):
    """Two bot processes behind a balancer are two connections to one file."""
    from parley.bot.feedback import SeenEvents

    db = tmp_path / "parley.sqlite3"
    store, first, second = FeedbackStore(db), SeenEvents(db), SeenEvents(db)
    assert first.claim("slack:C1:1700000000.000100")
    assert not second.claim("slack:C1:1700000000.000100")
    assert second.claim("slack:C1:1700000000.000200")
    first.remember_thread("C1:1700000000.000100")
    assert second.is_our_thread("C1:1700000000.000100") and not second.is_our_thread("C1:elsewhere")
    store.record_answer("slack", "Q?", [])
    for handle in (store, first, second):
        handle.close()
    tables = {name for (name,) in sqlite3.connect(db).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"answers", "votes", "seen_events", "our_threads"} <= tables


def test_the_question_of_a_recorded_answer_is_found_by_its_id(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    answer_id = store.record_answer("discord", "Is there a race?", ["p1"])
    assert store.question_of(answer_id) == "Is there a race?"
    assert store.question_of("000000000000") is None
    store.close()


def test_the_file_of_questions_and_user_ids_is_private_to_parleys_user(tmp_path):
    db = tmp_path / "made-by-parley" / "f.sqlite3"
    store = FeedbackStore(db)
    store.record_vote(store.record_answer("slack", "Q?", ["p1"]), "slack", "U1", "up")  # writes the WAL
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in db.parent.iterdir()}
    store.close()
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert modes["f.sqlite3"] == 0o600
    assert {modes[name] for name in ("f.sqlite3-wal", "f.sqlite3-shm")} == {0o600}


def test_purge_applies_retention_to_the_question_even_after_a_recent_vote(tmp_path):
    db = tmp_path / "f.sqlite3"
    store = FeedbackStore(db)
    old = store.record_answer("discord", "An old question?", ["p1"])
    store.close()
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE answers SET created_at = '2020-01-01T00:00:00+00:00'")
    store = FeedbackStore(db)
    store.record_vote(old, "discord", "7", "up")  # voted today on a question years old
    assert store.purge(90) == (1, 1)
    assert store.question_of(old) is None and list(store.votes()) == []
    store.close()


def test_one_vote_per_user_per_answer_and_the_latest_wins(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    answer = store.record_answer("discord", "Q?", ["p1", "p2"])
    for _ in range(5):
        store.record_vote(answer, "discord", "7", "up")
    store.record_vote(answer, "discord", "7", "down")
    store.record_vote(answer, "discord", "8", "up")
    store.record_vote(answer, "discord", "7", "wrong_framing", citation=1)
    store.record_vote(answer, "discord", "7", "wrong_framing", citation=1)
    store.record_vote(answer, "discord", "7", "wrong_framing", citation=2)
    votes = sorted((v.user_id, v.vote, v.passage_id) for v in store.votes())
    store.close()
    assert votes == [("7", "down", None), ("7", "wrong_framing", "p1"), ("7", "wrong_framing", "p2"),
                     ("8", "up", None)]


@pytest.mark.parametrize("days", ["nan", "inf", "1e308", "-3", "0"])
def test_purge_refuses_a_retention_that_is_not_a_number_of_days(tmp_path, days):
    result = run_parley("feedback", "purge", "--days", days, env={"PARLEY_FEEDBACK_DB": str(tmp_path / "f.sqlite3")})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.strip() == "parley: --days must be a number of days from 0 to 36,500 (100 years)"


def test_unanswered_questions_are_kept_only_when_asked_and_grouped_by_their_terms(engine, tmp_path):
    from parley.bot.service import Service, User

    db = tmp_path / "f.sqlite3"
    questions = ["what did elon musk say about the ai race with china", "does elon musk want a chip deal",
                 "how do I bake sourdough bread?", "Who is Xue Lan?"]
    for keep in (False, True):
        store = FeedbackStore(db)
        service = Service(engine, None, store, cooldown_seconds=0, log_unanswered=keep)
        for question in questions:
            service.ask(User("slack", "U1"), question)
        store.close()
    result = run_parley("feedback", "gaps", "--json", env={"PARLEY_FEEDBACK_DB": str(db),
                                                         "PARLEY_INDEX_DIR": str(engine.served.location.root)})
    assert result.returncode == 0, result.stderr
    gaps = json.loads(result.stdout)
    assert gaps["questions"] == 3  # once (the second pass), and the answerable question not at all
    # the words the corpus never uses come first: "elon" and "musk", asked twice each
    assert gaps["groups"][:2] == [{"term": "elon", "in_corpus": False, "questions": questions[:2]},
                                  {"term": "musk", "in_corpus": False, "questions": questions[:2]}]
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE unanswered SET created_at = '2020-01-01T00:00:00+00:00'")
    purge = run_parley("feedback", "purge", env={"PARLEY_FEEDBACK_DB": str(db), "PARLEY_FEEDBACK_RETENTION_DAYS": "90"})
    assert purge.returncode == 0 and "and 3 answers" in purge.stdout
    assert "No unanswered questions kept yet." in run_parley(
        "feedback", "gaps", env={"PARLEY_FEEDBACK_DB": str(db), "PARLEY_LOG_UNANSWERED": "true"}).stdout
