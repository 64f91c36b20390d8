"""Framing review through the service (what /review and `parley review` call): the queue,
the decision written to the labels file, and the next answer served with it, with nothing
re-embedded."""

from __future__ import annotations

import json

import pytest

from parley.bot import phrases
from parley.bot.answer import AnswerEngine
from parley.bot.service import Refused, Reviewed, Service, User
from parley.bot.state.votes import FeedbackStore
from parley.index.indexing.build import ChunkSettings
from parley.index.search.served import Reindexer, ReindexJob, ServedIndex
from tests.helpers import NeverEmbeds, flag_first_race_quote, race_quotes, run_parley

CURATOR = User("discord", "42")
QUESTION = "Should the US cooperate with China on AI safety, or race to beat it?"


@pytest.fixture
def reviewing(index_copy, corpus_copy, embedder, database) -> tuple[Service, FeedbackStore]:
    """A service over a private index and corpus copy (its own labels file)."""
    engine = AnswerEngine(ServedIndex(index_copy))
    reindexer = Reindexer(engine.served, NeverEmbeds(embedder),
                          ReindexJob(corpus_copy, ChunkSettings(), corpus_copy / "claim-labels.jsonl"))
    feedback = FeedbackStore(database)
    return Service(engine, reindexer, feedback, cooldown_seconds=0), feedback


def test_a_flagged_claim_comes_first_and_a_decision_is_served_without_re_embedding(reviewing, corpus_copy):
    service, feedback = reviewing
    flagged = flag_first_race_quote(service.engine, feedback, QUESTION)

    claim = service.next_claim(CURATOR, admin=True)
    assert claim.flags == 1 and claim.framing == "race" and claim.doc_id == flagged.doc_id
    assert claim.text in service.engine.served.retriever().index.documents[claim.doc_id].text

    result = service.review(CURATOR, admin=True, key=claim.key, framing="none")
    assert isinstance(result, Reviewed) and result.report.embedded == 0 and result.report.changed
    labels = [json.loads(line) for line in (corpus_copy / "claim-labels.jsonl").read_text().splitlines()]
    mine = [label for label in labels if label["key"] == claim.key]
    assert len(mine) == 1 and mine[0]["framing"] == "none" and mine[0]["reviewed_by"] == "discord:42"
    again = service.engine.ask(QUESTION, complete=True)
    assert not any(claim.text in quote for quote in race_quotes(again))  # no longer shown as a race claim
    assert service.next_claim(CURATOR, admin=True) is None or service.next_claim(CURATOR, admin=True).key != claim.key


def test_skip_moves_the_curator_on(reviewing, corpus_copy):
    service, feedback = reviewing
    answer = service.engine.ask(QUESTION)
    answer_id = feedback.record_answer("discord", QUESTION, [c.passage_id for c in answer.citations])
    for n in (1, 2):
        feedback.record_vote(answer_id, "discord", "7", "wrong_framing", citation=n)
    first = service.next_claim(CURATOR, admin=True)
    service.skip(CURATOR, first.key)
    assert service.next_claim(CURATOR, admin=True).key != first.key
    assert service.next_claim(User("slack", "U9"), admin=True).key == first.key  # skips are per curator


def test_only_admins_review(reviewing):
    service, _ = reviewing
    for platform, says in (("discord", "Manage Server"), ("slack", "Parley admins")):
        user = User(platform, "1")
        refused = service.next_claim(user, admin=False)
        assert isinstance(refused, Refused) and says in refused.text
        assert isinstance(service.review(user, admin=False, key="0" * 16, framing="race"), Refused)


def test_review_in_the_terminal(index_copy, corpus_copy, tmp_path):
    (corpus_copy / "note.txt").write_text("---\ntitle: A note\n---\nNegotiators met again in spring. "
                                          "Both sides said the talks on chips were cordial.\n")
    env = {"PARLEY_INDEX_DIR": str(index_copy.root), "PARLEY_CORPUS_DIR": str(corpus_copy),
           "PARLEY_FEEDBACK_DB": str(tmp_path / "f.sqlite3")}
    assert run_parley("index", "build", env=env).returncode == 0
    result = run_parley("review", env=env, input="s\nr\nq\n")
    assert result.returncode == 0, result.stderr
    # two sentences: the first skipped, the second labelled race; then nothing is left
    assert result.stdout.count("[r]ace, [c]ooperation, [n]either, [s]kip, [q]uit?") == 2
    assert "as race. Answers use it now (0 passages re-embedded)." in result.stdout
    labels = [json.loads(line) for line in (corpus_copy / "claim-labels.jsonl").read_text().splitlines()]
    assert labels[-1]["doc_id"] == "note" and labels[-1]["framing"] == "race"
    assert result.stdout.rstrip().endswith(phrases.REVIEW_EMPTY)


def test_decisions_from_many_curators_at_once_are_all_kept(tmp_path, engine):
    """Several bot processes write the same labels file: no decision may be lost."""
    import threading

    from parley.index.indexing.review import record_decision, review_queue

    labels = tmp_path / "claim-labels.jsonl"
    labels.write_text("")
    index = engine.served.retriever().index
    everything = {p.passage_id: 1 for p in index.passages[:12]}
    claims = review_queue(index, everything, limit=24)
    threads = [threading.Thread(target=record_decision, args=(labels, claim, "race"), kwargs={"reviewer": f"c{i}"})
               for i, claim in enumerate(claims)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = [json.loads(line) for line in labels.read_text().splitlines()]
    assert sorted(label["key"] for label in written) == sorted(claim.key for claim in claims)


def test_the_first_review_of_a_corpus_without_labels_creates_its_labels_file(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.txt").write_text("---\ntitle: A note\n---\nNegotiators met again in spring. "
                                     "Both sides said the talks on chips were cordial.\n")
    env = {"PARLEY_INDEX_DIR": str(tmp_path / "index"), "PARLEY_CORPUS_DIR": str(corpus),
           "PARLEY_FEEDBACK_DB": str(tmp_path / "f.sqlite3")}
    assert run_parley("index", "build", env=env).returncode == 0
    result = run_parley("review", env=env, input="c\nq\n")
    assert result.returncode == 0, result.stderr
    [label] = [json.loads(line) for line in (corpus / "claim-labels.jsonl").read_text().splitlines()]
    assert (label["doc_id"], label["framing"]) == ("note", "cooperation")


def test_reframing_a_claim_keeps_whose_words_it_gives_and_none_clears_them(tmp_path, engine):
    from parley.index.indexing.review import record_decision, review_queue

    index = engine.served.retriever().index
    [claim] = review_queue(index, {index.passages[0].passage_id: 1}, limit=1)
    labels = tmp_path / "claim-labels.jsonl"
    labels.write_text(json.dumps({"key": claim.key, "doc_id": claim.doc_id, "framing": "race", "speaker": "Xue Lan",
                                  "voice": "reported", "why": "", "text": claim.text}) + "\n")
    record_decision(labels, claim, "cooperation", reviewer="discord:42")
    [line] = [json.loads(x) for x in labels.read_text().splitlines()]
    assert (line["framing"], line["speaker"], line["voice"], line["reviewed_by"]) == (
        "cooperation", "Xue Lan", "reported", "discord:42")
    record_decision(labels, claim, "none", reviewer="discord:42")
    [line] = [json.loads(x) for x in labels.read_text().splitlines()]
    assert (line["framing"], line["speaker"], line["voice"]) == ("none", None, None)
