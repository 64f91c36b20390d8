"""One version of the index on disk: written whole, read in columns (columns.py).

    manifest.json     format version, model (name, dimension, weights hash), pipeline
                      settings, each document's content hash, passage count, build time,
                      and the size and SHA-256 of every other file (damage is caught on load)
    documents.json    metadata of each document and where its text is in document-text.bin
    document-text.bin the cleaned texts, UTF-8, one after another
    passages.npy      one fixed-size record a passage: document, start, end, stance, id
                      (its text is its document's text[start:end])
    vectors.faiss     the passage vectors (vectors.py), row i = passage i
    sentences/        each passage's sentences as .npy columns: passage row, start, end
                      (document offsets), float16 vector, claim; for cutting quotes down to
                      what answers
    claims-race.faiss, claims-cooperation.faiss
                      each framing's claims, centred, for searching them (claims.py)
    bm25/             BM25 over the same passages, in the same order (lexical.py)
    query-encoder.onnx, query-tokenizer.json   the model, exported for questions
    common-words.txt  everyday English words (wordfreq), so that a question's rare word
                      the corpus never uses can be told from slang or a plain word
    corpus-words.txt  the corpus's own words with their counts, to correct a question's
                      typos against (spelling.py)
    acronyms.txt      the corpus's dotted acronyms, undotted ("D.C." as "dc")

FAISS and bm25s are imported only when vectors are read or written, so reading a manifest
(``parley index status``) stays fast.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from parley.index.errors import IndexUnreadableError
from parley.index.model import CLAIM_FRAMINGS, STANCES, IndexedDocument, Passage
from parley.index.store.claims import ClaimIndex
from parley.index.store.columns import PASSAGE_RECORD, DocumentTable, PassageTable
from parley.index.store.lexical import LexicalIndex
from parley.index.store.manifest import (
    ENCODER_FILE,
    FORMAT_VERSION,
    MANIFEST,
    REBUILD_HINT,
    TOKENIZER_FILE,
    EncoderRecord,
    Manifest,
    ModelInfo,
    files_of,
    read_manifest,
    verify_contents,
)
from parley.index.store.points import PointTable
from parley.index.store.query_encoder import OnnxQueryEncoder
from parley.index.store.sentences import SentenceTable
from parley.index.store.spelling import count_words, read_words, words_text
from parley.index.store.vectors import PassageVectors

DOCUMENTS = "documents.json"
DOCUMENT_TEXT = "document-text.bin"
PASSAGES = "passages.npy"
VECTORS = "vectors.faiss"
SENTENCES = "sentences"
CLAIMS = "claims-{framing}.faiss"
ACRONYMS = "acronyms.txt"
_DOTTED = re.compile(r"\b(?:[A-Z]\.){2,5}")
BM25_DIR = "bm25"
COMMON_WORDS = "common-words.txt"
CORPUS_WORDS = "corpus-words.txt"
# Words at least this frequent in English (Zipf scale: 3.6 is about 4 per million words)
# are everyday words; from UNCOMMON_ZIPF to there, a word may be a plain word or a famous
# name ("musk", "tangled"); below, it is a name, a brand or jargon: a specific subject.
COMMON_ZIPF = 3.6
UNCOMMON_ZIPF = 3.0


def write_index(
    directory: Path,
    *,
    documents: list[IndexedDocument],
    passages: list[Passage],
    vectors: np.ndarray,
    bm25_texts: list[str],
    sentences: SentenceTable,
    model: ModelInfo,
    query_encoder: EncoderRecord,
    pipeline: dict[str, int | str],
    common_words: dict[str, int] | None = None,
    points: PointTable | None = None,
) -> Manifest:
    """Write a complete index into ``directory``, which holds only the exported query
    encoder so far, and fsync every file."""
    if vectors.shape != (len(passages), model.dimension):
        raise ValueError(f"vectors {vectors.shape} do not match {len(passages)} passages")
    directory.mkdir(parents=True, exist_ok=True)
    DocumentTable.write(directory, documents, DOCUMENTS, DOCUMENT_TEXT)
    position = {d.doc_id: i for i, d in enumerate(documents)}
    np.save(directory / PASSAGES, PassageTable.records_of(passages, position), allow_pickle=False)
    passage_vectors = PassageVectors.build(vectors)
    passage_vectors.save(directory / VECTORS)
    vector_index = passage_vectors.kind
    del passage_vectors  # as large as the vectors at scale: freed before the claims' indexes
    if sentences.mean is None:
        sentences = replace(sentences, mean=sentences.centre())
    sentences.save(directory / SENTENCES)
    for code, framing in enumerate(CLAIM_FRAMINGS):
        if code:
            ClaimIndex.build(sentences, code).save(directory / CLAIMS.format(framing=framing))
    LexicalIndex.build(bm25_texts).save(directory / BM25_DIR)
    if points is not None and points.points:
        points.save(directory)
    acronyms = set()
    for document in documents:
        acronyms.update(m.group(0).replace(".", "").lower() for m in _DOTTED.finditer(document.text))
    _write_text(directory / ACRONYMS, "".join(f"{a}\n" for a in sorted(acronyms)))
    _write_text(directory / COMMON_WORDS, "".join(f"{w} {band}\n" for w, band in sorted((common_words or {}).items())))
    _write_text(directory / CORPUS_WORDS, words_text(count_words(bm25_texts)))

    # The encoder's hashes were checked when it was exported or linked in (build.py).
    files = files_of(directory, {ENCODER_FILE: query_encoder.onnx_sha256, TOKENIZER_FILE: query_encoder.tokenizer_sha256})
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        model=model,
        query_encoder=query_encoder,
        vector_index=vector_index,
        pipeline=pipeline,
        documents={d.doc_id: d.content_sha256 for d in documents},
        passage_count=len(passages),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        files=files,
    )
    fsync_tree(directory)
    _write_text(directory / MANIFEST, manifest.model_dump_json(indent=2))
    fsync_directory(directory)
    return manifest


class LoadedIndex:
    """A version of the index, ready to search: the small columns in memory, texts and
    sentence vectors read on demand, FAISS indexes read whole,
    BM25's arrays memory-mapped."""

    def __init__(self, directory: Path, manifest: Manifest, documents: DocumentTable,
                 passages: PassageTable, vectors: PassageVectors, lexical: LexicalIndex,
                 sentences: SentenceTable, claims: dict[str, ClaimIndex],
                 common_words: dict[str, int] | None = None, corpus_words: dict[str, int] | None = None,
                 acronyms: frozenset[str] = frozenset(), points: PointTable | None = None):
        self.directory = directory
        self.manifest = manifest
        self.documents = documents
        self.passages = passages
        self.vectors = vectors
        self.lexical = lexical
        self.sentences = sentences
        self.claims = claims  # framing -> its claims' index
        self.acronyms = acronyms  # dotted acronyms of the corpus, undotted and lower-cased
        # word -> 2 (everyday English) or 1 (uncommon: a plain word or a famous name)
        self.common_words = common_words or {}
        self.corpus_words = corpus_words or {}  # lower-cased word -> count, for typos (spelling.py)
        self.points = points or PointTable.empty(vectors.dimension)  # the debate map

    def check_model(self, model: ModelInfo) -> None:
        """Refuse to compare vectors from different models."""
        if not self.manifest.matches_model(model):
            built = self.manifest.model
            raise IndexUnreadableError(
                f"The index at {self.directory} was built with {built.name} "
                f"({built.dimension} dimensions, weights {built.weights_sha256[:12]}), but Parley "
                f"is configured with {model.name} ({model.dimension} dimensions, weights "
                f"{model.weights_sha256[:12]}). {REBUILD_HINT}"
            )

    def claims_by_document(self) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
        """Per document: its claims (sentences) by framing, and of those, how many a person
        reviewed. Counted with numpy over the sentence table (millions of rows at scale)."""
        ids = list(self.documents)
        passage_document = self.passages.records["doc"].astype(np.int64)
        table = self.sentences
        cell = passage_document[table.rows.astype(np.int64)] * len(CLAIM_FRAMINGS) + table.framing.astype(np.int64)
        size = len(ids) * len(CLAIM_FRAMINGS)
        claims = np.bincount(cell, minlength=size).reshape(len(ids), -1)
        reviewed = np.bincount(cell, weights=table.reviewed.astype(np.float64), minlength=size).reshape(len(ids), -1)
        return {doc_id: ({f: int(claims[i, code]) for code, f in enumerate(CLAIM_FRAMINGS)},
                         {f: int(reviewed[i, code]) for code, f in enumerate(CLAIM_FRAMINGS)})
                for i, doc_id in enumerate(ids)}

    def stances_by_document(self) -> dict[str, dict[str, int]]:
        """Per document: its passages by stance, counted over the passage records."""
        records = self.passages.records
        cells = records["doc"].astype(np.int64) * len(STANCES) + records["stance"].astype(np.int64)
        counts = np.bincount(cells, minlength=len(self.documents) * len(STANCES)).reshape(-1, len(STANCES))
        return {doc_id: {stance: int(counts[i, code]) for code, stance in enumerate(STANCES)}
                for i, doc_id in enumerate(self.documents)}

    def query_encoder(self, threads: int = 0) -> OnnxQueryEncoder:
        """The encoder for questions that this version's vectors were made with."""
        return OnnxQueryEncoder(self.directory, self.manifest.query_encoder, self.manifest.model, threads=threads)


