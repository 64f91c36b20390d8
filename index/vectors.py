"""The passage vectors in FAISS: exact search up to ``APPROXIMATE_ABOVE`` passages, an
inverted-file index above. Inner product on unit vectors, so a score is a cosine."""

from __future__ import annotations

import errno
import math
from pathlib import Path

import numpy as np

# Exact search reads every vector for every question. Past ~20k passages (30 MB of
# vectors, more than the CPU cache) its p95 passes 2 ms and grows linearly: 7 ms at 50k,
# 15 ms at 100k on 2 cores. Above that, an inverted-file index (IVF-Flat, 4·√n lists):
# against HNSW (M=32) at 100k and 1M passages it reached higher recall@10 per millisecond
# and built 3x faster (benchmarks/ann_choice.py, README "Performance"). IVF_PROBES lists
# are searched per question: recall@10 0.995 at 1M passages, p95 2.9 ms.
APPROXIMATE_ABOVE = 20_000
IVF_PROBES = 96


class PassageVectors:
    """One vector per passage, row i for passage i."""

    def __init__(self, faiss_index, kind: str):
        self._index = faiss_index
        self.kind = kind  # "flat" (exact) or "ivf<lists>" (approximate)

    @property
    def count(self) -> int:
        return self._index.ntotal

    @property
    def dimension(self) -> int:
        return self._index.d

    @classmethod
    def build(cls, vectors: np.ndarray) -> PassageVectors:
        """The FAISS index for ``vectors``: exact up to ``APPROXIMATE_ABOVE``."""
        return cls(*cls._faiss_index(vectors))

    @staticmethod
    def _faiss_index(vectors: np.ndarray):
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

    def save(self, path: Path) -> None:
        import faiss

        try:
            faiss.write_index(self._index, str(path))
        except RuntimeError as error:  # FAISS reports a failed write (full disk...) this way
            reason = str(error).rsplit(":", 1)[-1].strip()
            raise OSError(errno.EIO, f"cannot write {path.name}: {reason}") from error

    @classmethod
    def load(cls, path: Path) -> PassageVectors:
        import faiss

        index = faiss.read_index(str(path))
        if isinstance(index, faiss.IndexIVF):
            index.nprobe = IVF_PROBES
            if index.direct_map.type == faiss.DirectMap.NoMap:
                index.make_direct_map()
            return cls(index, f"ivf{index.nlist}")
        return cls(index, "flat")

    def all(self) -> np.ndarray:
        """All passage vectors, row i for passage i."""
        return self._index.reconstruct_n(0, self._index.ntotal)

    def rows(self, rows: np.ndarray) -> np.ndarray:
        """Vectors of the passages at ``rows``."""
        return self._index.reconstruct_batch(np.asarray(rows, dtype=np.int64))

    def search(self, query_vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """``(row, cosine)`` of the ``k`` passages nearest to a unit ``query_vector``."""
        k = min(k, self._index.ntotal)
        if k <= 0:
            return []
        scores, rows = self._index.search(query_vector.reshape(1, -1).astype(np.float32), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0]) if r >= 0]
