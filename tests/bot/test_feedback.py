"""The feedback store and its export, on a real SQLite file and a real PostgreSQL database:
each test runs on both engines (``each_database``)."""

import json
import sqlite3
import stat
import threading

import pytest

from parley.bot.state.cooldown import SharedCooldown
from parley.bot.state.database import SCHEMA_VERSION, SqliteDatabase, open_database, schema_version
from parley.bot.state.events import SeenEvents
from parley.bot.state.votes import FeedbackStore
from tests.helpers import run_parley, store_env


def another_process(database):
    """A second connection to ``database``, as another bot process would open."""
    if isinstance(database, SqliteDatabase):
        return SqliteDatabase(database.path)
    return open_database(database.url, None)


def test_votes_are_stored_with_question_passages_and_user(each_database):
    store = FeedbackStore(each_database)
    answer_id = store.record_answer("slack", "Is there a race?", ["p1", "p2", "p3"])
    assert store.record_vote(answer_id, "slack", "U1", "down")
    assert store.record_vote(answer_id, "slack", "U2", "wrong_framing", citation=3)
    assert not store.record_vote("000000000000", "slack", "U3", "up")
    votes = list(store.votes())
    assert [(v.user_id, v.vote, v.passage_id) for v in votes] == [("U1", "down", None), ("U2", "wrong_framing", "p3")]
    assert votes[0].question == "Is there a race?" and votes[0].passage_ids == ["p1", "p2", "p3"]


def test_sql_in_a_question_is_stored_as_text(each_database):
    store = FeedbackStore(each_database)
    evil = "x'); DROP TABLE votes; --"
    answer_id = store.record_answer("discord", evil, [])
    store.record_vote(answer_id, "discord", evil, "up")
    assert [v.question for v in store.votes()] == [evil]
    assert each_database.rows("SELECT COUNT(*) FROM votes") == [(1,)]


def test_export_writes_json_lines(each_database):
    store = FeedbackStore(each_database)
    answer_id = store.record_answer("discord", "Q?", ["p1"])
    store.record_vote(answer_id, "discord", "42", "up")
    result = run_parley("feedback", "export", env=store_env(each_database))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [{"platform": "discord", "user_id": "42", "created_at": rows[0]["created_at"],
                     "question": "Q?", "passage_ids": ["p1"], "vote": "up", "passage_id": None}]


def test_purge_deletes_what_is_older_than_the_retention_period(each_database):
    store = FeedbackStore(each_database)
    old = store.record_answer("slack", "Old question?", ["p1"])
    store.record_vote(old, "slack", "U1", "up")
    each_database.run("UPDATE answers SET created_at = '2020-01-01T00:00:00+00:00'")  # 100 days and more ago
    each_database.run("UPDATE votes SET created_at = '2020-01-01T00:00:00+00:00'")
    fresh = store.record_answer("slack", "New question?", ["p2"])
    store.record_vote(fresh, "slack", "U2", "down")
    result = run_parley("feedback", "purge", env={**store_env(each_database), "PARLEY_FEEDBACK_RETENTION_DAYS": "90"})
    assert result.returncode == 0, result.stderr
    assert "Deleted 1 votes and 1 answers" in result.stdout
    assert "password" not in result.stdout
    assert [v.question for v in store.votes()] == ["New question?"]


def test_each_event_is_claimed_once_across_processes_sharing_the_store(each_database):
    """Two bot processes behind a balancer are two connections (pools) to one store."""
    other = another_process(each_database)
    first, second = SeenEvents(each_database), SeenEvents(other)
    assert first.claim("slack:C1:1700000000.000100")
    assert not second.claim("slack:C1:1700000000.000100")
    assert second.claim("slack:C1:1700000000.000200")
    first.remember_thread("C1:1700000000.000100")
    assert second.is_our_thread("C1:1700000000.000100") and not second.is_our_thread("C1:elsewhere")
    other.close()


