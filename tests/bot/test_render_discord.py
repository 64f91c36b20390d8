"""Discord rendering is pure: check it over many real answers against Discord's limits."""

import json
from dataclasses import replace

import pytest

from parley.bot.answer import Answer, AnswerEngine, Citation, Perspective, SourceSummary
from parley.bot.answer.compose import AnswerSettings
from parley.bot.measure.evaluate import load_questions
from parley.bot.render.discord_embeds import escape, render_answer, render_sources
from tests.answers import CONTESTED, NOT_ENGLISH, contested, contested_complete, not_english, uncovered
from tests.fakes.discord import message_problems
from tests.helpers import EVAL_DIR


def citation(n: int, quote: str, stance: str = "race") -> Citation:
    return Citation(n=n, passage_id=f"p{n}", doc_id="d", title=f"Title {n}", publisher="Pub",
                    url="https://example.org/a", quote=quote, start=0, end=len(quote), stance=stance, score=1.0)


@pytest.fixture(scope="module")
def answers(engine):
    wordy = AnswerEngine(engine.served, replace(AnswerSettings(), max_quote_words=150))
    questions = load_questions(EVAL_DIR / "calibration.jsonl")
    return [engine.ask(q.q) for q in questions] + [wordy.ask(q.q, complete=True) for q in questions]


def test_every_rendered_message_is_within_discord_limits(answers):
    for answer in answers:
        for message in render_answer(answer):
            assert message_problems({"content": message.content, "embeds": message.embeds}) == []


def test_every_quote_appears_whole_in_one_field(answers):
    for answer in answers:
        values = [f["value"] for m in render_answer(answer) for e in m.embeds for f in e["fields"]]
        descriptions = [e.get("description", "") for m in render_answer(answer) for e in m.embeds]
        for c in answer.citations:
            assert any(escape(c.quote) in v for v in values + descriptions)


def test_a_quote_longer_than_a_field_gets_its_own_embed_body():
    long_quote = "word " * 400
    answer = Answer("q", True, [Perspective("race", [1, 2])],
                    [citation(1, long_quote.strip()), citation(2, "Short one.")], "1 passage frames this as a race.")
    messages = render_answer(answer)
    for message in messages:
        assert message_problems({"content": message.content, "embeds": message.embeds}) == []
    assert any(long_quote.strip()[:100] in e.get("description", "") for m in messages for e in m.embeds)


def test_markdown_and_mentions_in_corpus_text_cannot_format_or_ping():
    answer = Answer("**bold** @everyone", True, [Perspective("cooperation", [1])],
                    [citation(1, "See [this](https://evil.example) and `code` @here <@&1>", "cooperation")], "x")
    embed = render_answer(answer)[0].embeds[0]
    value = embed["fields"][0]["value"]
    assert "\\[this\\]\\(https://evil.example\\)" in value and "\\`code\\`" in value
    assert embed["title"].startswith("\\*\\*bold\\*\\*")


def test_a_refusal_is_one_short_kind_message_pointing_to_sources():
    messages = render_answer(Answer("q", False, [], [], "Nothing"))
    assert len(messages) == 1 and messages[0].embeds == []
    assert "/sources" in messages[0].content and len(messages[0].content) < 400


def test_sources_list_every_document(engine):
    messages = render_sources(engine.sources())
    text = " ".join(f["value"] for m in messages for e in m.embeds for f in e["fields"])
    for source in engine.sources():
        assert escape(source.title) in text


def test_a_refusal_keeps_the_note_about_a_shortened_question():
    from parley.bot.render.slack_blocks import render_answer as slack_render

    answer = Answer("q", False, [], [], "Nothing", note="Your question was 100,000 characters long; I answered its first 990.")
    assert "100,000 characters" in render_answer(answer)[0].content
    assert "100,000 characters" in str(slack_render(answer)[0].blocks)


def test_a_hand_built_answer_reads_section_by_section_with_sources_grouped_by_document():
    [message] = render_answer(contested())
    [embed] = message.embeds
    assert message_problems({"content": message.content, "embeds": message.embeds}) == []
    assert embed["title"] == escape(CONTESTED) and "description" not in embed
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert list(fields) == ["From the corpus", "Race framing", "Cooperation framing", "In the corpus", "Sources"]
    assert fields["From the corpus"] == ("“Open\\-weight models from China are now close to the frontier.” "
                                         "[\\[1\\]](https://example.org/letter)")  # unreviewed, but not a framing
    assert fields["Race framing"] == (
        "“China will not slow down for anyone. … The race is already on.” [\\[2\\]](https://example.org/summit)"
        " — Xue Lan \\(Podcast digest\\)\n"
        "“Washington sees a geopolitical foot race.” [\\[3\\]](https://example.org/letter) *\\(framing not reviewed\\)*")
    assert fields["In the corpus"].splitlines() == [
        "2 passages frame this as a race, 1 as cooperation.",
        "On this point the corpus holds 2 more passages with the race framing and 1 with the cooperation framing. "
        "Press More to see them all \\(only you will see them\\).",
    ]
    assert fields["Sources"].splitlines() == [
        "\\[1\\]\\[3\\] [The open letter](https://example.org/letter) — Axios",
        "\\[2\\] [The Beijing summit](https://example.org/summit) — Podcast digest",
        "\\[4\\] A cooperation brief — Brookings",
    ]


def test_more_is_offered_only_when_the_answer_leaves_passages_out():
    def shown(answer):
        return json.dumps([m.embeds for m in render_answer(answer)])

    assert "Press More" in shown(contested())
    assert "Press More" not in shown(contested(more={"race": 0}))
    assert "Press More" not in shown(contested_complete())
    assert "parley ask" not in shown(contested())


def test_refusals_by_kind_cite_nothing_and_say_why():
    [uncovered_message] = render_answer(uncovered())
    assert uncovered_message.embeds == []
    assert "The corpus doesn't mention Taiwan or TSMC." in uncovered_message.content
    assert "/sources" in uncovered_message.content
    [foreign] = render_answer(not_english())
    assert foreign.embeds == [] and NOT_ENGLISH in foreign.content and "in English" in foreign.content


@pytest.mark.parametrize("url", ["https://x.org/a b", "javascript:alert(1)", "https://x.org/<@&1>"])
def test_a_url_that_would_break_out_of_its_link_is_left_out(url):
    quoted = replace(citation(1, "A quote."), url=url)
    messages = render_answer(Answer("why?", True, [Perspective("race", [1])], [quoted], "t"))
    messages += render_sources([SourceSummary("d", "Title", "P", url, None, 1, {"race": 1})])
    wire = json.dumps([m.embeds for m in messages])
    assert url not in wire and "Title 1" in wire


def test_parentheses_in_a_url_cannot_end_its_link_early():
    quoted = replace(citation(1, "A quote."), url="https://en.wikipedia.org/wiki/Race_(disambiguation)")
    value = render_answer(Answer("why?", True, [Perspective("race", [1])], [quoted], "t"))[0].embeds[0]["fields"][0]["value"]
    assert "(https://en.wikipedia.org/wiki/Race_%28disambiguation%29)" in value
