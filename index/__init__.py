"""Parley's index: a corpus in, a served, searchable index out. Nothing here knows about
chat platforms (the ``bot`` package).

This is the index's public face. Importing ``parley.index`` loads nothing: each name is
imported from its home on first use (PEP 562), so a command that needs only an error type
does not pay for numpy, FAISS or the build.

- ``sources/``: documents in (read the corpus folder, ingest pages and PDFs, clean text);
- ``indexing/``: a corpus to a new index version (chunk, label, embed, write, publish);
- ``store/``: one version on disk and its look-ups, and the folder of versions;
- ``search/``: a question to a ``Retrieval``; the served index that follows new versions;
- ``model.py`` and ``errors.py``: the types and errors every part shares.
"""

from __future__ import annotations

import importlib
from typing import Any

# Each public name and the module it lives in.
_HOMES = {
    "parley.index.errors": ("ParleyError", "CorpusError", "IndexUnreadableError", "NoIndexError",
                            "BuildLockedError"),
    "parley.index.model": ("Passage", "DocumentHeader", "IndexedDocument", "Framing", "Stance", "ClaimFraming",
                           "FRAMINGS", "STANCES", "CLAIM_FRAMINGS", "Voice", "VOICES", "stance_of_claim", "passage_id", "claim_key"),
    "parley.index.sources.read": ("SAFE_URL",),
    "parley.index.sources.ingest": ("add_sources",),
    "parley.index.indexing.build": ("build_index", "BuildReport", "ChunkSettings"),
    "parley.index.indexing.embed": ("Embedder", "packaged_model_path"),
    "parley.index.indexing.propose": ("propose_points",),
    "parley.index.indexing.review": ("ClaimToReview", "review_queue", "find_claim", "record_decision",
                                  "write_decisions"),
    "parley.index.store.manifest": ("Manifest",),
    "parley.index.store.versions": ("IndexLocation", "VersionRegistry", "PublishedVersion"),
    "parley.index.store.lexical": ("bm25_tokens",),
    "parley.index.search.retriever": ("Retriever", "Retrieval", "Hit", "ClaimHit", "SentenceMatch", "Mode",
                                      "SearchSettings", "PointMatch"),
    "parley.index.search.served": ("ServedIndex", "Reindexer", "ReindexJob", "VersionFollower"),
}
HOME_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(HOME_OF)


def __getattr__(name: str) -> Any:
    module = HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'parley.index' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found once; later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return __all__