def test_two_hundred_racing_claims_of_one_event_have_one_winner(each_database):
    events = SeenEvents(each_database)
    winners = []
    barrier = threading.Barrier(20)

    def claim() -> None:
        barrier.wait()
        for n in range(10):
            if events.claim(f"slack:C1:{n}"):
                winners.append(n)

    threads = [threading.Thread(target=claim) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(winners) == list(range(10))


def test_the_question_of_a_recorded_answer_is_found_by_its_id(each_database):
    store = FeedbackStore(each_database)
    answer_id = store.record_answer("discord", "Is there a race?", ["p1"])
    assert store.question_of(answer_id) == "Is there a race?"
    assert store.question_of("000000000000") is None


def test_the_file_of_questions_and_user_ids_is_private_to_parleys_user(tmp_path):
    db = tmp_path / "made-by-parley" / "f.sqlite3"
    store = FeedbackStore(SqliteDatabase(db))
    store.record_vote(store.record_answer("slack", "Q?", ["p1"]), "slack", "U1", "up")  # writes the WAL
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in db.parent.iterdir()}
    store.close()
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert modes["f.sqlite3"] == 0o600
    assert {modes[name] for name in ("f.sqlite3-wal", "f.sqlite3-shm")} == {0o600}


def test_purge_applies_retention_to_the_question_even_after_a_recent_vote(each_database):
    store = FeedbackStore(each_database)
    old = store.record_answer("discord", "An old question?", ["p1"])
    each_database.run("UPDATE answers SET created_at = '2020-01-01T00:00:00+00:00'")
    store.record_vote(old, "discord", "7", "up")  # voted today on a question years old
    assert store.purge(90) == (1, 1)
    assert store.question_of(old) is None and list(store.votes()) == []


def test_one_vote_per_user_per_answer_and_the_latest_wins(each_database):
    store = FeedbackStore(each_database)
    answer = store.record_answer("discord", "Q?", ["p1", "p2"])
    for _ in range(5):
        store.record_vote(answer, "discord", "7", "up")
    store.record_vote(answer, "discord", "7", "down")
    store.record_vote(answer, "discord", "8", "up")
    store.record_vote(answer, "discord", "7", "wrong_framing", citation=1)
    store.record_vote(answer, "discord", "7", "wrong_framing", citation=1)
    store.record_vote(answer, "discord", "7", "wrong_framing", citation=2)
    votes = sorted((v.user_id, v.vote, v.passage_id) for v in store.votes())
    assert votes == [("7", "down", None), ("7", "wrong_framing", "p1"), ("7", "wrong_framing", "p2"),
                     ("8", "up", None)]


def test_the_cooldown_is_shared_by_every_process_on_the_store(each_database):
    other = another_process(each_database)
    here, there = SharedCooldown(30, each_database), SharedCooldown(30, other)
    assert here.wait("slack:U1") == 0
    assert 29 < there.wait("slack:U1") <= 30  # the same user, through another process
    assert there.wait("slack:U2") == 0
    other.close()


def test_a_file_of_the_first_schema_is_migrated_and_keeps_its_votes(tmp_path):
    """A SQLite file written before schema versions (votes without slots, a user's
    double vote from the delete-then-insert days) opens, migrates, and keeps what it held."""
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as old:
        old.executescript("""
            CREATE TABLE answers (answer_id TEXT PRIMARY KEY, platform TEXT NOT NULL, question TEXT NOT NULL,
                                  passage_ids TEXT NOT NULL, created_at TEXT NOT NULL);
            CREATE TABLE votes (id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT NULL, platform TEXT NOT NULL,
                                user_id TEXT NOT NULL, vote TEXT NOT NULL, passage_id TEXT, created_at TEXT NOT NULL);
            INSERT INTO answers VALUES ('a1', 'slack', 'Q?', '["p1"]', '2026-11-01T00:00:00+00:00');
            INSERT INTO votes VALUES (1, 'a1', 'slack', 'U1', 'up', NULL, '2026-11-01T00:00:01+00:00');
            INSERT INTO votes VALUES (2, 'a1', 'slack', 'U1', 'down', NULL, '2026-11-01T00:00:02+00:00');
            INSERT INTO votes VALUES (3, 'a1', 'slack', 'U2', 'wrong_framing', 'p1', '2026-11-01T00:00:03+00:00');
        """)
    database = SqliteDatabase(path)
    assert schema_version(database) == SCHEMA_VERSION
    store = FeedbackStore(database)
    assert [(v.user_id, v.vote) for v in store.votes()] == [("U1", "down"), ("U2", "wrong_framing")]
    store.record_vote("a1", "slack", "U1", "up")
    assert [(v.user_id, v.vote) for v in store.votes()] == [("U2", "wrong_framing"), ("U1", "up")]
    store.close()
    assert schema_version(SqliteDatabase(path)) == SCHEMA_VERSION  # opening again migrates nothing


