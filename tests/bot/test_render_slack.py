"""Block Kit rendering over many real answers: valid blocks, limits, escaping, whole quotes."""

import json
from dataclasses import replace

import pytest

from parley.bot.answer import Answer, AnswerEngine, Citation, Perspective, SourceSummary
from parley.bot.answer.compose import AnswerSettings
from parley.bot.measure.evaluate import load_questions
from parley.bot.render.slack_blocks import escape, render_answer, render_sources
from tests.answers import NOT_ENGLISH, contested, contested_complete, not_english, uncovered
from tests.fakes.slack import blocks_problem
from tests.helpers import EVAL_DIR, PROJECT_DIR


@pytest.fixture(scope="module")
def answers(engine):
    wordy = AnswerEngine(engine.served, replace(AnswerSettings(), max_quote_words=200))
    questions = load_questions(EVAL_DIR / "calibration.jsonl")
    return [engine.ask(q.q) for q in questions] + [wordy.ask(q.q, complete=True) for q in questions]


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
    assert {c["command"] for c in manifest["features"]["slash_commands"]} == {"/ask", "/sources", "/points", "/reindex", "/review"}
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert {"app_mention", "message.im"} <= set(manifest["settings"]["event_subscriptions"]["bot_events"])


def test_a_hand_built_answer_reads_section_by_section_with_sources_grouped_by_document():
    [message] = render_answer(contested(), "0123456789ab")
    assert [b["type"] for b in message.blocks] == ["header", "section", "section", "section", "context", "section",
                                                   "actions"]
    sections = [b["text"]["text"] for b in message.blocks if b["type"] == "section"]
    assert sections[0] == ("*From the corpus*\n> “Open-weight models from China are now close to the frontier.” "
                           "<https://example.org/letter|[1]>")  # unreviewed, but not a framing
    assert sections[1] == (
        "*Race framing*\n"
        "> “China will not slow down for anyone. … The race is already on.” <https://example.org/summit|[2]>"
        " — Xue Lan (Podcast digest)\n"
        "> “Washington sees a geopolitical foot race.” <https://example.org/letter|[3]> _(framing not reviewed)_")
    assert sections[3] == ("*Sources*\n[1][3] <https://example.org/letter|The open letter> — Axios\n"
                           "[2] <https://example.org/summit|The Beijing summit> — Podcast digest\n"
                           "[4] A cooperation brief — Brookings")
    tally, more = (e["text"] for e in message.blocks[4]["elements"])
    assert tally == "2 passages frame this as a race, 1 as cooperation."
    assert more.startswith("On this point the corpus holds 2 more passages with the race framing")
    assert more.endswith("Press More to see them all (only you will see them).")
    buttons = message.blocks[-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["parley_vote_up", "parley_vote_down", "parley_more",
                                                 "parley_wrong_framing"]
    assert buttons[2]["value"] == "0123456789ab" and buttons[2]["text"]["text"] == "More"
    assert "Press More" in message.text and "parley ask" not in message.text  # the fallback agrees


def test_the_more_button_comes_only_with_more_to_show():
    for answer in (contested(more={"race": 0, "cooperation": 0}), contested_complete()):
        [message] = render_answer(answer, "0123456789ab")
        actions = next(b for b in message.blocks if b["type"] == "actions")
        assert "parley_more" not in [e["action_id"] for e in actions["elements"]]
        assert "Press More" not in json.dumps(message.blocks)


def test_refusals_by_kind_have_no_buttons_and_say_why():
    [uncovered_message] = render_answer(uncovered(), "0123456789ab")
    assert [b["type"] for b in uncovered_message.blocks] == ["header", "section"]
    assert "The corpus doesn't mention Taiwan or TSMC." in uncovered_message.blocks[1]["text"]["text"]
    [foreign] = render_answer(not_english(), "0123456789ab")
    assert [b["type"] for b in foreign.blocks] == ["header", "section"]
    assert f'"{NOT_ENGLISH}"' in foreign.blocks[1]["text"]["text"] and "in English" in foreign.text


UNSAFE_URLS = ["https://x.org/a|<!channel>", "https://x.org/<!here>", "javascript:alert(1)", "https://x.org/a b"]


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_a_url_that_would_break_out_of_its_link_is_left_out(url):
    citation = Citation(1, "p", "d", "Title", "P", url, "A quote.", 0, 1, "race", 1.0)
    answer = Answer("why?", True, [Perspective("race", [1])], [citation], "t")
    source = SourceSummary("d", "Title", "P", url, None, 1, {"race": 1})
    wire = json.dumps([m.blocks for m in render_answer(answer, "0123456789ab") + render_sources([source])])
    assert "<!" not in wire and url not in wire and "Title" in wire


def test_a_safe_url_is_a_link_with_its_ampersands_escaped():
    url = "https://example.org/a?b=1&c=2"
    citation = Citation(1, "p", "d", "Title", "P", url, "A quote.", 0, 1, "race", 1.0)
    answer = Answer("why?", True, [Perspective("race", [1])], [citation], "t")
    wire = json.dumps([m.blocks for m in render_answer(answer, "0123456789ab")])
    assert "<https://example.org/a?b=1&amp;c=2|[1]>" in wire
