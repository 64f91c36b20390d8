"""Exact top-k BM25 on a large index without adding up every posting (block-max pruning).

bm25s scores a question by adding up the postings of each of its terms: at a million
passages of a corpus that is all about AI and China, "ai" and "china" are in nearly every
passage, and one question costs ~10 ms however few results it needs. Here the passages
are cut into ranges of ``RANGE_ROWS`` rows and, at build time, each term gets its highest
score in each range. A question:

1. bounds every range from above (the sum of its terms' range maxima);
2. scores the ranges in the order of their bounds, keeping the k best rows so far; their
   k-th score is a floor, and it stops at the first range whose bound cannot beat it;
3. in a range, adds up the postings of the terms that matter there, and looks up the
   others (a few common terms worth at most ``LOOKUP_SHARE`` of the floor together) only
   for the rows that could still beat the floor with them (block-max MaxScore).

On this corpus the range bounds skip only a sixth of the ranges or so: synthetic or not,
every range holds "ai", "china" and "us". Those terms hold most of a question's postings
and add least to any score, which step 3 exploits.

The scores are bm25s's own per-posting scores, so the result is the exact top k (up to the
order of float32 additions). Measured against the engines made for this, on this
machine's synthetic million passages (docs/performance.md): tantivy's Python binding does
not prune (its collector skips block-max WAND) and rounds passage lengths, recall@10 0.94;
PISA's block-max WAND (pyterrier-pisa) was no faster than bm25s at p95 and uses another
idf (recall 0.93). For the top 100 of the 75 dev and calibration questions, this took 2.1
ms at p50 and 4.0 at p95 without step 3, and takes 1.6 and 3.0 with it; recall 1.000.

Compiled with numba (native.py, which caches the machine code).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from parley.index.store.native import njit

RANGE_ROWS = 4096
# Terms looked up rather than added, at most this share of the floor together (top_k).
LOOKUP_SHARE = 0.2
_FILES = ("range-pointers", "range-ids", "range-starts", "range-maxima")


@njit(cache=True)
def range_table(indices, indptr, rows_per_range):
    """For each term, the ranges its postings fall in and where each range's postings start."""
    terms = len(indptr) - 1
    count = 0
    for t in range(terms):
        last = -1
        for p in range(indptr[t], indptr[t + 1]):
            r = indices[p] // rows_per_range
            if r != last:
                count += 1
                last = r
    pointers = np.zeros(terms + 1, np.int64)
    ids = np.empty(count, np.int32)
    starts = np.empty(count + 1, np.int64)
    q = 0
    for t in range(terms):
        last = -1
        for p in range(indptr[t], indptr[t + 1]):
            r = indices[p] // rows_per_range
            if r != last:
                ids[q] = r
                starts[q] = p
                q += 1
                last = r
        pointers[t + 1] = q
    starts[count] = len(indices)
    return pointers, ids, starts

@njit(cache=True)
def range_maxima(data, starts):
    out = np.empty(len(starts) - 1, np.float32)
    for q in range(len(out)):
        best = np.float32(0.0)
        for p in range(starts[q], starts[q + 1]):
            if data[p] > best:
                best = data[p]
        out[q] = best
    return out

@njit(cache=True, nogil=True)
def compact(buffer_scores, buffer_rows, n, k):
    """Keep the k best of the first n buffered rows at the front; (k, their k-th score)."""
    if n <= k:
        return n, np.float32(0.0)
    kth = -np.partition(-buffer_scores[:n], k - 1)[k - 1]
    scores = np.empty(k, np.float32)
    rows = np.empty(k, np.int64)
    m = 0
    for i in range(n):  # strictly better first: fewer than k of them
        if buffer_scores[i] > kth:
            scores[m] = buffer_scores[i]
            rows[m] = buffer_rows[i]
            m += 1
    for i in range(n):  # then rows tied with the k-th, up to k
        if m == k:
            break
        if buffer_scores[i] == kth:
            scores[m] = buffer_scores[i]
            rows[m] = buffer_rows[i]
            m += 1
    buffer_scores[:m] = scores[:m]
    buffer_rows[:m] = rows[:m]
    return m, kth

@njit(cache=True, nogil=True)
def posting_at(indices, cursor, end, row):
    """Where ``row`` is, or would be, among the sorted ``indices[cursor:end]``: a galloping
    search from ``cursor``, cheap when the rows looked up rise, as a range's do."""
    step = 1
    while cursor + step < end and indices[cursor + step] <= row:
        step *= 2
    low, high = cursor, min(cursor + step, end)
    while low < high:
        middle = (low + high) // 2
        if indices[middle] < row:
            low = middle + 1
        else:
            high = middle
    return low

