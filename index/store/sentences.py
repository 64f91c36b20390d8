"""The sentences of every passage: document offsets, float16 vectors and the claim each
makes (its framing, how sure, reviewed or not, and who says it), so a question can be
matched to the sentence that answers it, a quote cut down to it, and each framing's claims
searched across the whole corpus.

On disk, a folder of ``.npy`` columns. Loaded, the small columns are in memory and the
vectors are read a few rows at a time (``columns.RowFile``): at a million passages they
are 3 GB, and a question reads a few hundred of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parley.index.model import VOICES, Voice
from parley.index.store.columns import RowFile, dots

_COLUMNS = ("rows", "spans", "framing", "confidence", "reviewed", "speaker_ids", "voices")
# Vectors up to this size are simply read into memory (about 80,000 sentences, 20,000
# passages): numpy indexing in memory is faster than any read, and the memory is small.
IN_MEMORY_BYTES = 64 << 20


@dataclass(frozen=True)
class SentenceTable:
    """Sentences of all passages in passage order: ``rows[i]`` is the passage row of
    sentence i, ``spans[i]`` its (start, end) in the document, ``vectors[i]`` its vector."""

    rows: np.ndarray  # int32, non-decreasing
    spans: np.ndarray  # int32, shape (n, 2)
    # float16 on disk and in memory: about four sentences per passage make this the
    # largest part of an index (6 GB at a million passages in float32), and a cosine
    # only changes by ~1e-3, which never reorders the best sentence in practice.
    vectors: np.ndarray | RowFile  # shape (n, dimension)
    # The claim of each sentence (``stance.py``): an index into ``CLAIM_FRAMINGS``
    # (0 none, 1 race, 2 cooperation), its confidence, whether a person reviewed it, and
    # its speaker as an index into ``speakers`` (-1: nobody named) with the voice they are
    # named in (0: none, then 1 + the index into ``VOICES``).
    framing: np.ndarray  # int8
    confidence: np.ndarray  # float16
    reviewed: np.ndarray  # bool
    speaker_ids: np.ndarray  # int32
    speakers: tuple[str, ...]
    voices: np.ndarray  # int8
    # The mean of all sentence vectors (float32): claims are compared after centring on it
    # (search.py). Computed when the table is built, stored with it.
    mean: np.ndarray | None = None

    def centre(self) -> np.ndarray:
        """The mean sentence vector (zeros for an empty table)."""
        if self.mean is not None:
            return self.mean
        if not len(self.rows):
            return np.zeros(self.vectors.shape[1], dtype=np.float32)
        return np.asarray(self.vectors).mean(axis=0, dtype=np.float32)

    def claims_of(self, code: int) -> np.ndarray:
        """Indices of the sentences whose framing is ``code``."""
        return np.flatnonzero(self.framing == code)

    def speaker(self, sentence: int) -> str | None:
        at = int(self.speaker_ids[sentence])
        return self.speakers[at] if at >= 0 else None

    def voice(self, sentence: int) -> Voice | None:
        code = int(self.voices[sentence])
        return VOICES[code - 1] if code > 0 else None

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
        scores = dots(self.vectors, members, query)
        present = lengths > 0
        best[present] = np.maximum.reduceat(scores, offsets[present])
        return best

    def save(self, directory: Path) -> None:
        """Write the table as a folder of ``.npy`` columns (``vectors.npy`` as float16)."""
        directory.mkdir()
        for name in _COLUMNS:
            np.save(directory / f"{name}.npy", getattr(self, name), allow_pickle=False)
        np.save(directory / "vectors.npy", np.asarray(self.vectors).astype(np.float16), allow_pickle=False)
        np.save(directory / "mean.npy", self.centre().astype(np.float32), allow_pickle=False)
        (directory / "speakers.json").write_text(json.dumps(list(self.speakers), ensure_ascii=False),
                                                 encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> SentenceTable:
        """The table, its vectors in memory up to ``IN_MEMORY_BYTES``, else read on demand."""
        columns = {name: np.load(directory / f"{name}.npy", allow_pickle=False) for name in _COLUMNS}
        speakers = tuple(json.loads((directory / "speakers.json").read_text(encoding="utf-8")))
        path = directory / "vectors.npy"
        vectors = np.load(path, allow_pickle=False) if path.stat().st_size <= IN_MEMORY_BYTES else RowFile(path)
        return cls(**columns, vectors=vectors, speakers=speakers, mean=np.load(directory / "mean.npy", allow_pickle=False))
