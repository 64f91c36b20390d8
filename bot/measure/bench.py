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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from parley.bot.measure import naive
from parley.bot.measure.peers import INSTALL_HINT
from parley.index import ParleyError
from parley.index.store.manifest import ENCODER_FILE, TOKENIZER_FILE

COLD_QUESTION = "Should the US and China cooperate on AI safety instead of racing?"
PEERS = (("txtai", "txtai"), ("LangChain", "langchain"))  # (column, name in peers.py)
NAIVE_PROCESS_RUNS = 3  # each naive process run costs seconds: at most this many
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
    # The same figure for the peer baselines (peers.py), by name, where it applies.
    peers: dict[str, float] = field(default_factory=dict)

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


def peer_command(*args: str) -> list[str]:
    """A fresh interpreter running a peer baseline (peers.py)."""
    return [sys.executable, "-m", "parley.bot.measure.peers", *args]


def peers_installed() -> str | None:
    """None when the peer baselines can run, else why not (the ``baselines`` extra)."""
    import importlib.util

    missing = [m for m in ("txtai", "langchain_community", "langchain_huggingface", "langchain_classic")
               if importlib.util.find_spec(m) is None]
    return f"peer baselines left out: {', '.join(missing)} not installed ({INSTALL_HINT})" if missing else None


def peer_builds(version: Path, scratch: Path, repeats: int) -> tuple[dict[str, Path], dict[str, float]]:
    """Each peer's full build of ``version``'s corpus as a new process (model loading
    included), saved under ``scratch``: where each was saved, and the median seconds."""
    saved, seconds = {}, {}
    for name, key in PEERS:
        out = scratch / key
        runs = []
        for _ in range(max(1, min(repeats, NAIVE_PROCESS_RUNS))):
            shutil.rmtree(out, ignore_errors=True)
            runs += timed_process(peer_command("build", key, str(version), str(out)), 1)
        saved[name], seconds[name] = out, statistics.median(runs)
    return saved, seconds


def naive_command(*args: str) -> list[str]:
    """A fresh interpreter running the naive build (naive.py)."""
    return [sys.executable, "-m", "parley.bot.measure.naive", *args]


def _child_command(*args: str) -> list[str]:
    """A fresh interpreter running one of this module's children (``main`` below)."""
    return [sys.executable, "-m", "parley.bot.measure.bench", *args]


def cold_start(index_dir: Path, version: Path, repeats: int, saved_peers: dict[str, Path]) -> list[Figure]:
    """Start-up as new processes; ``saved_peers``: each peer's saved index (``peer_builds``)."""
    parley = parley_command()
    tokens = {"DISCORD_TOKEN": "bench", "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": "bench"}
    naive_repeats = max(1, min(repeats, NAIVE_PROCESS_RUNS))  # each naive start costs seconds
    ask = timed_process([parley, "ask", "--index", str(index_dir), COLD_QUESTION], repeats)
    naive_ask = timed_process(naive_command("ask", str(version), COLD_QUESTION), naive_repeats)
    naive_ready = timed_process(naive_command("ready", str(version)), naive_repeats)
    peer_ask = {name: statistics.median(timed_process(peer_command("ask", key, str(saved), COLD_QUESTION),
                                                      naive_repeats))
                for (name, key), saved in zip(PEERS, saved_peers.values())}
    figures = [Figure("cold start", "`parley ask` new process → answer printed", "s", statistics.median(ask),
                      statistics.median(naive_ask), "≤ 1.5 s", statistics.median(ask) <= 1.5, peers=peer_ask)]
    for platform in ("discord", "slack"):
        ready = timed_process([parley, platform, "--check", "--index", str(index_dir)], repeats, tokens)
        figures.append(Figure("cold start", f"`parley {platform}` start → ready (no network)", "s",
                              statistics.median(ready), statistics.median(naive_ready), "≤ 3 s",
                              statistics.median(ready) <= 3.0))
    return figures