def load_index(directory: Path) -> LoadedIndex:
    """Read a whole version of the index; any damage is one clear ``IndexUnreadableError``."""
    manifest = read_manifest(directory)
    verify_contents(directory, manifest)
    try:
        documents = DocumentTable.open(directory, DOCUMENTS, DOCUMENT_TEXT)
        records = np.load(directory / PASSAGES, allow_pickle=False)
        if records.dtype != PASSAGE_RECORD or (len(records) and int(records["doc"].max()) >= len(documents)):
            raise ValueError(f"{PASSAGES} does not hold passage records of these documents")
        passages = PassageTable(records, documents)
        vectors = PassageVectors.load(directory / VECTORS)
        lexical = LexicalIndex.load(directory / BM25_DIR, len(passages))
        common_words = read_common_words(directory / COMMON_WORDS)
        corpus_words = read_words(directory / CORPUS_WORDS)
        acronyms = frozenset((directory / ACRONYMS).read_text(encoding="utf-8").split())
        sentences = SentenceTable.load(directory / SENTENCES)
        claims = {framing: ClaimIndex.load(directory / CLAIMS.format(framing=framing), sentences, code)
                  for code, framing in enumerate(CLAIM_FRAMINGS) if code}
        points = PointTable.load(directory, vectors.dimension)
    except Exception as error:  # noqa: BLE001 — any failure here means a damaged index
        raise IndexUnreadableError(
            f"The index at {directory} is damaged ({type(error).__name__}: {error}). {REBUILD_HINT}"
        ) from error
    problems = []
    if len(passages) != manifest.passage_count:
        problems.append(f"{len(passages)} passages, manifest says {manifest.passage_count}")
    if vectors.count != len(passages) or vectors.dimension != manifest.model.dimension:
        problems.append(f"{vectors.count} vectors of dimension {vectors.dimension}")
    if len(sentences.rows) and (sentences.rows[-1] >= len(passages) or sentences.vectors.shape[1] != vectors.dimension):
        problems.append("sentences do not match the passages")
    if problems:
        raise IndexUnreadableError(
            f"The index at {directory} is inconsistent: {'; '.join(problems)}. {REBUILD_HINT}"
        )
    return LoadedIndex(directory, manifest, documents, passages, vectors, lexical, sentences, claims,
                       common_words, corpus_words, acronyms, points)


