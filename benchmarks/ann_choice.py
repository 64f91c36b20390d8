"""How the approximate index was chosen: IVF-Flat against HNSW on a synthetic corpus.

    .venv/bin/python benchmarks/ann_choice.py [SIZE] [INDEX_DIR]

SIZE passages (default 100000) are recombined from the built index (index/synthetic.py:
real sentences, vectors derived from their real vectors). Queries: the 75 evaluation
questions, embedded by the index's encoder, and 200 passage-like vectors. For each
setting: build seconds, recall@10 against exact search, and search p50/p95 per query
for the 100 candidates the hybrid search asks for. The million takes ~10 minutes (HNSW
builds for about 4) and ~12 GB of memory.
"""
import statistics
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parley.bot.bench import load_questions  # noqa: E402
from parley.index.store import load_index  # noqa: E402
from parley.index.synthetic import synthesize  # noqa: E402

size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
source = load_index((Path(sys.argv[2]) if len(sys.argv) > 2 else Path("data/index")).joinpath("current").resolve())
vectors = synthesize(source, size).vectors
dimension = vectors.shape[1]
rng = np.random.default_rng(1)
near = vectors[rng.integers(0, size, 200)] + rng.standard_normal((200, dimension), dtype=np.float32) * 0.03
near /= np.linalg.norm(near, axis=1, keepdims=True)
queries = np.vstack([source.query_encoder().encode(load_questions()), near]).astype(np.float32)
exact = faiss.IndexFlatIP(dimension)
exact.add(vectors)
_, truth = exact.search(queries, 10)


def measure(index, label: str, build_seconds: float) -> None:
    times, recalls = [], []
    for query, expected in zip(queries, truth):
        started = time.perf_counter()
        _, rows = index.search(query.reshape(1, -1), 100)
        times.append((time.perf_counter() - started) * 1000)
        recalls.append(len(set(rows[0][:10].tolist()) & set(expected.tolist())) / 10)
    print(f"{label:38} build {build_seconds:6.1f} s  recall@10 {statistics.mean(recalls):.3f}  "
          f"p50 {np.percentile(times, 50):5.2f} ms  p95 {np.percentile(times, 95):5.2f} ms", flush=True)


measure(exact, "exact (IndexFlatIP)", 0.0)
lists = 1 << round(np.log2(4 * np.sqrt(size)))
ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
started = time.perf_counter()
ivf.train(vectors[np.sort(rng.choice(size, min(size, 40 * lists), replace=False))])
ivf.add(vectors)
built = time.perf_counter() - started
for probes in (32, 64, 96, 128):
    ivf.nprobe = probes
    measure(ivf, f"IVF-Flat {lists} lists, {probes} probes", built)
del ivf
hnsw = faiss.IndexHNSWFlat(dimension, 32, faiss.METRIC_INNER_PRODUCT)
hnsw.hnsw.efConstruction = 80
started = time.perf_counter()
hnsw.add(vectors)
built = time.perf_counter() - started
for ef in (128, 256, 512, 1024):
    hnsw.hnsw.efSearch = ef
    measure(hnsw, f"HNSW M=32, efSearch {ef}", built)
