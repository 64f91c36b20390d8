"""Each framing's claims, searchable by centred cosine across the whole index.

In a corpus that is all about the US, China and AI, raw cosines are dominated by that
shared topic, so claims are compared after centring on the mean sentence vector (see
``search.retriever.ClaimHit``). The centred cosine of a claim ``s`` and a question ``q`` is the inner
product of ``(s - mean) / |s - mean|`` and ``(q - mean) / |q - mean|``, so each framing's
claims are stored centred and normalised in a vector index (``vectors.PassageVectors``:
exact on a small corpus, an IVF-PQ index with exact re-ranking past
``vectors.APPROXIMATE_ABOVE`` claims), and a question reads
only the claims it finds instead of multiplying every claim's vector.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from parley.index.store.sentences import SentenceTable
from parley.index.store.vectors import PassageVectors


def centred(vectors: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Unit vectors of ``vectors - mean``, float32."""
    shifted = np.asarray(vectors, dtype=np.float32) - mean
    norms = np.linalg.norm(shifted, axis=-1, keepdims=True)
    return (shifted / np.maximum(norms, 1e-9)).astype(np.float32)


class ClaimIndex:
    """The claims of one framing: ``members`` are their sentence indices in the table."""

    def __init__(self, members: np.ndarray, vectors: PassageVectors | None):
        self.members = members
        self._vectors = vectors

    @classmethod
    def build(cls, table: SentenceTable, code: int) -> ClaimIndex:
        members = table.claims_of(code)
        if not len(members):
            return cls(members, None)
        # In blocks: at a million passages a framing has hundreds of thousands of claims.
        parts = [centred(np.asarray(table.vectors[members[i : i + 100_000]]), table.centre())
                 for i in range(0, len(members), 100_000)]
        return cls(members, PassageVectors.build(np.vstack(parts)))

    def save(self, path: Path) -> None:
        if self._vectors is not None:
            self._vectors.save(path)

    @classmethod
    def load(cls, path: Path, table: SentenceTable, code: int) -> ClaimIndex:
        members = table.claims_of(code)
        vectors = PassageVectors.load(path) if len(members) else None
        if vectors is not None and vectors.count != len(members):
            raise ValueError(f"{path.name} holds {vectors.count} claims, the sentence table {len(members)}")
        return cls(members, vectors)

    def search(self, centred_query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The sentence indices of the ``k`` claims nearest to ``centred_query``, and their
        centred cosines, best first."""
        if self._vectors is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        found = self._vectors.search(centred_query, k)
        positions = np.array([p for p, _ in found], dtype=np.int64)
        return self.members[positions], np.array([s for _, s in found], dtype=np.float32)
