"""One version of the index on disk: documents, passages, vectors (FAISS), BM25, manifest.

    manifest.json     format version, model (name, dimension, weights hash), pipeline
                      settings, each document's content hash, passage count, build time,
                      and the size of every other file (a truncated file is caught on load)
    documents.json    metadata and cleaned text of each document
    passages.jsonl    one passage a line: id, doc_id, text, start, end, stance
    vectors.faiss     IndexFlatIP over unit vectors, row i = passage i
    sentences.npz     each passage's sentences: passage row, start, end (document
                      offsets) and a unit vector, for cutting quotes down to what answers
    bm25/             bm25s index over the same passages, in the same order

FAISS and bm25s are imported only when vectors are read or written, so reading a manifest
(``parley index status``) stays fast.
"""

from __future__ import annotations

import errno
import json
import math
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from parley.index.chunk import Passage
from parley.index.embed import ModelInfo
from parley.index.errors import IndexUnreadableError
from parley.index.query_encoder import OnnxQueryEncoder, QueryEncoderRecord

# 2: each version carries its ONNX query encoder (query_encoder.py).
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
DOCUMENTS = "documents.json"
PASSAGES = "passages.jsonl"
VECTORS = "vectors.faiss"
SENTENCES = "sentences.npz"
BM25_DIR = "bm25"

REBUILD_HINT = "Run `parley index build --full` to rebuild it."

# Exact search reads every vector for every question. Past ~20k passages (30 MB of
# vectors, more than the CPU cache) its p95 passes 2 ms and grows linearly: 7 ms at 50k,
# 15 ms at 100k on 2 cores. Above that, an inverted-file index (IVF-Flat, 4·√n lists):
# against HNSW (M=32) at 100k and 1M passages it reached higher recall@10 per millisecond
# and built 3x faster (benchmarks/ann_choice.py, README "Performance"). IVF_PROBES lists
# are searched per question: recall@10 0.995 at 1M passages, p95 2.9 ms.
APPROXIMATE_ABOVE = 20_000
IVF_PROBES = 96


@dataclass(frozen=True)
class IndexedDocument:
    """A document as served: its metadata and the cleaned text quotes are cut from."""

    doc_id: str
    title: str
    publisher: str
    url: str | None
    date: str | None
    kind: str | None
    content_sha256: str
    text: str
    passage_count: int


class ModelRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    dimension: int
    weights_sha256: str


class Manifest(BaseModel):
    """What a version of the index holds and how it was made; written last, read first."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    format_version: int
    model: ModelRecord
    query_encoder: QueryEncoderRecord
    vector_index: str  # "flat" (exact) or "ivf<lists>" (approximate)
    pipeline: dict[str, int | str]
    documents: dict[str, str]  # doc_id -> content sha256
    passage_count: int
    built_at: str
    files: dict[str, int]  # relative path -> bytes

    def total_bytes(self, directory: Path) -> int:
        return sum(self.files.values()) + (directory / MANIFEST).stat().st_size

    def matches_model(self, model: ModelInfo) -> bool:
        return self.model == ModelRecord(**asdict(model))


def bm25_tokens(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed tokens; the same function for passages and queries."""
    import bm25s
    import Stemmer

    return bm25s.tokenize(
        texts,
        stopwords="en",
        stemmer=Stemmer.Stemmer("english"),
        return_ids=False,
        show_progress=False,
    )


def write_index(
    directory: Path,
    *,
    documents: list[IndexedDocument],
    passages: list[Passage],
    vectors: np.ndarray,
    bm25_texts: list[str],
    sentences: "SentenceTable",
    model: ModelInfo,
    query_encoder: QueryEncoderRecord,
    pipeline: dict[str, int | str],
) -> Manifest:
    """Write a complete index into ``directory``, which holds only the exported query
    encoder so far, and fsync every file."""
    import bm25s
    import faiss

    if vectors.shape != (len(passages), model.dimension):
        raise ValueError(f"vectors {vectors.shape} do not match {len(passages)} passages")
    directory.mkdir(parents=True, exist_ok=True)
    _write_text(directory / DOCUMENTS, json.dumps([asdict(d) for d in documents], ensure_ascii=False))
    _write_text(
        directory / PASSAGES,
        "".join(json.dumps(asdict(p), ensure_ascii=False) + "\n" for p in passages),
    )
    vector_index, vector_index_kind = _vector_index(vectors)
    try:
        faiss.write_index(vector_index, str(directory / VECTORS))
    except RuntimeError as error:  # FAISS reports a failed write (full disk...) this way
        reason = str(error).rsplit(":", 1)[-1].strip()
        raise OSError(errno.EIO, f"cannot write {VECTORS}: {reason}") from error
    sentences.save(directory / SENTENCES)
    bm25 = bm25s.BM25()
    bm25.index(bm25_tokens(bm25_texts), show_progress=False)
    bm25.save(str(directory / BM25_DIR), show_progress=False)

    files = {
        path.relative_to(directory).as_posix(): path.stat().st_size
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        model=ModelRecord(**asdict(model)),
        query_encoder=query_encoder,
        vector_index=vector_index_kind,
        pipeline=pipeline,
        documents={d.doc_id: d.content_sha256 for d in documents},
        passage_count=len(passages),
        built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        files=files,
    )
    fsync_tree(directory)
    _write_text(directory / MANIFEST, manifest.model_dump_json(indent=2))
    fsync_directory(directory)
    return manifest