def warm_latency(engine, naive_encoder, questions: list[str], passes: int, peers=()) -> list[Figure]:
    """Per-question latency in one process: Parley (ONNX query encoder, hybrid search)
    against the naive build (sentence-transformers query, FAISS flat) and the peers'
    searches (``peers``: peers.PeerRetriever)."""
    from parley.bot.answer import AnswerEngine
    from parley.index import ServedIndex

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
    peer_s = {name: sample(lambda q, peer=peer: peer.search(q, 5)) for (name, _), peer in zip(PEERS, peers)}
    return [
        Figure("warm", "search p50", "ms", percentile(search, 50), percentile(naive_s, 50),
               peers={name: percentile(times, 50) for name, times in peer_s.items()}),
        Figure("warm", "search p95", "ms", percentile(search, 95), percentile(naive_s, 95), "≤ 10 ms",
               percentile(search, 95) <= 10, peers={name: percentile(times, 95) for name, times in peer_s.items()}),
        Figure("warm", "ask p50", "ms", percentile(ask, 50), percentile(naive_a, 50)),
        Figure("warm", "ask p95", "ms", percentile(ask, 95), percentile(naive_a, 95), "≤ 15 ms",
               percentile(ask, 95) <= 15),
    ]


def reindex(corpus_dir: Path, claim_labels: Path | None, embedder, repeats: int,
            peer_build_seconds: dict[str, float] | None = None) -> list[Figure]:
    """Full build (as a new process the way a user runs it, and in this process), one
    edited document, and nothing changed, on a copy of the corpus. Parley's and the naive
    build's process runs alternate, so that a busy moment of the machine hits both."""
    from parley.index import IndexLocation, build_index
    from parley.index.indexing.build import dense_input

    parley = parley_command()
    full, edit, naive_full, process, naive_process_runs = [], [], [], [], []
    passages = 0
    env = {"PARLEY_CLAIM_LABELS": str(claim_labels or "")}
    with tempfile.TemporaryDirectory(prefix="parley-bench-") as scratch:
        root = Path(scratch)
        corpus = root / "corpus"
        shutil.copytree(corpus_dir, corpus)
        location = IndexLocation(root / "index")
        build_command = [parley, "index", "build", "--json", "--corpus", str(corpus), "--index", str(location.root)]
        # Whole processes first, Parley's and the naive build's alternating, before this
        # process embeds anything here: right after a batch of its own, its idle model
        # threads still spin and slowed the next process by up to a second. One untimed
        # build first exports the encoder, which any later build reuses.
        subprocess.run([*build_command, "--full"], capture_output=True, env={**os.environ, **env}, check=True,
                       timeout=600)
        for attempt in range(repeats):
            process += timed_process([*build_command, "--full"], 1, env)
            if attempt < NAIVE_PROCESS_RUNS:  # each costs the seconds of loading torch
                naive_process_runs += timed_process(
                    naive_command("build", str(location.current_version()), str(root / "naive-process.faiss")), 1)
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
        unchanged = timed_process(build_command, repeats, env)
    naive_process = statistics.median(naive_full) + _naive_import_seconds()
    full_s, process_s, naive_process_s = map(statistics.median, (full, process, naive_process_runs))
    process_ratio = naive_process_s / process_s
    return [
        Figure("re-index", f"full build (--full), {passages} passages + their sentences, in process", "passages/s",
               passages / full_s, passages / statistics.median(naive_full), lower_is_better=False),
        Figure("re-index", "full build, new process (`parley index build --full`)", "passages/s",
               passages / process_s, passages / naive_process_s, "≥ 1.5x", process_ratio >= 1.5,
               lower_is_better=False,
               peers={name: passages / seconds for name, seconds in (peer_build_seconds or {}).items()}),
        Figure("re-index", "one document edited, rebuild", "s", statistics.median(edit), statistics.median(naive_full)),
        Figure("re-index", "nothing changed, `parley index build` new process", "s", statistics.median(unchanged),
               naive_process, "≤ 1 s", statistics.median(unchanged) <= 1.0),
    ]


def _naive_import_seconds() -> float:
    """What the naive build pays before it can embed anything: importing sentence-transformers."""
    return statistics.median(timed_process(naive_command("import"), 1))


# ---- scale -------------------------------------------------------------------------


