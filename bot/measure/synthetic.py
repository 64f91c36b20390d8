"""A synthetic corpus of any size, recombined from a real index, for measuring scale.

Each synthetic passage is a run of 2–6 consecutive sentences of one real document, one of
them often swapped for another sentence of the same document. So the words are real (BM25
has real term statistics to work with), the stance is that of the passage the run starts
in, and the documents still differ from each other.

Embedding a million passages would take this machine hours, so vectors are *derived*: a
passage's vector is the mean of the real model vectors of its sentences, plus a little
Gaussian noise so that no two passages coincide, normalised to unit length. That keeps the
real clustering of the corpus, which is what an approximate index's recall depends on
(random unit vectors would have none). Reports must say that vectors were derived.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parley.index import IndexedDocument, Passage, passage_id
from parley.index.indexing.build import bm25_input
from parley.index.store.sentences import SentenceTable
from parley.index.store.version import LoadedIndex

PASSAGES_PER_DOCUMENT = 50


@dataclass(frozen=True)
class SyntheticCorpus:
    documents: list[IndexedDocument]
    passages: list[Passage]
    vectors: np.ndarray
    bm25_texts: list[str]
    sentences: SentenceTable


def synthesize(source: LoadedIndex, size: int, *, seed: int = 0, noise: float = 0.02) -> SyntheticCorpus:
    """``size`` passages recombined from ``source`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    table = source.sentences
    texts, doc_of_sentence, stance_of_sentence = [], [], []
    for row, (start, end) in zip(table.rows, table.spans):
        passage = source.passages[int(row)]
        texts.append(source.documents[passage.doc_id].text[start:end])
        doc_of_sentence.append(passage.doc_id)
        stance_of_sentence.append(passage.stance)
    source_docs = list(source.documents.values())
    doc_of_sentence = np.asarray(doc_of_sentence)
    by_doc = {d.doc_id: np.flatnonzero(doc_of_sentence == d.doc_id) for d in source_docs}
    source_docs = [d for d in source_docs if len(by_doc[d.doc_id])]
    weights = np.array([len(by_doc[d.doc_id]) for d in source_docs], dtype=float)

    # Which source document each synthetic passage comes from, grouped so that a
    # synthetic document holds passages of one source document.
    origin = np.sort(rng.choice(len(source_docs), size=size, p=weights / weights.sum()))
    lengths = rng.integers(2, 7, size=size)
    members = np.full((size, 6), -1, dtype=np.int64)
    for k, document in enumerate(source_docs):
        pool = by_doc[document.doc_id]
        rows = np.flatnonzero(origin == k)
        if not len(rows):
            continue
        length = np.minimum(lengths[rows], len(pool))
        lengths[rows] = length
        first = rng.integers(0, np.maximum(len(pool) - length, 0) + 1)
        for offset in range(6):
            used = offset < length
            members[rows[used], offset] = pool[first[used] + offset]
        swap = rng.random(len(rows)) < 0.5
        slot = rng.integers(0, length)
        members[rows[swap], slot[swap]] = pool[rng.integers(0, len(pool), size=int(swap.sum()))]

    sentence_vectors = np.asarray(table.vectors)  # the source is small: read it whole
    vectors = _derived_vectors(sentence_vectors, members, rng, noise)
    documents: list[IndexedDocument] = []
    passages: list[Passage] = []
    bm25_texts: list[str] = []
    sentence_rows: list[int] = []
    sentence_spans: list[tuple[int, int]] = []
    sentence_ids: list[int] = []
    for group_start in range(0, size, PASSAGES_PER_DOCUMENT):
        group = range(group_start, min(group_start + PASSAGES_PER_DOCUMENT, size))
        source_doc = source_docs[int(origin[group_start])]
        doc_id = f"synthetic-{group_start // PASSAGES_PER_DOCUMENT:06d}"
        parts: list[str] = []
        cursor = 0
        group_passages: list[Passage] = []
        for row in group:
            ids = [int(i) for i in members[row] if i >= 0]
            text = " ".join(texts[i] for i in ids)
            offset = cursor
            for i in ids:
                sentence_rows.append(row)
                sentence_spans.append((offset, offset + len(texts[i])))
                sentence_ids.append(i)
                offset += len(texts[i]) + 1
            group_passages.append(Passage(passage_id(doc_id, f"{row}\n{text}"), doc_id, text, cursor,
                                          cursor + len(text), stance_of_sentence[ids[0]], 1.0))
            parts.append(text)
            cursor += len(text) + 2
        text = "\n\n".join(parts)
        document = IndexedDocument(
            doc_id=doc_id,
            title=f"{source_doc.title} (synthetic part {group_start // PASSAGES_PER_DOCUMENT + 1})",
            publisher=source_doc.publisher,
            url=None,
            date=source_doc.date,
            kind="synthetic",
            content_sha256=f"synthetic-{seed}-{group_start}",
            text=text,
            passage_count=len(group_passages),
        )
        documents.append(document)
        passages.extend(group_passages)
        bm25_texts.extend(bm25_input(document, p.text) for p in group_passages)
    taken = np.asarray(sentence_ids, dtype=np.int64)
    # Each synthetic sentence keeps the claim of the real sentence it copies.
    sentences = SentenceTable(
        rows=np.asarray(sentence_rows, dtype=np.int32),
        spans=np.asarray(sentence_spans, dtype=np.int32).reshape(-1, 2),
        vectors=sentence_vectors[taken],
        framing=table.framing[taken],
        confidence=table.confidence[taken],
        reviewed=table.reviewed[taken],
        speaker_ids=table.speaker_ids[taken],
        speakers=table.speakers,
        voices=table.voices[taken],
    )
    return SyntheticCorpus(documents, passages, vectors, bm25_texts, sentences)


def _derived_vectors(sentence_vectors: np.ndarray, members: np.ndarray, rng, noise: float) -> np.ndarray:
    """Unit mean of each row's sentence vectors plus Gaussian noise, in blocks to bound memory."""
    size, dimension = len(members), sentence_vectors.shape[1]
    out = np.empty((size, dimension), dtype=np.float32)
    padded = np.vstack([sentence_vectors, np.zeros((1, dimension), dtype=np.float32)])
    for start in range(0, size, 50_000):
        block = members[start : start + 50_000]
        summed = padded[np.where(block >= 0, block, len(sentence_vectors))].sum(axis=1)
        summed /= (block >= 0).sum(axis=1, keepdims=True)
        summed += rng.standard_normal(summed.shape, dtype=np.float32) * noise
        summed /= np.linalg.norm(summed, axis=1, keepdims=True)
        out[start : start + len(block)] = summed
    return out
