"""Stance labels: reviewed labels kept, new passages classified, measured honestly."""

import json
import shutil

from parley.index.build import build_index
from parley.index.chunk import Passage
from parley.index.stance import assign_stances, cross_validate, labels_fingerprint, load_labels
from tests.helpers import CORPUS_DIR, STANCE_LABELS


def test_the_labels_file_covers_every_passage_of_the_corpus(built_index, engine):
    """If cleaning or chunking changes, passages change: this says to relabel them."""
    labelled = {(label.doc_id, label.text) for label in load_labels(STANCE_LABELS)}
    passages = engine.served.retriever().index.passages
    assert [p.passage_id for p in passages if (p.doc_id, p.text) not in labelled] == []
    assert all(p.stance_confidence == 1.0 for p in passages)


def test_new_passages_are_classified_by_their_framing_cues():
    labels = load_labels(STANCE_LABELS)
    new = [
        Passage("a", "new-doc", "We must win this race and beat China; ceding leadership to an adversary "
                "would be a threat to national security, so we cannot afford to fall behind.", 0, 10),
        Passage("b", "new-doc", "Both nations should cooperate on safety standards and a joint dialogue, "
                "because they face a shared existential threat from rogue AI and non-state bad actors.", 0, 10),
    ]
    race, cooperation = assign_stances(new, labels)
    assert race.stance == "race" and 0 < race.stance_confidence < 1
    assert cooperation.stance == "cooperation" and 0 < cooperation.stance_confidence < 1


def test_without_labels_every_passage_is_neutral_with_no_confidence():
    passage = Passage("a", "d", "We must win the race.", 0, 21)
    assert assign_stances([passage], []) == [Passage("a", "d", "We must win the race.", 0, 21, "neutral", 0.0)]


def test_leave_one_document_out_is_reported_per_class():
    result = cross_validate(load_labels(STANCE_LABELS))
    assert (result.passages, result.documents) == (92, 5)
    assert set(result.per_class_f1) == {"race", "cooperation", "neutral"}
    assert result.macro_f1 == round(sum(result.per_class_f1.values()) / 3, 4)
    assert result.macro_f1 >= 0.6  # measured 0.626; the target of 0.80 is not met yet


def test_editing_a_label_relabels_without_re_embedding(index_copy, embedder, tmp_path):
    labels_file = tmp_path / "labels.jsonl"
    shutil.copy(STANCE_LABELS, labels_file)
    lines = labels_file.read_text().splitlines()
    first = json.loads(lines[0])
    flipped = "race" if first["stance"] != "race" else "neutral"
    lines[0] = json.dumps({**first, "stance": flipped})
    labels_file.write_text("\n".join(lines) + "\n")
    assert labels_fingerprint(labels_file) != labels_fingerprint(STANCE_LABELS)

    report = build_index(CORPUS_DIR, index_copy, embedder, stance_labels=labels_file)
    assert (report.changed, report.embedded) == (True, 0)
    stances = {p.passage_id: p.stance for p in index_copy.open().passages}
    assert stances[first["passage_id"]] == flipped