def scale(source_dir: Path, size: int, question_files: list[Path], samples: int = 200) -> dict:
    """Build a synthetic index of ``size`` passages and measure it (run in a child process)."""
    import faiss

    from parley.bot.measure.synthetic import synthesize
    from parley.index import IndexLocation
    from parley.index.store.version import load_index, write_index

    _serving_threads()
    questions = load_questions(question_files)
    source = load_index(source_dir)
    started = time.perf_counter()
    corpus = synthesize(source, size)
    synthesized = time.perf_counter() - started
    peak = _resident_bytes()
    with tempfile.TemporaryDirectory(prefix="parley-scale-") as scratch:
        location = IndexLocation(Path(scratch) / "index")
        directory = location.new_version_path()
        directory.mkdir()
        for name in ENCODER_FILES:
            os.link(source.directory / name, directory / name)
        vectors = corpus.vectors
        started = time.perf_counter()
        manifest = write_index(directory, documents=corpus.documents, passages=corpus.passages, vectors=vectors,
                               bm25_texts=corpus.bm25_texts, sentences=corpus.sentences,
                               model=source.manifest.model, query_encoder=source.manifest.query_encoder,
                               pipeline=source.manifest.pipeline)
        built = time.perf_counter() - started
        directory = location.publish(directory)
        peak = max(peak, _resident_bytes())
        del corpus
        gc.collect()
        encoder_bytes = sum((directory / name).stat().st_size for name in ENCODER_FILES)
        index_bytes = manifest.total_bytes(directory) - encoder_bytes
        rng = np.random.default_rng(7)
        question_vectors = source.query_encoder().encode(questions)
        # Passage-like queries too: a passage's own vector, moved a little.
        near = vectors[rng.integers(0, size, max(0, samples - len(questions)))]
        near = near + rng.standard_normal(near.shape, dtype=np.float32) * 0.03
        near /= np.linalg.norm(near, axis=1, keepdims=True)
        queries = np.vstack([question_vectors, near]).astype(np.float32)
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        _, truth = exact.search(queries, 10)
        flat = []
        for query in queries:
            started = time.perf_counter()
            exact.search(query.reshape(1, -1), 100)
            flat.append((time.perf_counter() - started) * 1000)
        del exact, vectors, near
        gc.collect()
        # A new process serving it, as a bot would: its first answer, then every latency
        # and, after three passes of questions, its memory; and `parley ask` as a new process.
        # The files are read once first, as the page cache holds them on a host that has
        # served for a while: whatever the build left cached (it peaks at 10 GB at a million)
        # would otherwise decide which reads go to the disk.
        _read_through(directory)
        serving = _serving(location.root, question_files)
        cold_ask = timed_process([parley_command(), "ask", "--index", str(location.root), COLD_QUESTION], 3)
        started = time.perf_counter()
        index = load_index(directory)
        loaded = time.perf_counter() - started
        peak = max(peak, _resident_bytes())
        recalls = [len({row for row, _ in index.vectors.search(query, 100)[:10]} & set(truth[i].tolist())) / 10
                   for i, query in enumerate(queries)]
        lexical_recall = [_recall_at_10(index.lexical.top(question, 100)[0], index.lexical.exhaustive_scores(question))
                          for question in questions]
        peak = max(peak, _resident_bytes())
        n_questions = len(questions)
        measured = [r for r in lexical_recall if r is not None]
        return {
            "passages": size,
            "vector_index": index.manifest.vector_index,
            "synthesize_s": synthesized,
            "build_s": built,
            "load_s": loaded,
            "index_bytes": index_bytes,
            "encoder_bytes": encoder_bytes,
            "peak_rss_bytes": peak,
            "serving": serving,
            "cold_ask_s": statistics.median(cold_ask),
            "exact_search_ms": {"p50": percentile(flat, 50), "p95": percentile(flat, 95)},
            **{name: serving.pop(name) for name in ("vector_search_ms", "lexical_search_ms", "hybrid_search_ms",
                                                     "retrieve_ms", "ask_ms")},
            "lexical_recall_at_10": float(np.mean(measured)) if measured else None,
            "lexical_recall_questions": len(measured),
            "recall_at_10": float(np.mean(recalls)),
            "recall_at_10_questions": float(np.mean(recalls[:n_questions])),
            "recall_at_10_passage_like": float(np.mean(recalls[n_questions:])) if len(recalls) > n_questions else None,
            "queries": len(queries),
        }


def _recall_at_10(found: np.ndarray, scores: np.ndarray) -> float | None:
    """Share of the exhaustive top 10 (by BM25 score; a passage tied with the 10th counts
    as one of them) that the pruned search returned; None when fewer than 10 passages score."""
    if int((scores > 0).sum()) < 10:
        return None
    tenth = np.partition(scores, len(scores) - 10)[len(scores) - 10]
    above = set(np.flatnonzero(scores > tenth).tolist())
    tied = set(np.flatnonzero(scores == tenth).tolist())
    got = set(np.asarray(found)[:10].tolist())
    return (len(above & got) + min(10 - len(above), len(tied & got))) / 10


