"""Build the index from the corpus: incremental, and crash-safe through ``versions.py``.

Vectors are reused by passage text: a passage whose words did not change keeps its vector,
so a build embeds only what is new. When no document, model weight or pipeline setting
changed, the build stops before loading the model and the served index stays as it is.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.chunk import Passage, chunk_document
from index.clean import clean_text
from index.corpus import CorpusProblem, SourceDocument, load_corpus
from index.embed import Embedder
from index.errors import CorpusError, IndexUnreadableError, NoIndexError
from index.store import IndexedDocument, LoadedIndex, write_index
from index.versions import IndexLocation

# Bump when cleaning or chunking rules change: every document is then re-cut (vectors of
# passages whose text did not change are still reused).
PIPELINE_VERSION = 1


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


def build_index(
    corpus_dir: Path,
    location: IndexLocation,
    embedder: Embedder,
    *,
    full: bool = False,
    chunking: ChunkSettings = ChunkSettings(),
    show_progress: bool = False,
) -> BuildReport:
    """Index every usable document of ``corpus_dir`` and serve the result from ``location``."""
    started = time.perf_counter()
    with location.build_lock():
        corpus = load_corpus(corpus_dir)
        if not corpus.documents:
            reasons = "; ".join(f"{p.file}: {p.reason}" for p in corpus.problems)
            raise CorpusError(
                f"No usable document in {corpus_dir}" + (f" ({reasons})." if reasons else ".")
            )
        pipeline = {"version": PIPELINE_VERSION, **chunking.__dict__}
        hashes = {d.doc_id: d.content_sha256 for d in corpus.documents}

        previous_unusable = None
        try:
            manifest = location.current_manifest()
        except NoIndexError:
            manifest = None
        except IndexUnreadableError as error:
            manifest, previous_unusable = None, str(error)

        if (
            not full
            and manifest is not None
            and manifest.documents == hashes
            and manifest.pipeline == pipeline
            and manifest.matches_model(embedder.info)
        ):
            location.collect_garbage()
            return BuildReport(
                documents=len(hashes),
                passages=manifest.passage_count,
                embedded=0,
                reused=manifest.passage_count,
                removed=0,
                seconds=time.perf_counter() - started,
                index=location.current_version(),
                changed=False,
                problems=corpus.problems,
            )

        # Reserved before the slow part, so that everything from here to the swap happens
        # in a hidden directory that readers never look at.
        staged = location.new_version_path()
        staged.mkdir()
        try:
            known_vectors: dict[str, np.ndarray] = {}
            if not full and manifest is not None and manifest.matches_model(embedder.info):
                try:
                    known_vectors = _vectors_by_text(location.open())
                except IndexUnreadableError as error:
                    previous_unusable = str(error)

            documents, passages = _cut(corpus.documents, chunking)
            missing = sorted({p.text for p in passages if p.text not in known_vectors})
            reused = sum(1 for p in passages if p.text in known_vectors)
            fresh = embedder.encode(missing, show_progress=show_progress and len(missing) > 64)
            known_vectors.update(zip(missing, fresh))
            vectors = np.stack([known_vectors[p.text] for p in passages]).astype(np.float32)
            write_index(
                staged,
                documents=documents,
                passages=passages,
                vectors=vectors,
                model=embedder.info,
                pipeline=pipeline,
            )
            served = location.publish(staged)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        location.collect_garbage()
        previous_ids = set(manifest.documents) if manifest else set()
        return BuildReport(
            documents=len(documents),
            passages=len(passages),
            embedded=len(missing),
            reused=reused,
            removed=len(previous_ids - set(hashes)),
            seconds=time.perf_counter() - started,
            index=served,
            changed=True,
            problems=corpus.problems,
            previous_unusable=previous_unusable,
        )


def _vectors_by_text(index: LoadedIndex) -> dict[str, np.ndarray]:
    vectors = index.vectors()
    return {passage.text: vectors[row] for row, passage in enumerate(index.passages)}


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