def read_vectors_by_input(directory: Path,
                          passage_input: Callable[[IndexedDocument, str], str]) -> dict[str, np.ndarray]:
    """Every vector of the version in ``directory``, keyed by the exact text it was embedded
    from (``passage_input(document, passage text)`` for a passage, the sentence itself for a
    sentence): what a build reuses. Reads only the tables that hold them, checked against
    the manifest's hashes, not the search structures a served index needs."""
    manifest = read_manifest(directory)
    verify_contents(directory, manifest)
    try:
        documents = DocumentTable.open(directory, DOCUMENTS, DOCUMENT_TEXT)
        passages = PassageTable(np.load(directory / PASSAGES, allow_pickle=False), documents)
        passage_vectors = PassageVectors.load(directory / VECTORS).all()
        table = SentenceTable.load(directory / SENTENCES)
        sentence_vectors = np.asarray(table.vectors)  # one read, not one per sentence
        known = {passage_input(documents[passage.doc_id], passage.text): passage_vectors[row]
                 for row, passage in enumerate(passages)}
        for i, (row, (start, end)) in enumerate(zip(table.rows, table.spans)):
            known[documents[passages[int(row)].doc_id].text[start:end]] = sentence_vectors[i]
        points = PointTable.load(directory, passage_vectors.shape[1])
        asked = [text for point in points.points for text in PointTable.askings(point)]
        known.update(zip(asked, points.vectors))
    except Exception as error:  # noqa: BLE001 — any failure here means a damaged index
        raise IndexUnreadableError(
            f"The index at {directory} is damaged ({type(error).__name__}: {error}). {REBUILD_HINT}"
        ) from error
    return known


def fsync_tree(directory: Path) -> None:
    """Flush every file and folder below ``directory`` to disk."""
    for path in sorted(directory.rglob("*"), reverse=True):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        else:
            fsync_directory(path)
    fsync_directory(directory)


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_text(path: Path, text: str) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def common_english_words() -> dict[str, int]:
    """English words with their band (2: everyday, 1: uncommon), from wordfreq, which
    only the build imports."""
    from wordfreq import top_n_list, zipf_frequency

    bands = {}
    for word in top_n_list("en", 100_000):
        if word.isalpha():
            zipf = zipf_frequency(word, "en")
            if zipf >= UNCOMMON_ZIPF:
                bands[word] = 2 if zipf >= COMMON_ZIPF else 1
    return bands


def read_common_words(path: Path) -> dict[str, int]:
    bands = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, band = line.partition(" ")
        bands[word] = int(band or 2)
    return bands