def serve_and_measure(root: Path, question_files: list[Path]) -> None:
    """A bot's view of a large index: load it, print a line at the first answer, time each
    step of answering (three passes of every question, after a warm-up), then print the
    latencies and the process's resident memory as JSON. Run in a fresh process
    (``serving`` below): nothing else is counted or competes."""
    from parley.bot.answer import AnswerEngine
    from parley.index import IndexLocation, ServedIndex

    _serving_threads()
    engine = AnswerEngine(ServedIndex(IndexLocation(root)))
    engine.ask(COLD_QUESTION)
    print("answered", flush=True)
    after_first = _resident_breakdown()
    retriever = engine.served.retriever()
    index, questions = retriever.index, load_questions(question_files)
    vectors = retriever.encoder.encode(questions)
    steps = {
        "vector_search_ms": lambda question, vector: index.vectors.search(vector, 100),
        "lexical_search_ms": lambda question, vector: index.lexical.top(question, 100),
        "hybrid_search_ms": lambda question, vector: retriever.search_vector(question, vector, 5),
        "retrieve_ms": lambda question, vector: retriever.retrieve(question, 8),
        "ask_ms": lambda question, vector: engine.ask(question),
    }
    timings = {}
    for name, step in steps.items():
        for question, vector in zip(questions[:5], vectors[:5]):  # warm-up
            step(question, vector)
        times = []
        for _ in range(3):
            for question, vector in zip(questions, vectors):
                started = time.perf_counter()
                step(question, vector)
                times.append((time.perf_counter() - started) * 1000)
        timings[name] = {"p50": percentile(times, 50), "p95": percentile(times, 95)}
    print(json.dumps({"after_first": after_first, "after_all": _resident_breakdown(), **timings}), flush=True)


def _serving_threads() -> None:
    """One BLAS thread, as a bot runs (wiring.build_engine): multi-threaded BLAS spins its
    threads against onnxruntime's and FAISS's for products of a hundred rows."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")


def _serving(root: Path, question_files: list[Path]) -> dict:
    """Seconds from starting a new serving process to its first answer, and its memory."""
    command = _child_command("serving", str(root), *map(str, question_files))
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = process.stdout.readline()
    first_answer = time.perf_counter() - started
    out, err = process.communicate(timeout=3600)
    if process.returncode != 0 or first.strip() != "answered":
        raise RuntimeError(f"serving {root} failed: {err.strip()[-800:]}")
    return {"first_answer_s": first_answer, **json.loads(out.strip().splitlines()[-1])}


def _resident_bytes() -> int:
    """Resident memory now. Not ru_maxrss: Linux carries the parent's peak into a child."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _resident_breakdown() -> dict[str, int]:
    """Resident bytes in all, and split: anonymous (the process's own) and file pages
    mapped in (memory-mapped indexes, which the kernel can drop when memory is short)."""
    fields = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "RssAnon:", "RssFile:")):
                name, value = line.split(":")
                fields[name] = int(value.split()[0]) * 1024
    return {"total": fields["VmRSS"], "anonymous": fields["RssAnon"], "file": fields["RssFile"]}


