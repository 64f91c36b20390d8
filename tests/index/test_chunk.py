import gc
import time

import pytest

from parley.index.indexing.chunk import MAX_SENTENCE_WORDS, chunk_document, split_sentences
from parley.index.sources.clean import clean_text
from parley.index.sources.read import load_corpus
from tests.helpers import CORPUS_DIR


@pytest.fixture(scope="module")
def documents() -> dict[str, str]:
    return {d.doc_id: clean_text(d.raw_text) for d in load_corpus(CORPUS_DIR).documents}


def test_every_passage_is_an_exact_slice_of_its_document(documents):
    for doc_id, text in documents.items():
        for passage in chunk_document(doc_id, text):
            assert passage.doc_id == doc_id
            assert text[passage.start : passage.end] == passage.text


def test_passages_cover_whole_sentences_only(documents):
    for doc_id, text in documents.items():
        sentences = split_sentences(text)
        starts = {start for start, _ in sentences}
        ends = {end for _, end in sentences}
        for passage in chunk_document(doc_id, text):
            assert passage.start in starts and passage.end in ends, passage.text[:60]


def test_passage_sizes_stay_within_bounds_and_leave_no_fragments(documents):
    for doc_id, text in documents.items():
        for passage in chunk_document(doc_id, text, min_words=40, max_words=120):
            assert 40 <= len(passage.text.split()) <= 120, passage.text


def test_passages_cover_the_document_in_order_without_overlap(documents):
    for doc_id, text in documents.items():
        passages = chunk_document(doc_id, text)
        for before, after in zip(passages, passages[1:]):
            assert before.end <= after.start
            assert text[before.end : after.start].strip() == ""


def test_ids_are_content_hashes(documents):
    doc_id, text = next(iter(documents.items()))
    first = chunk_document(doc_id, text)
    again = chunk_document(doc_id, text)
    assert [p.passage_id for p in first] == [p.passage_id for p in again]
    assert len({p.passage_id for p in first}) == len(first)
    elsewhere = chunk_document("another-doc", text)
    assert {p.passage_id for p in first}.isdisjoint(p.passage_id for p in elsewhere)


def test_sentence_splitting_respects_abbreviations_and_quotes():
    text = 'Sen. Ann Lee (D-Vt.) spoke. The U.S. Senate agreed. "It works." Then it cost $2.5 billion!'
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "Sen. Ann Lee (D-Vt.) spoke.",
        "The U.S. Senate agreed.",
        '"It works."',
        "Then it cost $2.5 billion!",
    ]


def test_a_sentence_longer_than_the_maximum_is_never_cut():
    long_sentence = " ".join(["word"] * 150) + "."
    text = f"Short opener here. {long_sentence} A closing sentence follows it."
    passages = chunk_document("d", text, min_words=5, max_words=120)
    assert any(long_sentence in p.text for p in passages)


def test_a_short_tail_is_merged_not_left_alone():
    text = " ".join(f"Sentence number {i} has exactly six words." for i in range(12))
    passages = chunk_document("d", text + "\nTiny end.", min_words=40, max_words=60)
    assert all(len(p.text.split()) >= 40 for p in passages)
    assert passages[-1].text.endswith("Tiny end.")


def test_a_document_shorter_than_the_minimum_is_one_passage():
    passages = chunk_document("d", "Only one short line.")
    assert [p.text for p in passages] == ["Only one short line."]


def test_a_run_without_any_sentence_end_is_cut_at_words_so_passages_stay_bounded():
    text = " ".join(f"w{i}" for i in range(1000))  # a capture that lost its punctuation
    passages = chunk_document("d", text)
    assert [len(p.text.split()) for p in passages] == [MAX_SENTENCE_WORDS] * 5
    assert all(text[p.start:p.end] == p.text for p in passages)


def test_a_run_of_abbreviations_is_one_sentence_found_in_linear_time():
    text = "Talks " + "Mr. " * 2000 + "ended."
    assert [len(text[s:e].split()) for s, e in split_sentences(text)] == [MAX_SENTENCE_WORDS] * 10 + [2]


def work_units(function, size: int) -> float:
    """Seconds ``function(size)`` takes, the best of three (timing noise only adds), with
    the garbage collector paused: its passes cost in proportion to everything else the test
    session holds (a loaded model makes 160,000 new objects look quadratic)."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            started = time.perf_counter()
            function(size)
            best = min(best, time.perf_counter() - started)
    finally:
        gc.enable()
    return best


@pytest.mark.parametrize("shape", [
    lambda n: "\n".join(f"w{i} and" for i in range(n)),  # wrapped lines joined into one paragraph
    lambda n: "Talks " + "Mr. " * n + "ended.",  # abbreviations that never end a sentence
    lambda n: "\n".join(f"Line {i} ends." for i in range(n)),
])
def test_cleaning_and_chunking_grow_linearly_with_the_text_whatever_its_shape(shape):
    """Sixteen times the text costs sixteen times the time when linear, 256 times when
    quadratic (as the joins this replaces were); the bound, 64, leaves room for a busy
    machine on either side. (A complexity check, not a speed target: speed is measured by
    benchmarks/build_shapes.py.)"""
    def cut(n: int) -> None:
        chunk_document("d", clean_text(shape(n)))

    assert work_units(cut, 160_000) < 64 * work_units(cut, 10_000)
