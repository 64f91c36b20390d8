"""The sentences of every passage: document offsets, float16 vectors and the claim each
makes (its framing, how sure, reviewed or not, and who says it), so a question can be
matched to the sentence that answers it, a quote cut down to it, and each framing's claims
searched across the whole corpus."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np


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
    # The claim of each sentence (``stance.py``): an index into ``CLAIM_FRAMINGS``
    # (0 none, 1 race, 2 cooperation), its confidence, whether a person reviewed it, and
    # its speaker as an index into ``speakers`` (-1: nobody named).
    framing: np.ndarray  # int8
    confidence: np.ndarray  # float16
    reviewed: np.ndarray  # bool
    speaker_ids: np.ndarray  # int32
    speakers: tuple[str, ...]

    def claims_of(self, code: int) -> np.ndarray:
        """Indices of the sentences whose framing is ``code``."""
        return np.flatnonzero(self.framing == code)

    def speaker(self, sentence: int) -> str | None:
        at = int(self.speaker_ids[sentence])
        return self.speakers[at] if at >= 0 else None

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
            np.savez(handle, rows=self.rows, spans=self.spans, vectors=self.vectors.astype(np.float16),
                     framing=self.framing, confidence=self.confidence, reviewed=self.reviewed,
                     speaker_ids=self.speaker_ids, speakers=np.array(self.speakers, dtype=str))

    @classmethod
    def load(cls, path: Path) -> SentenceTable:
        with np.load(path) as data:
            return cls(rows=data["rows"], spans=data["spans"], vectors=data["vectors"], framing=data["framing"],
                       confidence=data["confidence"], reviewed=data["reviewed"], speaker_ids=data["speaker_ids"],
                       speakers=tuple(str(x) for x in data["speakers"]))
