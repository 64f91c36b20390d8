"""Build the index from the corpus: incremental, and crash-safe through ``versions.py``.

Vectors are reused by the exact text that was embedded: a passage or sentence whose words
(and document title) did not change keeps its vector, so a build embeds only what is new.
When no document, model weight or pipeline setting changed, the build stops before loading
the model and the served index stays as it is.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from parley.index.errors import (
    CorpusError,
    IndexUnreadableError,
    NoIndexError,
    ParleyError,
    VersionMismatchError,
)
from parley.index.indexing.chunk import chunk_document, split_sentences
from parley.index.indexing.embed import PASSAGE_CHARS, Embedder, encode_in_batches
from parley.index.indexing.onnx_export import export_query_encoder
from parley.index.indexing.stance import Claim, label_claims, labels_fingerprint, load_labels, passage_stance
from parley.index.model import CLAIM_FRAMINGS, VOICES, IndexedDocument, Passage, Point, claim_key
from parley.index.sources.clean import clean_text
from parley.index.sources.debate_map import DEBATE_MAP_FILE, MapPoint, map_fingerprint, read_debate_map
from parley.index.sources.read import Corpus, CorpusProblem, SourceDocument, load_corpus
from parley.index.store.manifest import (
    ENCODER_FILE,
    EXPORT_SCHEME,
    TOKENIZER_FILE,
    EncoderRecord,
    Manifest,
    file_sha256,
    read_manifest,
)
from parley.index.store.points import PointTable
from parley.index.store.query_encoder import OnnxQueryEncoder
from parley.index.store.sentences import SentenceTable
from parley.index.store.vectors import APPROXIMATE_ABOVE
from parley.index.store.version import (
    COMMON_WORDS,
    common_english_words,
    read_common_words,
    read_vectors_by_input,
    write_index,
)
from parley.index.store.versions import IndexLocation, VersionRegistry

# Bump when cleaning or chunking rules change, or what a version holds: every document is
# then re-cut (vectors of passages whose text did not change are still reused). 3: the
# corpus's words, for typos in questions.
PIPELINE_VERSION = 3
# Bump when the everyday-words list changes (store.common_english_words).
COMMON_WORDS_VERSION = 2
# onnxruntime embeds fastest in small batches on this 2-core machine: the corpus's 355
# passages and sentences took 2.25 s in batches of 2-4 passages' worth of text, 2.6-3.0 s
# in batches of 16 (what sentence-transformers is given, `embed_batch_size`).
ONNX_BATCH_PASSAGES = 4
# Bump when what is fed to the model, or how it is embedded, changes: no old vector may be
# reused then. 2: every vector comes from the ONNX export (a fresh build used to embed with
# sentence-transformers), and is stored as it is served (float16 where the index keeps
# float16), so a version's bytes do not depend on the builds before it.
EMBEDDING_SCHEME = 2


@dataclass(frozen=True)
class ChunkSettings:
    min_words: int = 40
    max_words: int = 120


@dataclass(frozen=True)
class BuildReport:
    documents: int
    passages: int
    embedded: int
    reused: int
    removed: int
    seconds: float
    index: Path
    changed: bool
    problems: list[CorpusProblem] = field(default_factory=list)
    # Why the previous index could not be reused, when it could not.
    previous_unusable: str | None = None


@dataclass(frozen=True)
class _Plan:
    """What a build starts from: the corpus as read, the pipeline it is cut with, and the
    version served now (``None``: none, or none that can be read)."""

    corpus: Corpus
    pipeline: dict
    hashes: dict[str, str]
    manifest: Manifest | None
    previous_unusable: str | None
    debate_map: list[MapPoint] = field(default_factory=list)


@dataclass(frozen=True)
class _Cut:
    """The corpus cut and labelled: documents, passages with their stances, and sentences."""

    documents: list[IndexedDocument]
    passages: list[Passage]
    sentence_rows: list[int]
    sentence_spans: list[tuple[int, int]]
    sentence_inputs: list[str]
    claims: list[Claim]

    points: tuple[Point, ...] = ()

    @functools.cached_property
    def point_inputs(self) -> list[str]:
        return [text for point in self.points for text in PointTable.askings(point)]

    @functools.cached_property
    def passage_inputs(self) -> list[str]:
        titles = {d.doc_id: d for d in self.documents}
        return [dense_input(titles[p.doc_id], p.text) for p in self.passages]


def build_index(
    corpus_dir: Path,
    location: IndexLocation,
    embedder: Embedder,
    *,
    full: bool = False,
    chunking: ChunkSettings = ChunkSettings(),
    claim_labels: Path | None = None,
    strict: bool = False,
    show_progress: bool = False,
    registry: VersionRegistry | None = None,
    expect_digest: str | None = None,
) -> BuildReport:
    """Index every usable document of ``corpus_dir`` and serve the result from ``location``.

    ``claim_labels`` is the reviewed labels file (see ``stance.py``); without it no
    sentence is reviewed and the classifier has nothing to learn from: every claim is none.
    With ``strict``, any unusable corpus file fails the build (the served index stays as
    it was) instead of being skipped.

    With a ``registry`` (hosts sharing a database, docs/multi-host.md), the build also
    holds the registry's lock, one build across every host, and publishes its version's
    digest there. ``expect_digest``: catch up with a version another host published; the
    result is served only if it has that digest (``VersionMismatchError`` otherwise), and
    nothing is published.

    The phases: plan (read the corpus, compare with what is served), cut and label, embed
    what is new (reusing every vector whose text did not change), write, publish.
    """
    started = time.perf_counter()
    catching_up = expect_digest is not None
    global_lock = registry.build_lock() if registry is not None and not catching_up else contextlib.nullcontext()
    with location.build_lock(), global_lock:
        plan = _plan(corpus_dir, location, chunking, claim_labels, strict=strict)
        manifest = plan.manifest
        if not full and _up_to_date(plan, embedder):
            assert manifest is not None
            if catching_up and manifest.content_digest != expect_digest:
                raise _mismatch(manifest.content_digest, expect_digest)
            if registry is not None and not catching_up and registry.latest() is None:
                registry.publish(manifest.content_digest, manifest.passage_count)  # the first host seeds it
            location.collect_garbage()
            return BuildReport(documents=len(plan.hashes), passages=manifest.passage_count, embedded=0,
                               reused=manifest.passage_count, removed=0, seconds=time.perf_counter() - started,
                               index=location.current_version(), changed=False, problems=plan.corpus.problems)

        # Reserved before the slow part, so that everything from here to the swap happens
        # in a hidden directory that readers never look at.
        staged = location.new_version_path()
        staged.mkdir()
        try:
            known_vectors, previous_unusable = _reusable_vectors(location, plan, embedder, full=full)
            cut = _cut_and_label(plan.corpus.documents, chunking, claim_labels, plan.debate_map)
            reused = sum(1 for text in cut.passage_inputs if text in known_vectors)
            new_passages = sum(1 for text in set(cut.passage_inputs) if text not in known_vectors)
            # Even with ``full``: the export is a function of the weights alone, and its
            # hashes are checked before it is reused.
            query_encoder = _reuse_query_encoder(location, manifest, embedder, staged)
            if query_encoder is None:
                query_encoder = export_query_encoder(embedder, staged)
            # The map's questions are embedded in batches of their own: a vector's last bits
            # depend on the batch it was embedded in, and passages must not depend on the map.
            onnx = None
            for missing in (_missing(known_vectors, cut.passage_inputs + cut.sentence_inputs),
                            _missing(known_vectors, cut.point_inputs)):
                if missing:
                    onnx = onnx or OnnxQueryEncoder(staged, query_encoder, embedder.info)
                    known_vectors.update(zip(missing, _embed(onnx, missing, embedder, show_progress=show_progress)))
            _write(staged, cut, known_vectors, embedder, query_encoder, plan.pipeline,
                   _common_words(location, manifest))
            served = _publish(staged, location, registry, expect_digest, len(cut.passages))
        except OSError as error:  # a full disk, a file-size limit, a read-only volume
            shutil.rmtree(staged, ignore_errors=True)
            raise ParleyError(
                f"Writing the new index failed ({error.strerror or error}); the served index is unchanged. "
                "Free some space and run `parley index build` again."
            ) from error
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        location.collect_garbage()
        previous_ids = set(manifest.documents) if manifest else set()
        return BuildReport(documents=len(cut.documents), passages=len(cut.passages), embedded=new_passages,
                           reused=reused, removed=len(previous_ids - set(plan.hashes)),
                           seconds=time.perf_counter() - started, index=served, changed=True,
                           problems=plan.corpus.problems, previous_unusable=previous_unusable)


def _plan(corpus_dir: Path, location: IndexLocation, chunking: ChunkSettings, claim_labels: Path | None,
          *, strict: bool) -> _Plan:
    """Read the corpus and the served version's manifest; refuse a corpus with nothing usable."""
    corpus = load_corpus(corpus_dir)
    if strict and corpus.problems:
        reasons = "; ".join(f"{p.file}: {p.reason}" for p in corpus.problems)
        raise CorpusError(f"Not building (--strict): {reasons}. The served index is unchanged.")
    if not corpus.documents:
        reasons = "; ".join(f"{p.file}: {p.reason}" for p in corpus.problems)
        raise CorpusError(
            f"No usable document in {corpus_dir}" + (f" ({reasons})." if reasons else ".")
        )
    pipeline = {
        "version": PIPELINE_VERSION,
        "embedding": EMBEDDING_SCHEME,
        "stance": labels_fingerprint(claim_labels),
        "common_words": COMMON_WORDS_VERSION,
        "debate_map": map_fingerprint(corpus_dir / DEBATE_MAP_FILE),
        **chunking.__dict__,
    }
    previous_unusable = None
    try:
        # Checked against its hashes: a damaged version is rebuilt, never "up to date".
        manifest = location.current_manifest()
    except NoIndexError:
        manifest = None
    except IndexUnreadableError as error:
        manifest, previous_unusable = None, str(error)
    return _Plan(corpus, pipeline, {d.doc_id: d.content_sha256 for d in corpus.documents}, manifest,
                 previous_unusable, read_debate_map(corpus_dir / DEBATE_MAP_FILE))


