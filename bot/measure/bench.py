"""``parley bench``: Parley's speed beside the naive build, both measured in the same run.

The naive build (naive.py) is what a first version of this bot would be:
sentence-transformers loaded in the process to embed questions, FAISS flat search, and
every passage re-embedded on each re-index. Each figure is a median over repeated runs;
every ratio says how many times better Parley is (above 1 is better). The questions are
passed in (``parley bench --questions FILE``), never read from the source tree.

Start-up figures time fresh processes: the installed ``parley`` command and
``python -m parley.bot.measure.naive``. Scale figures come from child processes too
(``python -m parley.bot.measure.bench scale ...``), so each size starts with a clean heap and
reports its own peak memory.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from parley.bot.measure import naive
from parley.index.errors import ParleyError
from parley.index.manifest import ENCODER_FILE, TOKENIZER_FILE

COLD_QUESTION = "Should the US and China cooperate on AI safety instead of racing?"
ENCODER_FILES = (ENCODER_FILE, TOKENIZER_FILE)


@dataclass(frozen=True)
class Figure:
    section: str
    measure: str
    unit: str
    parley: float
    naive: float | None = None
    target: str | None = None
    met: bool | None = None
    lower_is_better: bool = True

    @property
    def ratio(self) -> float | None:
        """How many times better Parley is than the naive build."""
        if self.naive is None or not self.parley or not self.naive:
            return None
        return self.naive / self.parley if self.lower_is_better else self.parley / self.naive


def load_questions(files: list[Path]) -> list[str]:
    """The text of every question in the given question files (tests/eval/README.md format)."""
    from parley.bot.measure.evaluate import load_questions as load_question_file

    return [question.q for path in files for question in load_question_file(path)]


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(samples, q))


def timed_process(command: list[str], repeats: int, env: dict[str, str] | None = None) -> list[float]:
    """Wall-clock seconds of ``command`` run ``repeats`` times; it must succeed."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})},
                                timeout=600)
        seconds.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:3])}... failed: {result.stderr.strip()[-500:]}")
    return seconds


def parley_command() -> str:
    """The installed ``parley`` command, the one people start: beside this interpreter
    (a virtual environment), else on PATH."""
    beside = Path(sys.executable).with_name("parley")
    found = str(beside) if beside.is_file() else shutil.which("parley")
    if found is None:
        raise ParleyError(f"Cannot find the `parley` command beside {sys.executable} or on PATH: "
                          "install Parley in this environment to time its start-up.")
    return found


def naive_command(*args: str) -> list[str]:
    """A fresh interpreter running the naive build (naive.py)."""
    return [sys.executable, "-m", "parley.bot.measure.naive", *args]


def _child_command(*args: str) -> list[str]:
    """A fresh interpreter running one of this module's children (``main`` below)."""
    return [sys.executable, "-m", "parley.bot.measure.bench", *args]