def _vector_index(vectors: np.ndarray):
    """The FAISS index for ``vectors`` and its kind: exact up to ``APPROXIMATE_ABOVE``."""
    import faiss

    count, dimension = vectors.shape
    if count <= APPROXIMATE_ABOVE:
        flat = faiss.IndexFlatIP(dimension)
        flat.add(vectors)
        return flat, "flat"
    lists = 1 << round(math.log2(4 * math.sqrt(count)))
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
    # k-means wants ~40 points per list; a fixed sample keeps rebuilds reproducible.
    sample = np.random.default_rng(0).choice(count, size=min(count, 40 * lists), replace=False)
    ivf.train(vectors[np.sort(sample)])
    ivf.add(vectors)
    ivf.make_direct_map()  # row_vectors() looks passages up by row
    return ivf, f"ivf{lists}"


def read_manifest(directory: Path) -> Manifest:
    """The manifest of ``directory``, after checking that every file it lists is whole."""
    path = directory / MANIFEST
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        raise IndexUnreadableError(f"The index at {directory} has no {MANIFEST}. {REBUILD_HINT}") from None
    except (OSError, ValidationError, ValueError) as error:
        first = str(error).splitlines()[0]
        raise IndexUnreadableError(
            f"The index manifest {path} is unreadable ({first}). {REBUILD_HINT}"
        ) from None
    if manifest.format_version != FORMAT_VERSION:
        raise IndexUnreadableError(
            f"The index at {directory} has format version {manifest.format_version}; this "
            f"Parley reads version {FORMAT_VERSION}. {REBUILD_HINT}"
        )
    for name, expected in manifest.files.items():
        file = directory / name
        actual = file.stat().st_size if file.is_file() else None
        if actual != expected:
            found = "is missing" if actual is None else f"is {actual} bytes, expected {expected}"
            raise IndexUnreadableError(
                f"The index at {directory} is damaged: {name} {found}. {REBUILD_HINT}"
            )
    return manifest