def _up_to_date(plan: _Plan, embedder: Embedder) -> bool:
    """Whether the served version was built from these documents, settings and weights."""
    manifest = plan.manifest
    return (manifest is not None and manifest.documents == plan.hashes and manifest.pipeline == plan.pipeline
            and manifest.matches_model(embedder.info) and manifest.query_encoder.scheme == EXPORT_SCHEME)


def _reusable_vectors(location: IndexLocation, plan: _Plan, embedder: Embedder,
                      *, full: bool) -> tuple[dict[str, np.ndarray], str | None]:
    """The served version's vectors by the text they embed, when they can be reused (same
    model, same embedding scheme), read from its tables through the store; and why the
    previous version could not be read, if it could not."""
    manifest = plan.manifest
    if full or manifest is None or not manifest.matches_model(embedder.info) \
            or manifest.pipeline.get("embedding") != EMBEDDING_SCHEME:
        return {}, plan.previous_unusable
    try:
        return read_vectors_by_input(location.current_version(), dense_input), plan.previous_unusable
    except IndexUnreadableError as error:
        return {}, str(error)


def _cut_and_label(sources: list[SourceDocument], chunking: ChunkSettings, claim_labels: Path | None,
                   debate_map: list[MapPoint]) -> _Cut:
    """Clean and cut every document; label each sentence's framing and derive each passage's;
    place the debate map's claims on the sentences they name."""
    documents, passages = _cut(sources, chunking)
    labels = load_labels(claim_labels) if claim_labels and claim_labels.is_file() else []
    sentence_rows, sentence_spans, sentence_inputs = _sentences(passages)
    keyed = [(passages[row].doc_id, text) for row, text in zip(sentence_rows, sentence_inputs)]
    claims = label_claims(keyed, labels)
    return _Cut(documents, _with_stances(passages, sentence_rows, claims), sentence_rows, sentence_spans,
                sentence_inputs, claims, _placed(debate_map, keyed, claims))


