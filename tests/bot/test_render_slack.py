"""Block Kit rendering over many real answers: valid blocks, limits, escaping, whole quotes."""

import json
from dataclasses import replace

import pytest

from parley.bot.answer import Answer, AnswerEngine, Citation, Perspective
from parley.bot.answer.compose import AnswerSettings
from parley.bot.measure.evaluate import load_questions
from parley.bot.render.slack_blocks import escape, render_answer, render_sources
from tests.fakes.slack import blocks_problem
from tests.helpers import EVAL_DIR, PROJECT_DIR


@pytest.fixture(scope="module")
def answers(engine):
    wordy = AnswerEngine(engine.served, replace(AnswerSettings(), per_framing=10, max_citations=25, max_quote_words=200))
    questions = load_questions(EVAL_DIR / "calibration.jsonl")
    return [engine.ask(q.q) for q in questions] + [wordy.ask(q.q) for q in questions]


def test_every_message_is_valid_block_kit_within_limits(answers):
    for answer in answers:
        for message in render_answer(answer, "0123456789ab"):  # render_answer validates with slack_sdk
            assert blocks_problem(message.blocks) is None


def test_every_quote_appears_whole(answers):
    for answer in answers:
        wire = " ".join(json.dumps(m.blocks, ensure_ascii=False) for m in render_answer(answer, "0123456789ab"))
        for citation in answer.citations:
            assert json.dumps(escape(" ".join(citation.quote.split())), ensure_ascii=False)[1:-1] in wire


def test_more_than_fifty_blocks_are_split_into_several_messages():
    citations = [Citation(n, f"p{n}", "d", f"T{n}", "P", None, "Quote " + "word " * 500, 0, 10, "race", 1.0)
                 for n in range(1, 61)]
    answer = Answer("q", True, [Perspective("race", list(range(1, 61)))], citations, "tally")
    messages = render_answer(answer, "0123456789ab")
    assert len(messages) >= 2
    assert all(len(m.blocks) <= 50 and blocks_problem(m.blocks) is None for m in messages)


def test_pings_and_markup_from_the_corpus_are_escaped():
    citation = Citation(1, "p", "d", "<!channel> title", "P & Q", None, "Say <!here> and <@U1> & more", 0, 1, "race", 1.0)
    answer = Answer("<!channel> why?", True, [Perspective("race", [1])], [citation], "t")
    wire = json.dumps([m.__dict__ for m in render_answer(answer, "0123456789ab")])
    assert "<!channel>" not in wire and "<!here>" not in wire and "<@U1>" not in wire
    assert "&lt;!here&gt;" in wire and "P &amp; Q" in wire


def test_sources_and_manifest(engine):
    wire = json.dumps([m.blocks for m in render_sources(engine.sources())])
    for source in engine.sources():
        assert escape(source.title) in wire
    manifest = json.loads((PROJECT_DIR / "config" / "slack-manifest.json").read_text())
    assert {c["command"] for c in manifest["features"]["slash_commands"]} == {"/ask", "/sources", "/reindex"}
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert {"app_mention", "message.im"} <= set(manifest["settings"]["event_subscriptions"]["bot_events"])