def test_a_schema_newer_than_this_parley_is_refused_with_a_clear_message(each_database):
    each_database.run("UPDATE parley_schema SET version = %s", (SCHEMA_VERSION + 1,))
    from parley.index.errors import ParleyError

    with pytest.raises(ParleyError, match="newer than this Parley"):
        reopened = another_process(each_database)
        reopened.rows("SELECT 1")


@pytest.mark.parametrize("days", ["nan", "inf", "1e308", "-3", "0"])
def test_purge_refuses_a_retention_that_is_not_a_number_of_days(tmp_path, days):
    result = run_parley("feedback", "purge", "--days", days, env={"PARLEY_FEEDBACK_DB": str(tmp_path / "f.sqlite3")})
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.strip() == "parley: --days must be a number of days from 0 to 36,500 (100 years)"


def test_unanswered_questions_are_kept_only_when_asked_and_grouped_by_their_terms(engine, each_database):
    from parley.bot.service import Service, User

    questions = ["what did elon musk say about the ai race with china", "does elon musk want a chip deal",
                 "how do I bake sourdough bread?", "Who is Xue Lan?"]
    store = FeedbackStore(each_database)
    for keep in (False, True):
        service = Service(engine, None, store, cooldown_seconds=0, log_unanswered=keep)
        for question in questions:
            service.ask(User("slack", "U1"), question)
    env = {**store_env(each_database), "PARLEY_INDEX_DIR": str(engine.served.location.root)}
    result = run_parley("feedback", "gaps", "--json", env=env)
    assert result.returncode == 0, result.stderr
    gaps = json.loads(result.stdout)
    assert gaps["questions"] == 3  # once (the second pass), and the answerable question not at all
    # the words the corpus never uses come first: "elon" and "musk", asked twice each
    assert gaps["groups"][:2] == [{"term": "elon", "in_corpus": False, "questions": questions[:2]},
                                  {"term": "musk", "in_corpus": False, "questions": questions[:2]}]
    each_database.run("UPDATE unanswered SET created_at = '2020-01-01T00:00:00+00:00'")
    purge = run_parley("feedback", "purge", env={**env, "PARLEY_FEEDBACK_RETENTION_DAYS": "90"})
    assert purge.returncode == 0 and "and 3 answers" in purge.stdout
    assert "No unanswered questions kept yet." in run_parley(
        "feedback", "gaps", env={**store_env(each_database), "PARLEY_LOG_UNANSWERED": "true"}).stdout


def test_an_unreachable_database_fails_fast_and_never_shows_its_password(caplog):
    from parley.bot.state.database import StoreUnavailable

    database = open_database("postgresql://parley:s3cret-pw@127.0.0.1:9/parley", None)
    try:
        for attempt in range(2):
            with pytest.raises(StoreUnavailable) as raised:
                SeenEvents(database).claim(f"k{attempt}")
            assert "s3cret-pw" not in str(raised.value) and "parley:***@127.0.0.1:9" in str(raised.value)
    finally:
        database.close()
    assert caplog.text.count("unreachable") == 1  # one warning per outage, not one per use
    assert "s3cret-pw" not in caplog.text


def test_the_database_url_is_a_secret_in_settings():
    from parley.bot.settings import load_settings

    settings = load_settings(database_url="postgresql://parley:s3cret-pw@db/parley")
    assert "s3cret-pw" not in repr(settings) and "s3cret-pw" not in str(settings)


def test_a_database_user_without_rights_to_create_tables_gets_one_clear_message(postgres_server):
    import psycopg

    from parley.index.errors import ParleyError

    url = postgres_server.new_database()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS parley_reader")
        admin.execute("CREATE ROLE parley_reader LOGIN")
    database = open_database(url.replace("postgresql://postgres@", "postgresql://parley_reader@"), None)
    try:
        with pytest.raises(ParleyError, match="could not create or migrate its tables"):
            database.rows("SELECT 1")
    finally:
        database.close()


def test_a_database_url_of_another_engine_is_one_clear_line():
    result = run_parley("feedback", "export", env={"PARLEY_DATABASE_URL": "mysql://parley:s3cret-pw@db/parley"})
    assert result.returncode == 1
    assert result.stderr.strip() == ("parley: database_url must start with postgresql:// (it starts with mysql:). "
                                     "Leave it empty to keep the shared state in the SQLite file feedback_db.")