def _placed(debate_map: list[MapPoint], keyed: list[tuple[str, str]], claims: list[Claim]) -> tuple[Point, ...]:
    """The map's points with their claims as sentence numbers. A key no sentence has (its
    words changed) is left out, and so is a claim whose served framing is no longer the one
    the map lists it under: a point never shows a claim under the wrong framing."""
    number = {claim_key(doc_id, text): i for i, (doc_id, text) in enumerate(keyed)}
    placed = []
    for point in debate_map:
        by_framing = {framing: tuple(number[k] for k in keys if k in number and claims[number[k]].framing == framing)
                      for framing, keys in point.claims.items()}
        placed.append(Point(point.point_id, point.title, point.scope, point.phrasings, by_framing,
                            tuple(number[k] for k in point.facts if k in number), point.neighbours))
    return tuple(placed)


def _missing(known_vectors: dict[str, np.ndarray], wanted: list[str]) -> list[str]:
    """The texts of ``wanted`` no reusable vector embeds, in a stable order."""
    return sorted({text for text in set(wanted) if text not in known_vectors})


def _embed(onnx: OnnxQueryEncoder, texts: list[str], embedder: Embedder, *, show_progress: bool) -> np.ndarray:
    """The vectors of ``texts``, embedded by the index's exported encoder. It embeds as the model does
    (the export is checked against it, within float error) without importing torch: a
    re-index as a new process saves the seconds that import costs, and onnxruntime is
    faster on a CPU. Every vector comes from it, so a fresh build and an incremental one agree."""
    return encode_in_batches(onnx.encode, texts, embedder.info.dimension,
                             budget_chars=ONNX_BATCH_PASSAGES * PASSAGE_CHARS,
                             show_progress=show_progress and len(texts) > 64)


