"""The columnar files of a version (index/columns.py, claims.py), checked on disk and
against what they replace: whole arrays in memory, brute-force claim search."""

import json
import os

import numpy as np
import pytest

from parley.index.model import IndexedDocument, Passage
from parley.index.store.claims import ClaimIndex, centred
from parley.index.store.columns import DocumentTable, PassageTable, RowFile, dots
from parley.index.store.sentences import SentenceTable


def test_row_file_reads_rows_as_numpy_would(tmp_path):
    vectors = np.random.default_rng(0).standard_normal((1000, 8)).astype(np.float16)
    np.save(tmp_path / "v.npy", vectors)
    rows = RowFile(tmp_path / "v.npy")
    assert rows.shape == (1000, 8) and len(rows) == 1000
    picks = np.array([999, 3, 4, 5, 500, 3, 0])  # unordered, repeated, runs
    np.testing.assert_array_equal(rows[picks], vectors[picks])
    np.testing.assert_array_equal(rows[10:20], vectors[10:20])
    np.testing.assert_array_equal(rows[7], vectors[7])
    np.testing.assert_array_equal(np.asarray(rows), vectors)
    assert rows[np.array([], dtype=np.int64)].shape == (0, 8)
    with pytest.raises(IndexError):
        rows[np.array([1000])]


def test_dot_products_from_a_row_file_are_numpys(tmp_path):
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((2000, 384)).astype(np.float16)
    vectors[0, :5] = [0, -0.0, 1e-7, -3e-6, 6e-5]  # zeros and float16's subnormals
    np.save(tmp_path / "v.npy", vectors)
    query = rng.standard_normal(384).astype(np.float32)
    picks = np.array([0, 1999, 5, 6, 7, 1000, 5])
    expected = vectors[picks].astype(np.float32) @ query
    np.testing.assert_allclose(dots(RowFile(tmp_path / "v.npy"), picks, query), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dots(vectors, picks, query), expected, rtol=1e-6)  # in memory: numpy itself


def test_a_truncated_row_file_is_refused(tmp_path):
    np.save(tmp_path / "v.npy", np.zeros((100, 4), dtype=np.float32))
    with open(tmp_path / "v.npy", "r+b") as handle:
        handle.truncate(os.path.getsize(tmp_path / "v.npy") - 16)
    with pytest.raises(ValueError, match="expected"):
        RowFile(tmp_path / "v.npy")


def _document(doc_id: str, text: str) -> IndexedDocument:
    return IndexedDocument(doc_id=doc_id, title=f"Title {doc_id}", publisher="Pub", url=None, date="2025-01-01",
                           kind="article", content_sha256="0" * 64, text=text, passage_count=1)


def test_documents_and_passages_round_trip_through_their_files(tmp_path):
    documents = [_document("a", "Café talks — “AI” rivalry.\nSecond line."), _document("b", "Plain text only.")]
    DocumentTable.write(tmp_path, documents, "documents.json", "document-text.bin")
    table = DocumentTable.open(tmp_path, "documents.json", "document-text.bin")
    assert list(table) == ["a", "b"] and len(table) == 2 and "b" in table and "c" not in table
    assert table["a"] == documents[0] and table["b"] == documents[1]
    assert [h.title for h in table.headers()] == ["Title a", "Title b"]
    # The texts are stored once, as UTF-8, one after another; the metadata holds no text.
    assert (tmp_path / "document-text.bin").read_bytes() == "".join(d.text for d in documents).encode()
    assert "Second line" not in (tmp_path / "documents.json").read_text()

    passages = [Passage("0123456789abcdef", "a", "“AI” rivalry.", 13, 26, "race", 0.75),
                Passage("fedcba9876543210", "b", "Plain text", 0, 10)]
    assert documents[0].text[13:26] == passages[0].text
    records = PassageTable.records_of(passages, {"a": 0, "b": 1})
    np.save(tmp_path / "passages.npy", records)
    served = PassageTable(np.load(tmp_path / "passages.npy"), table)
    assert list(served) == passages and served[-1] == passages[-1] and len(served) == 2


def test_damaged_document_texts_are_refused(tmp_path):
    DocumentTable.write(tmp_path, [_document("a", "Some text.")], "documents.json", "document-text.bin")
    (tmp_path / "document-text.bin").write_bytes(b"Some")
    with pytest.raises(ValueError, match="does not hold"):
        DocumentTable.open(tmp_path, "documents.json", "document-text.bin")
    records = json.loads((tmp_path / "documents.json").read_text())
    assert records[0]["text_bytes"] == [0, 10]


def test_claim_search_finds_what_brute_force_finds(tmp_path):
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((400, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    framing = rng.integers(0, 3, 400).astype(np.int8)
    table = SentenceTable(rows=np.arange(400, dtype=np.int32), spans=np.zeros((400, 2), dtype=np.int32),
                          vectors=vectors.astype(np.float16), framing=framing,
                          confidence=np.ones(400, dtype=np.float16), reviewed=np.zeros(400, dtype=bool),
                          speaker_ids=np.full(400, -1, dtype=np.int32), speakers=(),
                          voices=np.zeros(400, dtype=np.int8))
    table.save(tmp_path / "sentences")
    loaded = SentenceTable.load(tmp_path / "sentences")
    ClaimIndex.build(loaded, 1).save(tmp_path / "claims.faiss")
    claims = ClaimIndex.load(tmp_path / "claims.faiss", loaded, 1)

    query = vectors[7]
    mean = loaded.centre()
    members = np.flatnonzero(framing == 1)
    brute = centred(vectors[members].astype(np.float16), mean) @ centred(query, mean)
    expected = members[np.argsort(-brute)[:10]]
    found, scores = claims.search(centred(query, mean), 10)
    np.testing.assert_array_equal(found, expected)
    np.testing.assert_allclose(scores, np.sort(brute)[::-1][:10], atol=1e-5)