@njit(cache=True, nogil=True)
def top_k(data, indices, pointers, ids, starts, maxima, terms, weights, ranges, rows_per_range, k, lookup_share,
          totals, buffer_scores, buffer_rows):
    count = len(totals)
    term_count = len(terms)
    # entry[i, r]: term i's entry in the range table for range r (-1: no posting there)
    entry = np.full((term_count, ranges), -1, np.int64)
    bound = np.zeros(ranges, np.float32)
    for i in range(term_count):
        for q in range(pointers[terms[i]], pointers[terms[i] + 1]):
            entry[i, ids[q]] = q
            bound[ids[q]] += weights[i] * maxima[q]
    ceiling = np.empty(term_count, np.float32)
    cursor = np.empty(term_count, np.int64)
    n = 0
    floor = np.float32(0.0)
    for r in np.argsort(-bound):  # most promising first: the floor rises fastest
        if bound[r] <= floor:
            break  # and so are all the ranges after it
        for i in range(term_count):
            ceiling[i] = weights[i] * maxima[entry[i, r]] if entry[i, r] >= 0 else np.float32(0.0)
        # The terms that can add least here, up to lookup_share of the floor together, are
        # looked up for the rows that could still pass; the others are added for every row.
        by_ceiling = np.argsort(ceiling)
        looked_up = 0
        lookup_bound = np.float32(0.0)
        while looked_up < term_count and lookup_bound + ceiling[by_ceiling[looked_up]] <= lookup_share * floor:
            lookup_bound += ceiling[by_ceiling[looked_up]]
            cursor[looked_up] = starts[entry[by_ceiling[looked_up], r]] if entry[by_ceiling[looked_up], r] >= 0 else -1
            looked_up += 1
        # (A term absent from the range can add 0, so it is always among those looked up.)
        for s in range(looked_up, term_count):
            i = by_ceiling[s]
            q = entry[i, r]
            for p in range(starts[q], starts[q + 1]):
                totals[indices[p]] += weights[i] * data[p]
        low = r * rows_per_range
        high = min(low + rows_per_range, count)
        for block in range(low, high, 64):
            block_end = min(block + 64, high)
            # A block whose best row cannot pass is only cleared (a loop numba vectorizes);
            # a test per row would mispredict about half the time.
            best = np.float32(0.0)
            for row in range(block, block_end):
                best = max(best, totals[row])
            if best + lookup_bound <= floor:
                totals[block:block_end] = 0
                continue
            for row in range(block, block_end):
                score = totals[row]
                totals[row] = 0
                if score + lookup_bound <= floor:
                    continue
                remaining = lookup_bound  # what the terms not yet looked up can add
                for s in range(looked_up - 1, -1, -1):  # the weightiest first
                    if score + remaining <= floor:
                        break
                    remaining -= ceiling[by_ceiling[s]]
                    if cursor[s] >= 0:
                        q = entry[by_ceiling[s], r]
                        cursor[s] = posting_at(indices, cursor[s], starts[q + 1], row)
                        if cursor[s] < starts[q + 1] and indices[cursor[s]] == row:
                            score += weights[by_ceiling[s]] * data[cursor[s]]
                if score > floor:
                    buffer_scores[n] = score
                    buffer_rows[n] = row
                    n += 1
                    if n == len(buffer_scores):
                        n, floor = compact(buffer_scores, buffer_rows, n, k)
        if n >= 4 * k:  # not after every range: each compaction sorts the buffer
            n, floor = compact(buffer_scores, buffer_rows, n, k)
    best_first = np.argsort(-buffer_scores[:n])[:k]
    return buffer_rows[best_first].copy(), buffer_scores[best_first].copy()


def write_ranges(directory: Path, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, count: int) -> None:
    """Each term's maximum score per range of ``RANGE_ROWS`` rows, as ``.npy`` files in
    ``directory`` (bm25s's folder); the build writes them for a large index."""
    pointers, ids, starts = range_table(np.ascontiguousarray(indices, dtype=np.int32),
                                        np.ascontiguousarray(indptr, dtype=np.int64), RANGE_ROWS)
    maxima = range_maxima(np.ascontiguousarray(data, dtype=np.float32), starts)
    for name, array in zip(_FILES, (pointers, ids, starts, maxima)):
        np.save(directory / f"{name}.npy", array, allow_pickle=False)
    # Compile the search now (or find it in the cache), so that the first question of a
    # serving process run by the same user does not wait ~10 s for it (tests/index/test_native.py).
    PrunedBM25(directory, data, indices, count).search(np.zeros(1, dtype=np.int64), np.ones(1, dtype=np.float32), 1)


def _read_only(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.flags.writeable = False
    return view


def has_ranges(directory: Path) -> bool:
    return all((directory / f"{name}.npy").is_file() for name in _FILES)


class PrunedBM25:
    """The exact top k of a bm25s index with range tables (``write_ranges``)."""

    def __init__(self, directory: Path, data: np.ndarray, indices: np.ndarray, count: int):
        # Plain arrays over the same (memory-mapped) memory: numba takes ndarrays, not memmaps.
        # Read-only whether they come from the build (in memory) or a load (a read-only map):
        # numba compiles once per kind of array, and the build compiles for the load.
        self._data = _read_only(np.ascontiguousarray(data, dtype=np.float32))
        self._indices = _read_only(np.ascontiguousarray(indices, dtype=np.int32))
        self._pointers, self._ids, self._starts, self._maxima = (
            np.ascontiguousarray(np.load(directory / f"{name}.npy", mmap_mode="r", allow_pickle=False))
            for name in _FILES)
        self._count = count
        self._ranges = (count + RANGE_ROWS - 1) // RANGE_ROWS
        # Scratch space per thread: questions are answered on several threads at once.
        self._scratch = threading.local()

    def search(self, terms: np.ndarray, weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows and scores of the ``k`` best passages for term ids ``terms`` (each counted
        ``weights`` times), best first."""
        scratch = self._scratch
        if getattr(scratch, "totals", None) is None or len(scratch.rows) < 4 * k:
            scratch.totals = np.zeros(self._count, np.float32)
            scratch.scores = np.empty(max(65_536, 4 * k), np.float32)
            scratch.rows = np.empty(max(65_536, 4 * k), np.int64)
        return top_k(self._data, self._indices, self._pointers, self._ids, self._starts, self._maxima,
                           terms, weights, self._ranges, RANGE_ROWS, k, LOOKUP_SHARE, scratch.totals,
                           scratch.scores, scratch.rows)