def cold_start(index_dir: Path, version: Path, repeats: int) -> list[Figure]:
    parley = parley_command()
    tokens = {"DISCORD_TOKEN": "bench", "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "bench"}
    naive_repeats = max(1, min(repeats, 3))  # each naive start costs seconds
    ask = timed_process([parley, "ask", "--index", str(index_dir), COLD_QUESTION], repeats)
    naive_ask = timed_process(naive_command("ask", str(version), COLD_QUESTION), naive_repeats)
    naive_ready = timed_process(naive_command("ready", str(version)), naive_repeats)
    figures = [Figure("cold start", "`parley ask` new process → answer printed", "s", statistics.median(ask),
                      statistics.median(naive_ask), "≤ 1.5 s", statistics.median(ask) <= 1.5)]
    for platform in ("discord", "slack"):
        ready = timed_process([parley, platform, "--check", "--index", str(index_dir)], repeats, tokens)
        figures.append(Figure("cold start", f"`parley {platform}` start → ready (no network)", "s",
                              statistics.median(ready), statistics.median(naive_ready), "≤ 3 s",
                              statistics.median(ready) <= 3.0))
    return figures


def warm_latency(engine, naive_encoder, questions: list[str], passes: int) -> list[Figure]:
    """Per-question latency in one process: Parley (ONNX query encoder, hybrid search)
    against the naive build (sentence-transformers query, FAISS flat)."""
    from parley.bot.answer import AnswerEngine
    from parley.index.served import ServedIndex

    retriever = engine.served.retriever()
    naive_engine = AnswerEngine(ServedIndex(engine.served.location, encoder=naive_encoder))
    index = retriever.index

    def naive_search(question: str) -> None:
        index.vectors.search(naive_encoder.encode([question])[0], 5)

    def sample(function) -> list[float]:
        function(questions[0])  # warm caches and lazy loads
        times = []
        for _ in range(passes):
            for question in questions:
                started = time.perf_counter()
                function(question)
                times.append((time.perf_counter() - started) * 1000)
        return times

    search, ask = sample(lambda q: engine.search(q, 5)), sample(engine.ask)
    naive_s, naive_a = sample(naive_search), sample(naive_engine.ask)
    return [
        Figure("warm", "search p50", "ms", percentile(search, 50), percentile(naive_s, 50)),
        Figure("warm", "search p95", "ms", percentile(search, 95), percentile(naive_s, 95), "≤ 10 ms",
               percentile(search, 95) <= 10),
        Figure("warm", "ask p50", "ms", percentile(ask, 50), percentile(naive_a, 50)),
        Figure("warm", "ask p95", "ms", percentile(ask, 95), percentile(naive_a, 95), "≤ 15 ms",
               percentile(ask, 95) <= 15),
    ]


def reindex(corpus_dir: Path, claim_labels: Path | None, embedder, repeats: int) -> list[Figure]:
    """Full build, one edited document, and nothing changed, on a copy of the corpus."""
    from parley.index.build import build_index, dense_input
    from parley.index.versions import IndexLocation

    parley = parley_command()
    full, edit, naive_full = [], [], []
    passages = 0
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as scratch:
        root = Path(scratch)
        corpus = root / "corpus"
        shutil.copytree(corpus_dir, corpus)
        location = IndexLocation(root / "index")
        for attempt in range(repeats):
            report = build_index(corpus, location, embedder, full=True, claim_labels=claim_labels)
            full.append(report.seconds)
            passages = report.passages
            documents = sorted(corpus.glob("*.txt"))
            edited = documents[attempt % len(documents)]
            edited.write_text(edited.read_text(encoding="utf-8") + f"\nA closing line, edit {attempt}.\n",
                              encoding="utf-8")
            edit.append(build_index(corpus, location, embedder, claim_labels=claim_labels).seconds)
            # The naive re-index: embed every passage again and write a flat index.
            index = location.open()
            texts = [dense_input(index.documents[p.doc_id], p.text) for p in index.passages]
            started = time.perf_counter()
            naive.write_flat_index(embedder.encode(texts, batch_size=32), root / "naive.faiss")  # the library's default
            naive_full.append(time.perf_counter() - started)
        env = {"PARLEY_CLAIM_LABELS": str(claim_labels or "")}
        unchanged = timed_process([parley, "index", "build", "--json", "--corpus", str(corpus),
                                   "--index", str(location.root)], repeats, env)
    naive_process = statistics.median(naive_full) + _naive_import_seconds()
    full_s = statistics.median(full)
    return [
        Figure("re-index", f"full build (--full), {passages} passages + their sentences", "passages/s",
               passages / full_s, passages / statistics.median(naive_full), lower_is_better=False),
        Figure("re-index", "one document edited, rebuild", "s", statistics.median(edit), statistics.median(naive_full)),
        Figure("re-index", "nothing changed, `parley index build` new process", "s", statistics.median(unchanged),
               naive_process, "≤ 1 s", statistics.median(unchanged) <= 1.0),
    ]


def _naive_import_seconds() -> float:
    """What the naive build pays before it can embed anything: importing sentence-transformers."""
    return statistics.median(timed_process(naive_command("import"), 1))


# ---- scale -------------------------------------------------------------------------


def scale(source_dir: Path, size: int, questions: list[str], samples: int = 200) -> dict:
    """Build a synthetic index of ``size`` passages and measure it (run in a child process)."""
    import faiss

    from parley.bot.measure.synthetic import synthesize
    from parley.index.search import Retriever
    from parley.index.store import load_index, write_index

    source = load_index(source_dir)
    encoder = source.query_encoder()
    started = time.perf_counter()
    corpus = synthesize(source, size)
    synthesized = time.perf_counter() - started
    peak = _resident_bytes()
    with tempfile.TemporaryDirectory(prefix="parley-scale-") as scratch:
        directory = Path(scratch) / "version"
        directory.mkdir()
        for name in ENCODER_FILES:
            os.link(source.directory / name, directory / name)
        vectors = corpus.vectors
        started = time.perf_counter()
        manifest = write_index(directory, documents=corpus.documents, passages=corpus.passages, vectors=vectors,
                               bm25_texts=corpus.bm25_texts, sentences=corpus.sentences,
                               model=encoder.info, query_encoder=source.manifest.query_encoder,
                               pipeline=source.manifest.pipeline)
        built = time.perf_counter() - started
        peak = max(peak, _resident_bytes())
        del corpus
        gc.collect()
        encoder_bytes = sum((directory / name).stat().st_size for name in ENCODER_FILES)
        index_bytes = manifest.total_bytes(directory) - encoder_bytes
        serving_bytes = _serving_bytes(directory)
        started = time.perf_counter()
        index = load_index(directory)
        loaded = time.perf_counter() - started
        peak = max(peak, _resident_bytes())
        retriever = Retriever(index, encoder)

        rng = np.random.default_rng(7)
        question_vectors = encoder.encode(questions)
        # Passage-like queries too: a passage's own vector, moved a little.
        near = vectors[rng.integers(0, size, max(0, samples - len(questions)))]
        near = near + rng.standard_normal(near.shape, dtype=np.float32) * 0.03
        near /= np.linalg.norm(near, axis=1, keepdims=True)
        queries = np.vstack([question_vectors, near]).astype(np.float32)

        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        _, truth = exact.search(queries, 10)
        ann, flat, hybrid = [], [], []
        recalls = []
        for i, query in enumerate(queries):
            started = time.perf_counter()
            hits = index.vectors.search(query, 100)
            ann.append((time.perf_counter() - started) * 1000)
            recalls.append(len({row for row, _ in hits[:10]} & set(truth[i].tolist())) / 10)
            started = time.perf_counter()
            exact.search(query.reshape(1, -1), 100)
            flat.append((time.perf_counter() - started) * 1000)
        for question, vector in zip(questions, question_vectors):
            started = time.perf_counter()
            retriever.search_vector(question, vector, 5)
            hybrid.append((time.perf_counter() - started) * 1000)
        peak = max(peak, _resident_bytes())
        del exact, vectors
        n_questions = len(questions)
        return {
            "passages": size,
            "vector_index": index.manifest.vector_index,
            "synthesize_s": synthesized,
            "build_s": built,
            "load_s": loaded,
            "index_bytes": index_bytes,
            "encoder_bytes": encoder_bytes,
            "peak_rss_bytes": peak,
            "serving_bytes": serving_bytes,
            "vector_search_ms": {"p50": percentile(ann, 50), "p95": percentile(ann, 95)},
            "exact_search_ms": {"p50": percentile(flat, 50), "p95": percentile(flat, 95)},
            "hybrid_search_ms": {"p50": percentile(hybrid, 50), "p95": percentile(hybrid, 95)},
            "recall_at_10": float(np.mean(recalls)),
            "recall_at_10_questions": float(np.mean(recalls[:n_questions])),
            "recall_at_10_passage_like": float(np.mean(recalls[n_questions:])) if len(recalls) > n_questions else None,
            "queries": len(queries),
        }


def serving_resident_bytes(directory: Path) -> int:
    """Resident memory of this process once it has loaded an index version and its query
    encoder, i.e. what a bot serving it needs (the interpreter and libraries included).
    Run in a fresh process (``serving`` below), so that nothing else is counted."""
    from parley.index.store import load_index

    index = load_index(directory)
    index.query_encoder().encode(["warm up"])
    return _resident_bytes()


def _resident_bytes() -> int:
    """Resident memory now. Not ru_maxrss: Linux carries the parent's peak into a child."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _serving_bytes(directory: Path) -> int:
    result = subprocess.run(_child_command("serving", str(directory)), capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"serving memory of {directory} failed: {result.stderr.strip()[-800:]}")
    return int(result.stdout.strip().splitlines()[-1])


def scale_figures(result: dict) -> list[Figure]:
    size = result["passages"]
    section = f"scale {size:,} ({result['vector_index']})"
    vector_p95 = result["vector_search_ms"]["p95"]
    at_target = size >= 1_000_000
    return [
        Figure(section, "index build (FAISS, BM25, files)", "s", result["build_s"]),
        Figure(section, "memory of a process serving it", "GB", result["serving_bytes"] / 1e9),
        Figure(section, "memory at its highest (synthesize, build, load, exact copy)", "GB", result["peak_rss_bytes"] / 1e9,
               target="≤ 24 GB", met=result["peak_rss_bytes"] < 24e9),
        Figure(section, "index on disk (without the 90 MB encoder)", "MB", result["index_bytes"] / 1e6),
        Figure(section, "vector search p50", "ms", result["vector_search_ms"]["p50"], result["exact_search_ms"]["p50"]),
        Figure(section, "vector search p95", "ms", vector_p95, result["exact_search_ms"]["p95"],
               "≤ 10 ms" if at_target else None, vector_p95 <= 10 if at_target else None),
        Figure(section, "recall@10 vs exact, all queries", "", result["recall_at_10"], 1.0,
               "≥ 0.95" if at_target else None, result["recall_at_10"] >= 0.95 if at_target else None,
               lower_is_better=False),
        Figure(section, "recall@10 vs exact, real questions", "", result["recall_at_10_questions"], 1.0,
               lower_is_better=False),
        Figure(section, "hybrid search p95 (dense + sentence + BM25)", "ms", result["hybrid_search_ms"]["p95"]),
    ]


def run_scale_child(source_dir: Path, size: int, question_files: list[Path]) -> dict:
    """Measure one size in a fresh interpreter, for a clean peak-memory figure."""
    command = _child_command("scale", str(source_dir), str(size), *map(str, question_files))
    result = subprocess.run(command, capture_output=True, text=True, timeout=3 * 3600)
    if result.returncode != 0:
        raise RuntimeError(f"scale {size} failed: {result.stderr.strip()[-800:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---- report ------------------------------------------------------------------------


def format_table(figures: list[Figure], notes: list[str]) -> str:
    lines = [f"{'':58} {'Parley':>10} {'naive':>10} {'ratio':>8}  {'target':<9} met"]
    section = None
    for figure in figures:
        if figure.section != section:
            section = figure.section
            lines.append(section)
        ratio = f"{figure.ratio:.1f}x" if figure.ratio is not None else ""
        met = {True: "yes", False: "NO", None: ""}[figure.met]
        lines.append(f"  {figure.measure[:56]:56} {_value(figure.parley, figure.unit):>10} "
                     f"{_value(figure.naive, figure.unit):>10} {ratio:>8}  {figure.target or '':<9} {met}")
    return "\n".join(lines + [""] + notes)


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    if unit == "":
        return f"{value:.3f}"
    if unit in ("passages/s", "MB"):
        return f"{value:,.0f} {'p/s' if unit == 'passages/s' else unit}"
    digits = 2 if value < 10 else 1
    return f"{value:.{digits}f} {unit}"


def as_json(figures: list[Figure], notes: list[str], scale_results: list[dict]) -> str:
    rows = [{**asdict(f), "ratio": f.ratio} for f in figures]
    return json.dumps({"naive": naive.DESCRIPTION, "figures": rows, "scale": scale_results, "notes": notes}, indent=2)


def main(argv: list[str]) -> int:
    """The child processes of ``parley bench``:

    ``python -m parley.bot.measure.bench scale SOURCE_VERSION SIZE QUESTIONS...``: one scale
    measurement as a JSON line; ``... serving VERSION``: resident bytes of a process serving it.
    """
    if len(argv) >= 4 and argv[0] == "scale":
        print(json.dumps(scale(Path(argv[1]), int(argv[2]), load_questions([Path(a) for a in argv[3:]]))))
        return 0
    if len(argv) == 2 and argv[0] == "serving":
        print(serving_resident_bytes(Path(argv[1])))
        return 0
    print("usage: python -m parley.bot.measure.bench {scale SOURCE_VERSION SIZE QUESTIONS... | serving VERSION}",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
