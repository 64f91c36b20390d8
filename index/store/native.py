"""Compiled loops (numba) for the hot paths of a large index: reading rows of a column
file, and BM25's pruned top k (pruned.py).

numba caches machine code per function in ``NUMBA_CACHE_DIR`` (by default
``~/.cache/parley/numba``), set here before numba is imported, so that a new process does
not compile again. The build calls each function once, so a serving process run by the
same user finds them compiled.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("NUMBA_CACHE_DIR", str(Path.home() / ".cache" / "parley" / "numba"))

from numba import njit, types  # noqa: E402 — after the cache folder is set

# libc's pread, linked by name (a ctypes pointer would make the function uncacheable).
_pread = types.ExternalFunction("pread", types.intp(types.intc, types.voidptr, types.uintp, types.int64))


@njit(cache=True, nogil=True)
def read_rows(fd, data_offset, row_bytes, rows, out, gap_rows):
    """Rows ``rows`` (any order, repeats allowed) of a file of fixed-size rows starting at
    ``data_offset`` into ``out`` (uint8, one row of ``row_bytes`` each): one ``pread`` per
    run of sorted rows at most ``gap_rows`` apart. Returns False on a failed or short read.

    Compiled, and without the GIL: a question reads a few hundred scattered rows, and in
    Python the loop around each read cost more than the read (1.0 ms for 400 rows, 0.23
    compiled), while the other search thread waited for the interpreter."""
    count = len(rows)
    order = np.argsort(rows, kind="mergesort")
    scratch = np.empty(0, np.uint8)
    first = 0
    while first < count:
        last = first
        while last + 1 < count and rows[order[last + 1]] - rows[order[last]] <= gap_rows:
            last += 1
        start = rows[order[first]]
        wanted = (rows[order[last]] - start + 1) * row_bytes
        if wanted > len(scratch):
            scratch = np.empty(wanted, np.uint8)
        if _pread(fd, scratch.ctypes.data, wanted, data_offset + start * row_bytes) != wanted:
            return False
        for m in range(first, last + 1):
            at = (rows[order[m]] - start) * row_bytes
            out[order[m], :] = scratch[at : at + row_bytes]
        first = last + 1
    return True


# Every float16 bit pattern as a float32: numpy converts float16 one element at a time
# (0.39 ms for the 600 rows a question reads), a table look-up in a compiled loop takes 0.08.
HALF_TO_SINGLE = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)


@njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def half_dots(halves, query, table):
    """Dot product of each row of ``halves`` (float16 bit patterns, uint16) with the
    float32 ``query``; ``table`` is ``HALF_TO_SINGLE``. Summed in float32, in any order."""
    count, dimension = halves.shape
    out = np.empty(count, np.float32)
    for i in range(count):
        total = np.float32(0.0)
        for j in range(dimension):
            total += table[halves[i, j]] * query[j]
        out[i] = total
    return out
