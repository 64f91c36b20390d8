import json

import pytest

from parley.bot.measure.evaluate import normalise
from parley.index.sources.clean import clean_text
from parley.index.sources.read import load_corpus
from tests.helpers import CORPUS_DIR, EVAL_DIR

ARTICLE = [
    "Officials in Brussels met on Tuesday to discuss chip supply chains.",
    "The talks, which lasted six hours, ended without a joint statement.",
]


def capture(before: tuple[str, ...], after: tuple[str, ...] = ()) -> str:
    """A made-up web capture: chrome lines around two sentences of article text."""
    return "\n".join([*before, *ARTICLE, *after])


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (("Skip to main content", "Menu", "Back"), ()),
        (("Add The Daily Planet as your preferred source to", "see more of our stories on Search."), ()),
        (("Get your free weekly digest", "We read the journals and send you the best papers."), ()),
        ((), ("Sign up for our newsletter",)),
        (("Photo: Jane Doe/Getty Images", "Illustration by Sam Roe: Example Studio"), ()),
        (("Trust Rating", "3/5", "Medium(3)", "Medium quality. Some editorial oversight."), ()),
        (("Relevance: 71/100opinion piecepolicy",), ()),
        (("You need to enable JavaScript to view this site.",), ()),
        (("HTTP 200Fetched Jan 2, 20269 KB",), ()),
        ((), ("Resource ID: 9f8e7d6c | Stable ID: sid_abc",)),
        ((), ("Comments", "12 comments")),
    ],
)
def test_chrome_of_each_kind_is_removed_and_the_article_kept(before, after):
    assert clean_text(capture(before, after)) == "\n".join(ARTICLE)


def test_a_page_title_keeps_the_headline_and_drops_the_site_name():
    assert clean_text(capture(("Chip talks stall in Brussels | The Example Gazette",))) == "\n".join(
        ["Chip talks stall in Brussels", *ARTICLE]
    )


def test_navigation_glued_to_a_paragraph_is_cut_off():
    assert clean_text("Skip to Content " + ARTICLE[0]) == ARTICLE[0]


def test_truncated_capture_keeps_whole_words_only():
    cleaned = clean_text(f"{ARTICLE[0]} It is hard to defend against a determi\n\n... (truncated, 15 KB total)")
    assert cleaned == f"{ARTICLE[0]} It is hard to defend against a"


def test_unicode_and_whitespace_are_normalised():
    raw = "The \u201cAI\u00a0race\u201d is self\u2011sufficient\u200b and \u2018open\u2019 \u2014  so  it  goes."
    assert clean_text(raw) == 'The "AI race" is self-sufficient and \'open\' \u2014 so it goes.'


def test_link_markup_spaces_and_markdown_links_are_dropped_but_words_kept():
    raw = "Labs such as  OpenAI  and the \u201c AI arms race .\u201d Read a [Gallup poll](https://x.example/p) here."
    assert clean_text(raw) == 'Labs such as OpenAI and the "AI arms race." Read a Gallup poll here.'


def test_a_sentence_wrapped_by_the_capture_is_rejoined():
    assert clean_text("The committee voted to\nextend the review by a year.") == (
        "The committee voted to extend the review by a year."
    )


def test_long_article_sentences_mentioning_chrome_words_are_kept():
    sentence = (
        "According to a poll, both nations have a negative net global approval rating, which "
        "suggests that most people of the world would not be comfortable with either side winning."
    )
    assert clean_text(sentence) == sentence


@pytest.fixture(scope="module")
def cleaned_corpus() -> dict[str, str]:
    return {d.doc_id: clean_text(d.raw_text) for d in load_corpus(CORPUS_DIR).documents}


@pytest.mark.parametrize(
    "chrome",
    [
        "Skip to content",
        "preferred source",
        "podcast brief",
        "We scan new podcasts",
        "Getty Images",
        "Credibility Rating",
        "Importance: 52/100",
        "enable JavaScript",
        "HTTP 200",
        "(truncated",
        "Resource ID",
        "0 comments",
    ],
)
def test_project_corpus_holds_no_site_chrome(cleaned_corpus, chrome):
    for doc_id, text in cleaned_corpus.items():
        assert chrome.lower() not in text.lower(), doc_id


def test_project_corpus_keeps_every_gold_phrase_of_the_dev_set(cleaned_corpus):
    everything = normalise(" ".join(cleaned_corpus.values()))
    questions = [json.loads(line) for line in (EVAL_DIR / "dev.jsonl").open()]
    phrases = [p for q in questions for key in ("gold", "race", "cooperation") for p in q.get(key, [])]
    assert phrases
    assert [p for p in phrases if normalise(p) not in everything] == []