def _write(staged: Path, cut: _Cut, known_vectors: dict[str, np.ndarray], embedder: Embedder,
           query_encoder: EncoderRecord, pipeline: dict, common_words: dict[str, int]) -> None:
    """Write the new version's files into the hidden folder ``staged``."""
    dimension = embedder.info.dimension
    titles = {d.doc_id: d for d in cut.documents}
    write_index(
        staged,
        documents=cut.documents,
        passages=cut.passages,
        vectors=_as_served(_stack(known_vectors, cut.passage_inputs, dimension)),
        bm25_texts=[bm25_input(titles[p.doc_id], p.text) for p in cut.passages],
        sentences=_sentence_table(cut.sentence_rows, cut.sentence_spans,
                                  _float16(_stack(known_vectors, cut.sentence_inputs, dimension)), cut.claims),
        model=embedder.info,
        query_encoder=query_encoder,
        pipeline=pipeline,
        common_words=common_words,
        # float16 like the sentences: the last bits of a vector depend on the batch it was
        # embedded in, and a version's bytes must not depend on the builds before it.
        points=PointTable(cut.points, _float16(_stack(known_vectors, cut.point_inputs, dimension)),
                          np.zeros(0, dtype=np.int64)),
    )


def _publish(staged: Path, location: IndexLocation, registry: VersionRegistry | None,
             expect_digest: str | None, passages: int) -> Path:
    """Serve the staged version: after its digest is checked (catching up) or published to
    the registry, before the swap, so no host serves a version the registry does not know."""
    digest = read_manifest(staged).content_digest
    if expect_digest is not None and digest != expect_digest:
        raise _mismatch(digest, expect_digest)
    if registry is not None and expect_digest is None:
        registry.publish(digest, passages)
    return location.publish(staged)


