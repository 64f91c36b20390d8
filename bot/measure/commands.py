"""``parley eval`` and ``parley bench``: the command bodies, kept out of the CLI module so
that nothing on a serving path imports measurement code."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from parley.bot.settings import Settings
from parley.bot.wiring import build_embedder, build_engine


class MeasureUsageError(Exception):
    """Bad flags for a measurement command: the CLI prints it and exits 2."""


def evaluate_command(args: argparse.Namespace, settings: Settings) -> int:
    from parley.bot.measure.evaluate import as_json, evaluate, evaluate_peer, format_table, load_questions
    from parley.index.indexing.stance import cross_validate, load_labels

    questions = load_questions(args.file)
    engine = build_engine(settings)
    modes = ["hybrid", "bm25", "dense"] if args.baselines else ["hybrid"]
    rows = [evaluate(engine, questions, mode) for mode in modes]
    peers_missing = None
    if args.baselines:
        from parley.bot.measure.peers import PeerExtraMissing, peer_retrievers

        index = engine.served.retriever().index
        try:
            peers = peer_retrievers({doc_id: d.text for doc_id, d in index.documents.items()},
                                    [p.text for p in index.passages], build_embedder(settings).model_path)
        except PeerExtraMissing as missing:
            peers, peers_missing = [], str(missing)
            print(f"parley eval: {missing}; their rows are left out.", file=sys.stderr)
        rows += [evaluate_peer(peer, questions) for peer in peers]
    framing = None  # the framing classifier, leave-one-document-out over the reviewed claim labels
    if settings.claim_labels and settings.claim_labels.is_file():
        framing = cross_validate(load_labels(settings.claim_labels))
    if args.json:
        print(as_json(rows, questions, {"framing_classifier_lodo": asdict(framing) if framing else None,
                                        "peer_baselines_missing": peers_missing}))
    else:
        print(format_table(rows, questions))
        if framing:
            def figure(value: float | None) -> str:
                return "-" if value is None else f"{value:.3f}"

            scores = ", ".join(f"{name} P {figure(framing.precision[name])} R {figure(framing.recall[name])}"
                               for name in framing.precision)
            print(f"\nFraming classifier, leave-one-document-out over {framing.sentences} labelled sentences "
                  f"of {framing.documents} documents,\n  at confidence {framing.confidence:g}: {scores}")
    return 0


def scale_sizes(text: str) -> list[int]:
    """``--scale 10000,100_000``: passage counts, each at least 100."""
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise MeasureUsageError(f"--scale {text!r} is not a list of passage counts, e.g. 10000,100000") from None
    if min(sizes, default=100) < 100:
        raise MeasureUsageError("--scale: each size must be at least 100 passages")
    return sizes


def bench_command(args: argparse.Namespace, settings: Settings) -> int:
    """``args``: ``questions`` (question files, at least one), ``repeats``, ``scale`` (sizes), ``json``."""
    from datetime import date

    from parley.bot.measure import bench, naive
    from parley.index import IndexLocation

    if args.repeats < 1:
        raise MeasureUsageError("--repeats must be at least 1")
    if not args.questions:
        raise MeasureUsageError("give the questions to time with --questions FILE, e.g. tests/eval/dev.jsonl")
    sizes = scale_sizes(args.scale)
    version = IndexLocation(settings.index_dir).current_version()  # no index: one clear line

    # Progress on a terminal: a bar over the steps, the current one named; piped or with
    # --json, nothing but the result.
    progress = None
    if sys.stderr.isatty() and not args.json:
        from tqdm import tqdm

        progress = tqdm(total=5 + len(sizes), desc="parley bench", unit="step", leave=False)

    def step(what: str) -> None:
        if progress is not None:
            if progress.postfix:  # the previous step is done
                progress.update(1)
            progress.set_postfix_str(what)

    questions = bench.load_questions(args.questions)  # a bad file: one clear line, before any timing
    peers_missing = bench.peers_installed()
    with tempfile.TemporaryDirectory(prefix="parley-bench-peers-") as scratch:
        saved, peer_build_seconds = {}, {}
        if peers_missing is None:
            step("peer baselines: full builds as new processes")
            saved, peer_build_seconds = bench.peer_builds(version, Path(scratch), args.repeats)
        step(f"cold start ({args.repeats} runs each; the naive build takes seconds per run)")
        figures = bench.cold_start(settings.index_dir, version, args.repeats, saved)
    step(f"warm latency over {len(questions)} questions")
    embedder = build_embedder(settings)
    engine = build_engine(settings)
    peers = []
    if peers_missing is None:
        from parley.bot.measure.peers import peer_retrievers

        index = engine.served.retriever().index
        peers = peer_retrievers({doc_id: d.text for doc_id, d in index.documents.items()},
                                [p.text for p in index.passages], embedder.model_path)
    figures += bench.warm_latency(engine, embedder, questions, passes=3, peers=peers)
    step("shared store: the ask path and concurrent writes")
    from parley.bot.measure.store import store_figures

    figures += store_figures(engine, questions, args.database_url)
    step("re-index")
    figures += bench.reindex(settings.corpus_dir, settings.claim_labels, embedder, args.repeats, peer_build_seconds)
    scale_results = []
    for size in sizes:
        step(f"scale: {size:,} synthetic passages")
        scale_results.append(bench.run_scale_child(version, size, args.questions))
        figures += bench.scale_figures(scale_results[-1])
    if progress is not None:
        progress.close()
    notes = [
        f"Measured {date.today().isoformat()} on {os.cpu_count()} cores; medians of {args.repeats} runs "
        f"(naive process runs: {min(args.repeats, 3)}). Warm figures: {len(questions)} questions "
        f"({', '.join(path.name for path in args.questions)}) x 3 passes.",
        f"naive = {naive.DESCRIPTION}. ratio = how many times better Parley is.",
        peers_missing or "txtai = Embeddings(hybrid=True) over Parley's passages; LangChain = the tutorial's "
        "1000-character splitter, FAISS + BM25 EnsembleRetriever; both with the same MiniLM weights "
        "(parley.bot.measure.peers). Their full build is Parley's passage count over their seconds for the "
        "same corpus.",
    ]
    if sizes:
        notes.append("scale: synthetic passages recombined from corpus sentences; their vectors are derived from the "
                     "real sentence vectors (mean + noise), not re-embedded (parley.bot.measure.synthetic). Recall is "
                     "against exact search over the same vectors, for the real questions and for passage-like "
                     "queries; naive = exact (flat) search. The index files are read once before the serving process "
                     "starts: warm figures with them in the page cache, as on a host that has served a while.")
    print(bench.as_json(figures, notes, scale_results) if args.json else bench.format_table(figures, notes))
    return 0
