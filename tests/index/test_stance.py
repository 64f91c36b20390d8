"""Claims: every sentence's reviewed framing kept by content, new sentences classified with
a confidence, passages framed by their claims, the classifier measured honestly."""

import json
import shutil

import pytest

from parley.index.errors import ParleyError
from parley.index.indexing.build import build_index
from parley.index.indexing.stance import (
    CLASSIFIER_CONFIDENCE,
    Claim,
    cross_validate,
    label_claims,
    labels_fingerprint,
    load_labels,
    passage_stance,
)
from parley.index.model import CLAIM_FRAMINGS, claim_key
from tests.helpers import CLAIM_LABELS, CORPUS_DIR


def test_the_labels_file_covers_every_sentence_of_the_corpus(engine):
    """If cleaning or sentence splitting changes, sentences change: this says to relabel them."""
    index = engine.served.retriever().index
    table = index.sentences
    assert table.reviewed.all(), "some sentences have no reviewed label: relabel them (docs/labelling-guide.md)"
    labelled = {label.key: label for label in load_labels(CLAIM_LABELS)}
    for i in (0, len(table.rows) // 2, len(table.rows) - 1):
        passage = index.passages[int(table.rows[i])]
        start, end = (int(x) for x in table.spans[i])
        label = labelled[claim_key(passage.doc_id, index.documents[passage.doc_id].text[start:end])]
        assert CLAIM_FRAMINGS[int(table.framing[i])] == label.framing


def test_a_speaker_is_named_only_for_their_words_or_reported_view(engine):
    table = engine.served.retriever().index.sentences
    named = {(table.speaker(i), table.voice(i)) for i in range(len(table.rows)) if table.speaker(i)}
    assert ("Brendan Steinhauser", "quoted") in named and ("Bernie Sanders", "reported") in named
    assert all(voice in ("quoted", "reported") for _, voice in named)
    assert all(table.speaker(i) is None for i in table.claims_of(0))  # no speaker for "none"
    # The writer's own voice and narration name nobody: the old labels' "the author" is gone.
    assert not any(speaker.startswith("the ") for speaker, _ in named)


def test_every_framed_claim_has_a_voice_and_a_named_speaker_is_in_its_document():
    """The truth check on the labels: a speaker named for a claim is named by its document
    (a typo'd or invented name would be shown under a quote)."""
    for label in load_labels(CLAIM_LABELS):
        if label.framing == "none":
            continue
        assert label.voice in ("quoted", "reported", "own", "narration"), label.key
        if label.voice in ("quoted", "reported"):
            assert label.speaker and label.speaker.split()[-1] in (CORPUS_DIR / f"{label.doc_id}.txt").read_text()
        else:
            assert label.speaker is None, label.key


def test_a_label_with_an_unknown_voice_is_refused_with_its_line(tmp_path):
    line = {"key": claim_key("d", "A sentence."), "doc_id": "d", "framing": "race", "speaker": "X",
            "voice": "whispered", "text": "A sentence."}
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(ParleyError, match="line 1: voice must be one of quoted, reported, own, narration"):
        load_labels(path)


def test_new_sentences_are_classified_with_a_confidence_and_weak_ones_stay_context():
    labels = load_labels(CLAIM_LABELS)
    race, cooperation, plain = label_claims([
        ("new-doc", "We must win this race and beat China; ceding leadership to an adversary would be a threat "
                    "to national security."),
        ("new-doc", "Both nations should cooperate on safety standards and a joint dialogue about shared risks."),
        ("new-doc", "The meeting took place on a Tuesday."),
    ], labels)
    assert race.framing == "race" and not race.reviewed and CLASSIFIER_CONFIDENCE <= race.confidence < 1
    assert cooperation.framing == "cooperation" and not cooperation.reviewed
    assert plain.framing == "none" and plain.speaker is None


def test_a_passage_is_framed_by_most_of_its_claims():
    race, cooperation, none = Claim("race", 1.0, True, None), Claim("cooperation", 1.0, True, None), \
        Claim("none", 1.0, True, None)
    assert passage_stance([race, race, cooperation, none]) == ("race", 1.0)
    assert passage_stance([none, none]) == ("neutral", 1.0)
    assert passage_stance([]) == ("neutral", 0.0)


def test_leave_one_document_out_precision_is_reported_at_the_confidence_used():
    report = cross_validate(load_labels(CLAIM_LABELS))
    assert (report.sentences, report.documents, report.confidence) == (263, 5, CLASSIFIER_CONFIDENCE)
    assert set(report.precision) == {"race", "cooperation"}
    assert all(p is None or 0 <= p <= 1 for p in report.precision.values())


def test_editing_a_label_relabels_without_re_embedding(index_copy, embedder, tmp_path):
    labels_file = tmp_path / "labels.jsonl"
    shutil.copy(CLAIM_LABELS, labels_file)
    lines = labels_file.read_text().splitlines()
    first = json.loads(lines[1])
    flipped = "race" if first["framing"] != "race" else "none"
    lines[1] = json.dumps({**first, "framing": flipped})
    labels_file.write_text("\n".join(lines) + "\n")
    assert labels_fingerprint(labels_file) != labels_fingerprint(CLAIM_LABELS)

    report = build_index(CORPUS_DIR, index_copy, embedder, claim_labels=labels_file)
    assert (report.changed, report.embedded) == (True, 0)
    index = index_copy.open()
    table = index.sentences
    framings = {}
    for i, (start, end) in enumerate(table.spans):
        passage = index.passages[int(table.rows[i])]
        framings[claim_key(passage.doc_id, index.documents[passage.doc_id].text[start:end])] = \
            CLAIM_FRAMINGS[int(table.framing[i])]
    assert framings[first["key"]] == flipped
