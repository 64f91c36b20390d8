"""The passage vectors: exact search up to ``APPROXIMATE_ABOVE`` passages, an inverted file
with compressed vectors above, re-ranked with the exact ones. Inner product on unit
vectors, so a score is a cosine. The same structure serves each framing's claims
(``claims.py``), over centred vectors.

Above ``APPROXIMATE_ABOVE``, FAISS holds each vector as a 48-byte product-quantizer code
(IVF-PQ): 48 MB at a million passages, where float32 lists were 1.5 GB and 8-bit ones 0.4
GB, each of which a serving process ended up holding whole after a few hundred questions
(every list gets probed by some question). The exact vectors are kept beside it as
float16 rows (``.npy``, read a few rows at a time by ``columns.RowFile``): a search takes
four times the candidates it needs from the codes and orders them by their exact cosines,
and every cosine Parley reports is exact.
"""

from __future__ import annotations

import errno
import math
from pathlib import Path

import numpy as np

from parley.index.store.columns import RowFile, dots

# Exact search reads every vector for every question. Past ~20k passages (30 MB of
# vectors, more than the CPU cache) its p95 passes 2 ms and grows linearly: 7 ms at 50k,
# 15 ms at 100k on 2 cores. Above that, an inverted file (4·√n lists): against HNSW
# (M=32) at 100k and 1M passages it reached higher recall@10 per millisecond and built 3x
# faster (benchmarks/ann_choice.py, docs/performance.md). IVF_PROBES lists are searched
# per question.
APPROXIMATE_ABOVE = 20_000
IVF_PROBES = 96
PQ_BYTES = 48  # bytes per vector: 48 sub-vectors of 8 dimensions, 8 bits each
# Candidates taken from the codes per result wanted (at least RERANK_MIN), re-scored with
# the exact vectors. At a million passages, for the 100 the hybrid search takes: twice as
# many gave recall@10 0.918 against exact search, four times 0.968 (p95 2.0 / 2.4 ms),
# eight times 0.987 (3.7 ms).
RERANK = 4
RERANK_MIN = 64


class PassageVectors:
    """One vector per passage, row i for passage i."""

    def __init__(self, faiss_index, kind: str, exact: np.ndarray | RowFile | None = None):
        self._index = faiss_index
        self.kind = kind  # "flat" (exact) or "ivf<lists>-pq" (approximate, re-ranked)
        self._exact = exact  # float16 rows beside an inverted file; None for flat

    @property
    def count(self) -> int:
        return self._index.ntotal

    @property
    def dimension(self) -> int:
        return self._index.d

    @classmethod
    def build(cls, vectors: np.ndarray) -> PassageVectors:
        """The index for ``vectors``: exact up to ``APPROXIMATE_ABOVE``."""
        import faiss

        count, dimension = vectors.shape
        if count <= APPROXIMATE_ABOVE:
            flat = faiss.IndexFlatIP(dimension)
            flat.add(vectors)
            return cls(flat, "flat")
        lists = 1 << round(math.log2(4 * math.sqrt(count)))
        ivf = faiss.IndexIVFPQ(faiss.IndexFlatIP(dimension), dimension, lists, PQ_BYTES, 8,
                               faiss.METRIC_INNER_PRODUCT)
        # k-means wants ~40 points per list (and the quantizer 256 per code); a fixed
        # sample keeps rebuilds reproducible.
        sample = np.random.default_rng(0).choice(count, size=min(count, max(40 * lists, 65_536)), replace=False)
        ivf.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
        for start in range(0, count, 100_000):
            ivf.add(np.ascontiguousarray(vectors[start : start + 100_000], dtype=np.float32))
        ivf.nprobe = IVF_PROBES
        return cls(ivf, f"ivf{lists}-pq", vectors.astype(np.float16))

    def save(self, path: Path) -> None:
        import faiss

        try:
            faiss.write_index(self._index, str(path))
        except RuntimeError as error:  # FAISS reports a failed write (full disk...) this way
            reason = str(error).rsplit(":", 1)[-1].strip()
            raise OSError(errno.EIO, f"cannot write {path.name}: {reason}") from error
        if self._exact is not None:
            np.save(_exact_path(path), np.asarray(self._exact, dtype=np.float16), allow_pickle=False)
            # Read a row back and score it: compiles the row reader and the float16 product
            # (native.py) now, or finds them cached, so that the first question of a serving
            # process run by this user does not wait for them (tests/index/test_native.py).
            dots(RowFile(_exact_path(path)), np.zeros(1, dtype=np.int64), np.zeros(self.dimension, dtype=np.float32))

    @classmethod
    def load(cls, path: Path) -> PassageVectors:
        import faiss

        # Read whole: the codes are small (60 MB at a million), and FAISS searched its
        # memory-mapped inverted lists three times slower (1.6 ms against 0.5 at 100,000).
        index = faiss.read_index(str(path))
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = IVF_PROBES
            exact = RowFile(_exact_path(path))
            if exact.shape != (index.ntotal, index.d):
                raise ValueError(f"{_exact_path(path).name} does not hold the {index.ntotal} vectors of {path.name}")
            return cls(index, f"ivf{index.nlist}-pq", exact)
        return cls(index, "flat")

    def all(self) -> np.ndarray:
        """All passage vectors, row i for passage i."""
        if self._exact is not None:
            return np.asarray(self._exact).astype(np.float32)
        return self._index.reconstruct_n(0, self._index.ntotal)

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """Vectors of the passages at ``rows`` (exact)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self._exact is not None:
            return self._exact[rows].astype(np.float32)
        return self._index.reconstruct_batch(rows)

    def cosines(self, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
        """Cosines of the passages at ``rows`` with a unit ``query`` (exact)."""
        if self._exact is not None:
            return dots(self._exact, rows, query)
        return self.rows(rows) @ query

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """``(row, cosine)`` of the ``k`` passages nearest to a unit ``query_vector``."""
        k = min(k, self._index.ntotal)
        if k <= 0:
            return []
        query = query_vector.reshape(1, -1).astype(np.float32)
        if self._exact is None:
            scores, rows = self._index.search(query, k)
            return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]
        _, candidates = self._index.search(query, max(RERANK * k, RERANK_MIN))
        candidates = candidates[0][candidates[0] >= 0]
        cosines = self.cosines(candidates, query[0])
        best = np.argsort(-cosines, kind="stable")[:k]
        return [(int(candidates[i]), float(cosines[i])) for i in best]


def _exact_path(path: Path) -> Path:
    """Where the exact float16 vectors of an inverted-file index are kept."""
    return path.with_suffix(".npy")