def _float16(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` rounded to float16, as the index stores them (sentence vectors, and the
    exact copy beside an inverted file): whatever the index computes from them at build
    time then sees the values a rebuild will reuse."""
    return vectors.astype(np.float16).astype(np.float32)


def _as_served(vectors: np.ndarray) -> np.ndarray:
    """Passage vectors as the index will serve them: float32 in a flat index, float16 above
    ``APPROXIMATE_ABOVE`` (where a rebuild reuses the float16 copy)."""
    return _float16(vectors) if len(vectors) > APPROXIMATE_ABOVE else vectors


def _mismatch(digest: str, expected: str) -> VersionMismatchError:
    return VersionMismatchError(
        f"This host's build has digest {digest[:12]}, not {expected[:12]} as the host that published it: "
        "its corpus, labels or settings differ. Still serving the previous version; make the corpus the "
        "same on every host (docs/multi-host.md).")


def _reuse_query_encoder(
    location: IndexLocation, manifest: Manifest | None, embedder: Embedder, staged: Path
) -> EncoderRecord | None:
    """Link the served version's exported encoder into ``staged`` when it was exported
    from the same weights the same way; ``None`` when it must be exported afresh.

    A hard link costs no space and no time; the files are never modified in place, and
    deleting an old version only drops its link.
    """
    if manifest is None:
        return None
    record = manifest.query_encoder
    if record.scheme != EXPORT_SCHEME or record.weights_sha256 != embedder.info.weights_sha256:
        return None
    served = location.current_version()
    for name in (ENCODER_FILE, TOKENIZER_FILE):
        try:
            os.link(served / name, staged / name)
        except OSError:  # another file system, or links not supported: copy
            try:
                shutil.copy2(served / name, staged / name)
            except OSError:
                return None
    if (file_sha256(staged / ENCODER_FILE), file_sha256(staged / TOKENIZER_FILE)) != (
        record.onnx_sha256, record.tokenizer_sha256
    ):
        for name in (ENCODER_FILE, TOKENIZER_FILE):
            (staged / name).unlink(missing_ok=True)
        return None
    return record


def _common_words(location: IndexLocation, manifest: Manifest | None) -> dict[str, int]:
    """The everyday-words list: the served version's copy when it was made the same way,
    else computed from wordfreq (about 1 s: a hundred thousand frequency look-ups)."""
    if manifest is not None and manifest.pipeline.get("common_words") == COMMON_WORDS_VERSION:
        try:
            return read_common_words(location.current_version() / COMMON_WORDS)
        except (OSError, ValueError):
            pass  # damaged or missing: compute it again
    return common_english_words()


def dense_input(document: IndexedDocument, text: str) -> str:
    """What the model embeds for a passage: its document's title gives it context
    ("the Beijing summit", "the Axios piece") that a passage cut from the middle lacks."""
    return f"{document.title}\n{text}"


def bm25_input(document: IndexedDocument, text: str) -> str:
    """What BM25 indexes for a passage: title and publisher too, for questions that name
    their source."""
    return f"{document.title} ({document.publisher})\n{text}"


def _sentences(passages: list[Passage]) -> tuple[list[int], list[tuple[int, int]], list[str]]:
    rows, spans, texts = [], [], []
    for row, passage in enumerate(passages):
        for start, end in split_sentences(passage.text):
            rows.append(row)
            spans.append((passage.start + start, passage.start + end))
            texts.append(passage.text[start:end])
    return rows, spans, texts


def _with_stances(passages: list[Passage], rows: list[int], claims: list[Claim]) -> list[Passage]:
    """Each passage with the stance its claims give it."""
    by_row: dict[int, list[Claim]] = {}
    for row, claim in zip(rows, claims):
        by_row.setdefault(row, []).append(claim)
    result = []
    for row, passage in enumerate(passages):
        stance, confidence = passage_stance(by_row.get(row, []))
        result.append(replace(passage, stance=stance, stance_confidence=confidence))
    return result


def _sentence_table(rows: list[int], spans: list[tuple[int, int]], vectors: np.ndarray,
                    claims: list[Claim]) -> SentenceTable:
    speakers = sorted({c.speaker for c in claims if c.speaker})
    speaker_ids = {name: i for i, name in enumerate(speakers)}
    return SentenceTable(
        rows=np.asarray(rows, dtype=np.int32).reshape(-1),
        spans=np.asarray(spans, dtype=np.int32).reshape(-1, 2),
        vectors=vectors,
        framing=np.asarray([CLAIM_FRAMINGS.index(c.framing) for c in claims], dtype=np.int8),
        confidence=np.asarray([c.confidence for c in claims], dtype=np.float16),
        reviewed=np.asarray([c.reviewed for c in claims], dtype=bool),
        speaker_ids=np.asarray([speaker_ids[c.speaker] if c.speaker else -1 for c in claims], dtype=np.int32),
        speakers=tuple(speakers),
        voices=np.asarray([1 + VOICES.index(c.voice) if c.voice else 0 for c in claims], dtype=np.int8),
    )


def _stack(vectors: dict[str, np.ndarray], texts: list[str], dimension: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, dimension), dtype=np.float32)
    return np.stack([vectors[text] for text in texts]).astype(np.float32)


def _cut(
    sources: list[SourceDocument], chunking: ChunkSettings
) -> tuple[list[IndexedDocument], list[Passage]]:
    documents: list[IndexedDocument] = []
    passages: list[Passage] = []
    for source in sources:
        text = clean_text(source.raw_text)
        document_passages = chunk_document(
            source.doc_id, text, min_words=chunking.min_words, max_words=chunking.max_words
        )
        passages.extend(document_passages)
        documents.append(
            IndexedDocument(
                doc_id=source.doc_id,
                title=source.title,
                publisher=source.publisher,
                url=source.url,
                date=source.date,
                kind=source.kind,
                content_sha256=source.content_sha256,
                text=text,
                passage_count=len(document_passages),
            )
        )
    return documents, passages
