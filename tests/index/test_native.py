"""The compiled code of a large index (index/native.py, index/pruned.py): the build
compiles it into the cache, so that a new serving process finds every function it calls
there instead of compiling for seconds before its first answer."""

import json
import os
import subprocess
import sys
import textwrap

# Both scripts make a 3,000-passage index count as large (IVF-PQ vectors, pruned BM25).
LARGE = """
import sys
from pathlib import Path
import numpy as np
from parley.index.store import lexical
from parley.index.store import vectors
lexical.PRUNED_ABOVE = vectors.APPROXIMATE_ABOVE = 1_000
folder, count = Path(sys.argv[1]), 3_000
"""

BUILD = LARGE + """
rng = np.random.default_rng(0)
words = [f"w{i}" for i in range(300)]
lexical.LexicalIndex.build([" ".join(rng.choice(words, 20)) for _ in range(count)]).save(folder / "bm25")
unit = rng.standard_normal((count, 384)).astype(np.float32)
vectors.PassageVectors.build(unit / np.linalg.norm(unit, axis=1, keepdims=True)).save(folder / "vectors.faiss")
"""

SERVE = LARGE + """
import json
from parley.index.store import native
from parley.index.store import pruned
from parley.index.store.sentences import SentenceTable
bm25 = lexical.LexicalIndex.load(folder / "bm25", count)
passages = vectors.PassageVectors.load(folder / "vectors.faiss")
query = passages.rows(np.array([7]))[0]
assert bm25.top("w1 w2 w3", 100)[0].size and passages.search(query, 100)[0][0] == 7
functions = (pruned.top_k, native.read_rows, native.half_dots)
print(json.dumps({f.__name__: [sum(f.stats.cache_hits.values()), sum(f.stats.cache_misses.values())]
                  for f in functions}))
"""


def _run(script: str, folder, cache) -> str:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(cache)}
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(script), str(folder)], env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_a_serving_process_finds_the_builds_compiled_code_in_the_cache(tmp_path):
    folder, cache = tmp_path / "index", tmp_path / "numba-cache"
    folder.mkdir()
    _run(BUILD, folder, cache)
    counts = json.loads(_run(SERVE, folder, cache).strip().splitlines()[-1])
    assert counts == {name: [hits, 0] for name, (hits, _) in counts.items()}  # no compile
    assert all(hits >= 1 for hits, _ in counts.values())