def scale_figures(result: dict) -> list[Figure]:
    size = result["passages"]
    section = f"scale {size:,} ({result['vector_index']})"
    at_target = size >= 1_000_000

    def target(text: str, met: bool) -> dict:
        return {"target": text, "met": met} if at_target else {}

    serving, vector_p95 = result["serving"], result["vector_search_ms"]["p95"]
    resident = serving["after_all"]
    hybrid_p95 = result["hybrid_search_ms"]["p95"]
    lexical_recall = result["lexical_recall_at_10"]
    return [
        Figure(section, "index build (FAISS, BM25, files)", "s", result["build_s"]),
        Figure(section, "index on disk (without the 90 MB encoder)", "MB", result["index_bytes"] / 1e6),
        Figure(section, "new serving process → first answer", "s", serving["first_answer_s"],
               **target("≤ 3 s", serving["first_answer_s"] <= 3)),
        Figure(section, "`parley ask` new process → answer printed", "s", result["cold_ask_s"]),
        Figure(section, "memory serving it, after 3 passes of questions", "GB", resident["total"] / 1e9,
               **target("≤ 2 GB", resident["total"] <= 2e9)),
        Figure(section, "  of which the process's own (anonymous)", "GB", resident["anonymous"] / 1e9),
        Figure(section, "  of which mapped index files (page cache)", "GB", resident["file"] / 1e9),
        Figure(section, "memory at its highest (synthesize, build, load, exact copy)", "GB", result["peak_rss_bytes"] / 1e9,
               target="≤ 24 GB", met=result["peak_rss_bytes"] < 24e9),
        Figure(section, "vector search p50", "ms", result["vector_search_ms"]["p50"], result["exact_search_ms"]["p50"]),
        Figure(section, "vector search p95", "ms", vector_p95, result["exact_search_ms"]["p95"],
               **target("≤ 10 ms", vector_p95 <= 10)),
        Figure(section, "recall@10 vs exact, all queries", "", result["recall_at_10"], 1.0,
               lower_is_better=False, **target("≥ 0.95", result["recall_at_10"] >= 0.95)),
        Figure(section, "recall@10 vs exact, real questions", "", result["recall_at_10_questions"], 1.0,
               lower_is_better=False),
        Figure(section, "BM25 top 100 p95", "ms", result["lexical_search_ms"]["p95"]),
        Figure(section, "BM25 recall@10 vs exhaustive BM25", "", lexical_recall if lexical_recall is not None else 1.0,
               1.0, lower_is_better=False, **target("≥ 0.99", lexical_recall is None or lexical_recall >= 0.99)),
        Figure(section, "hybrid search p95 (dense + sentence + BM25)", "ms", hybrid_p95,
               **target("≤ 8 ms", hybrid_p95 <= 8)),
        Figure(section, "retrieve p95 (hybrid + sentences + claims of each framing)", "ms",
               result["retrieve_ms"]["p95"]),
        Figure(section, "ask p95 (the whole answer)", "ms", result["ask_ms"]["p95"]),
    ]


def _read_through(directory: Path) -> None:
    """Read every file below ``directory`` once (into the page cache, not this process)."""
    for path in sorted(directory.rglob("*")):
        if path.is_file():
            with path.open("rb", buffering=0) as handle:
                while handle.read(1 << 24):
                    pass


def run_scale_child(source_dir: Path, size: int, question_files: list[Path]) -> dict:
    """Measure one size in a fresh interpreter, for a clean peak-memory figure."""
    command = _child_command("scale", str(source_dir), str(size), *map(str, question_files))
    result = subprocess.run(command, capture_output=True, text=True, timeout=3 * 3600)
    if result.returncode != 0:
        raise RuntimeError(f"scale {size} failed: {result.stderr.strip()[-800:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# ---- report ------------------------------------------------------------------------


def format_table(figures: list[Figure], notes: list[str]) -> str:
    peer_names = [name for name, _ in PEERS if any(name in f.peers for f in figures)]
    lines = [f"{'':58} {'Parley':>10} {'naive':>10} {'ratio':>6}"
             + "".join(f" {name:>10}" for name in peer_names) + f"  {'target':<9} met"]
    section = None
    for figure in figures:
        if figure.section != section:
            section = figure.section
            lines.append(section)
        ratio = f"{figure.ratio:.1f}x" if figure.ratio is not None else ""
        met = {True: "yes", False: "NO", None: ""}[figure.met]
        peers = "".join(f" {_value(figure.peers.get(name), figure.unit):>10}" for name in peer_names)
        lines.append(f"  {figure.measure[:56]:56} {_value(figure.parley, figure.unit):>10} "
                     f"{_value(figure.naive, figure.unit):>10} {ratio:>6}{peers}  {figure.target or '':<9} {met}")
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
    measurement as a JSON line; ``... serving INDEX_ROOT QUESTIONS...``: a serving process's
    first answer and memory (``serve_and_measure``).
    """
    if len(argv) >= 4 and argv[0] == "scale":
        print(json.dumps(scale(Path(argv[1]), int(argv[2]), [Path(a) for a in argv[3:]])))
        return 0
    if len(argv) >= 3 and argv[0] == "serving":
        serve_and_measure(Path(argv[1]), [Path(a) for a in argv[2:]])
        return 0
    print("usage: python -m parley.bot.measure.bench {scale SOURCE_VERSION SIZE QUESTIONS... | "
          "serving INDEX_ROOT QUESTIONS...}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
