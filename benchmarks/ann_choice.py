"""How the approximate index was chosen: IVF-Flat against HNSW on a synthetic corpus.

    .venv/bin/python benchmarks/ann_choice.py [--size N] [--index DIR] QUESTIONS...

e.g. ``benchmarks/ann_choice.py --index data/index tests/eval/dev.jsonl tests/eval/calibration.jsonl``.
N passages (default 100000) are recombined from the built index at DIR (default data/index)
by parley.bot.measure.synthetic: real sentences, vectors derived from their real vectors.
Queries: the questions of the given files (tests/eval/README.md format), embedded by the
index's encoder, and 200 passage-like vectors. For each setting: build seconds, recall@10
against exact search, and search p50/p95 per query for the 100 candidates the hybrid
search asks for. The million takes ~10 minutes (HNSW builds for about 4) and ~12 GB of
memory.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import faiss
import numpy as np

from parley.bot.measure.evaluate import load_questions
from parley.bot.measure.synthetic import synthesize
from parley.index.store.versions import IndexLocation


def main() -> None:
    parser = argparse.ArgumentParser(description="IVF-Flat against HNSW on a synthetic corpus.")
    parser.add_argument("questions", type=Path, nargs="+", metavar="QUESTIONS", help="question files (JSON Lines)")
    parser.add_argument("--size", type=int, default=100_000, help="synthetic passages (default 100000)")
    parser.add_argument("--index", type=Path, default=Path("data/index"), help="built index (default data/index)")
    args = parser.parse_args()

    source = IndexLocation(args.index).open()
    vectors = synthesize(source, args.size).vectors
    size, dimension = vectors.shape
    questions = [question.q for path in args.questions for question in load_questions(path)]
    rng = np.random.default_rng(1)
    near = vectors[rng.integers(0, size, 200)] + rng.standard_normal((200, dimension), dtype=np.float32) * 0.03
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    queries = np.vstack([source.query_encoder().encode(questions), near]).astype(np.float32)
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


if __name__ == "__main__":
    main()
