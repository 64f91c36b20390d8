"""The debate map: read from the corpus folder, placed on the sentences it names, served."""

import json

import pytest

from parley.index.errors import CorpusError
from parley.index.indexing.build import build_index
from parley.index.sources.debate_map import DEBATE_MAP_FILE, read_debate_map
from parley.index.store.versions import IndexLocation
from tests.helpers import CLAIM_LABELS

LABELS = [json.loads(line) for line in CLAIM_LABELS.read_text().splitlines()]
RACE = [label for label in LABELS if label["framing"] == "race"]
COOPERATION = [label for label in LABELS if label["framing"] == "cooperation"]


def a_map(**overrides) -> dict:
    point = {"id": "export-controls", "title": "Do US chip export controls work?", "scope": "chips",
             "phrasings": ["do chip bans even work", "are export controls pointless"],
             "claims": {"race": [RACE[0]["key"], RACE[1]["key"]], "cooperation": [COOPERATION[0]["key"]]},
             "facts": [], "neighbours": ["talks"]}
    talks = {"id": "talks", "title": "Can the two talk?", "phrasings": ["will talks work"],
             "claims": {"race": [], "cooperation": [COOPERATION[1]["key"]]}}
    return {"points": [{**point, **overrides}, talks], "unplaced": []}


def write_map(corpus, debate_map) -> None:
    (corpus / DEBATE_MAP_FILE).write_text(json.dumps(debate_map))


def test_a_corpus_without_a_map_has_no_points(tmp_path):
    assert read_debate_map(tmp_path / DEBATE_MAP_FILE) == []


@pytest.mark.parametrize(("text", "says"), [
    ("{not json", "cannot be read"),
    ('{"points": [{"title": "no id"}]}', "missing field 'id'"),
    ('{"points": [{"id": "Bad Id", "title": "x"}]}', "lower-case words joined by hyphens"),
    ('{"points": [{"id": "propose", "title": "x"}]}', "is a command"),
    ('{"points": [{"id": "a", "title": "x"}, {"id": "a", "title": "y"}]}', "names a point twice"),
    ('{"points": [{"id": "a", "title": 3}]}', "a title is not text"),
])
def test_a_malformed_map_is_one_clear_error_naming_the_file(tmp_path, text, says):
    path = tmp_path / DEBATE_MAP_FILE
    path.write_text(text)
    with pytest.raises(CorpusError, match=says) as caught:
        read_debate_map(path)
    assert str(path) in str(caught.value) and "served index is unchanged" in str(caught.value)


def test_a_map_is_built_into_the_index_with_its_claims_on_their_sentences(corpus_copy, tmp_path, embedder):
    debate_map = a_map()
    debate_map["points"][0]["claims"]["race"].append("0000000000000000")  # a sentence that changed
    debate_map["points"][0]["claims"]["cooperation"].append(RACE[2]["key"])  # listed under the wrong framing
    write_map(corpus_copy, debate_map)
    location = IndexLocation(tmp_path / "index")
    build_index(corpus_copy, location, embedder, claim_labels=corpus_copy / "claim-labels.jsonl")
    index = location.open()
    point = index.points.by_id("export-controls")
    served = {framing: [index.documents[index.passages[int(index.sentences.rows[i])].doc_id]
                        .text[slice(*(int(x) for x in index.sentences.spans[i]))] for i in members]
              for framing, members in point.claims.items()}
    # The changed sentence and the one under the wrong framing are left out; order is kept.
    assert served == {"race": [RACE[0]["text"], RACE[1]["text"]], "cooperation": [COOPERATION[0]["text"]]}
    assert point.title == "Do US chip export controls work?" and point.neighbours == ("talks",)
    # One vector for the title and one for each phrasing, in that order.
    assert index.points.vectors.shape == (3 + 2, 384)
    assert index.points.owner.tolist() == [0, 0, 0, 1, 1]
    title_vector = embedder.encode(["Do US chip export controls work?"])[0]
    assert float(index.points.vectors[0] @ title_vector) > 0.99


def test_editing_the_map_rebuilds_and_reuses_every_unchanged_vector(corpus_copy, tmp_path, embedder):
    write_map(corpus_copy, a_map())
    location = IndexLocation(tmp_path / "index")
    labels = corpus_copy / "claim-labels.jsonl"
    build_index(corpus_copy, location, embedder, claim_labels=labels)
    assert build_index(corpus_copy, location, embedder, claim_labels=labels).changed is False
    write_map(corpus_copy, a_map(title="Are chip export controls working?"))
    report = build_index(corpus_copy, location, embedder, claim_labels=labels)
    assert (report.changed, report.embedded) == (True, 0)  # passages reused; one new title embedded
    assert location.open().points.points[0].title == "Are chip export controls working?"


def test_a_question_is_matched_to_the_point_it_asks_about(corpus_copy, tmp_path, embedder):
    from parley.index.search.retriever import Retriever

    write_map(corpus_copy, a_map())
    location = IndexLocation(tmp_path / "index")
    build_index(corpus_copy, location, embedder, claim_labels=corpus_copy / "claim-labels.jsonl")
    index = location.open()
    retriever = Retriever(index, index.query_encoder())
    chips = retriever.retrieve("do the chip export bans actually work??", 8)
    assert [m.point.point_id for m in chips.points] == ["export-controls", "talks"]
    assert chips.points[0].score > chips.points[1].score
    # Each framing's claims of the point, each an exact sentence of the index.
    assert {c.sentence.framing for c in chips.points[0].claims["race"]} == {"race"}
    assert len(chips.points[0].claims["race"]) == 2