@dataclass(frozen=True)
class SentenceTable:
    """Sentences of all passages in passage order: ``rows[i]`` is the passage row of
    sentence i, ``spans[i]`` its (start, end) in the document, ``vectors[i]`` its vector."""

    rows: np.ndarray  # int32, non-decreasing
    spans: np.ndarray  # int32, shape (n, 2)
    # float16 on disk and in memory: about four sentences per passage make this the
    # largest part of an index (6 GB at a million passages in float32), and a cosine
    # only changes by ~1e-3, which never reorders the best sentence in practice.
    vectors: np.ndarray  # shape (n, dimension)

    def spans_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First and past-the-last sentence index of each passage in ``rows``. The rows are
        cast to the table's dtype first: a Python int would make numpy copy the whole
        table on every lookup (~0.1 ms each on a large one)."""
        rows = np.asarray(rows).astype(self.rows.dtype)
        return (np.searchsorted(self.rows, rows, side="left").astype(np.int64),
                np.searchsorted(self.rows, rows, side="right").astype(np.int64))

    def of_passage(self, row: int) -> range:
        """Indices of the sentences of passage ``row``."""
        starts, ends = self.spans_of(np.array([row]))
        return range(int(starts[0]), int(ends[0]))

    def best_per_passage(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """For each passage in ``rows``, the highest cosine of one of its sentences with
        ``query`` (-1 for a passage without sentences)."""
        starts, ends = self.spans_of(rows)
        lengths = ends - starts
        best = np.full(len(starts), -1.0, dtype=np.float32)
        if not lengths.sum():
            return best
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        members = np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))
        scores = self.vectors[members].astype(np.float32) @ query
        present = lengths > 0
        best[present] = np.maximum.reduceat(scores, offsets[present])
        return best

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            np.savez(handle, rows=self.rows, spans=self.spans, vectors=self.vectors.astype(np.float16))

    @classmethod
    def load(cls, path: Path) -> "SentenceTable":
        with np.load(path) as data:
            return cls(rows=data["rows"], spans=data["spans"], vectors=data["vectors"])


@dataclass(frozen=True)
class SearchHit:
    row: int  # position in ``LoadedIndex.passages``
    score: float


class LoadedIndex:
    """A whole version of the index in memory, ready to search."""

    def __init__(self, directory: Path, manifest: Manifest, documents: dict[str, IndexedDocument],
                 passages: list[Passage], vectors, bm25, sentences: SentenceTable):
        self.directory = directory
        self.manifest = manifest
        self.documents = documents
        self.passages = passages
        self.sentences = sentences
        self._vectors = vectors
        self._bm25 = bm25

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

    def query_encoder(self, threads: int = 0) -> OnnxQueryEncoder:
        """The encoder for questions that this version's vectors were made with."""
        model = self.manifest.model
        return OnnxQueryEncoder(self.directory, self.manifest.query_encoder,
                                ModelInfo(model.name, model.dimension, model.weights_sha256), threads=threads)

    def vectors(self) -> np.ndarray:
        """All passage vectors, row i for passage i."""
        return self._vectors.reconstruct_n(0, self._vectors.ntotal)

    def row_vectors(self, rows: np.ndarray) -> np.ndarray:
        """Vectors of the passages at ``rows``."""
        return self._vectors.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def dense_search(self, query_vector: np.ndarray, k: int) -> list[SearchHit]:
        """The ``k`` passages nearest to a unit ``query_vector`` by inner product."""
        k = min(k, len(self.passages))
        if k <= 0:
            return []
        scores, rows = self._vectors.search(query_vector.reshape(1, -1).astype(np.float32), k)
        return [SearchHit(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]

    def term_coverage(self, query: str, row: int) -> float:
        """Share of the query's terms, weighted by IDF, that occur in passage ``row``.

        A term the corpus never uses counts as the rarest possible, so a question about
        something absent ("sourdough") can never be covered.
        """
        terms = list(dict.fromkeys(bm25_tokens([query])[0]))
        if not terms:
            return 0.0
        scores = self._bm25.scores
        indptr, indices = scores["indptr"], scores["indices"]
        total_passages = len(self.passages)
        covered = total = 0.0
        for term in terms:
            column = self._bm25.vocab_dict.get(term)
            postings = indices[indptr[column] : indptr[column + 1]] if column is not None else indices[:0]
            frequency = len(postings)
            idf = float(np.log(1 + (total_passages - frequency + 0.5) / (frequency + 0.5)))
            total += idf
            at = int(np.searchsorted(postings, row))  # a column's rows are sorted
            if at < frequency and postings[at] == row:
                covered += idf
        return covered / total if total else 0.0

    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for ``query`` (zeros when no query term is known)."""
        tokens = bm25_tokens([query])[0]
        if not tokens:  # only stop words, emoji or punctuation: BM25 has nothing to match
            return np.zeros(len(self.passages), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(tokens), dtype=np.float32)


def load_index(directory: Path) -> LoadedIndex:
    """Read a whole version of the index; any damage is one clear ``IndexUnreadableError``."""
    import bm25s
    import faiss

    manifest = read_manifest(directory)
    try:
        raw_documents = json.loads((directory / DOCUMENTS).read_text(encoding="utf-8"))
        documents = {d["doc_id"]: IndexedDocument(**d) for d in raw_documents}
        with (directory / PASSAGES).open(encoding="utf-8") as handle:
            passages = [Passage(**json.loads(line)) for line in handle]
        vectors = faiss.read_index(str(directory / VECTORS))
        if isinstance(vectors, faiss.IndexIVF):
            vectors.nprobe = IVF_PROBES
            if vectors.direct_map.type == faiss.DirectMap.NoMap:
                vectors.make_direct_map()
        bm25 = bm25s.BM25.load(str(directory / BM25_DIR), show_progress=False)
        sentences = SentenceTable.load(directory / SENTENCES)
    except Exception as error:  # noqa: BLE001 — any failure here means a damaged index
        raise IndexUnreadableError(
            f"The index at {directory} is damaged ({type(error).__name__}: {error}). {REBUILD_HINT}"
        ) from error
    problems = []
    if len(passages) != manifest.passage_count:
        problems.append(f"{len(passages)} passages, manifest says {manifest.passage_count}")
    if vectors.ntotal != len(passages) or vectors.d != manifest.model.dimension:
        problems.append(f"{vectors.ntotal} vectors of dimension {vectors.d}")
    if len(sentences.rows) and (sentences.rows[-1] >= len(passages) or sentences.vectors.shape[1] != vectors.d):
        problems.append("sentences do not match the passages")
    if problems:
        raise IndexUnreadableError(
            f"The index at {directory} is inconsistent: {'; '.join(problems)}. {REBUILD_HINT}"
        )
    return LoadedIndex(directory, manifest, documents, passages, vectors, bm25, sentences)


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
