"""``parley corpus add`` and ``parley corpus status``: the curator's commands, kept out of
``cli.py`` so that it stays a thin table of commands."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from parley.bot import phrases
from parley.bot.render import text as render
from parley.bot.settings import Settings


def register(commands, index_dir: argparse.ArgumentParser, as_json: argparse.ArgumentParser) -> None:
    """The ``corpus`` command group, under the CLI's ``commands``."""
    corpus = commands.add_parser("corpus", help="add documents to the corpus, see it at a glance")
    actions = corpus.add_subparsers(title="corpus commands", metavar="ACTION")
    corpus.set_defaults(run=lambda args, settings: (corpus.print_help(), 2)[1])
    add = actions.add_parser(
        "add", parents=[index_dir, as_json],
        help="turn web pages (.html or http(s) URLs), PDFs, Markdown and text files into corpus documents")
    add.add_argument("inputs", nargs="+", metavar="PATH_OR_URL", help="files, folders of files, or URLs")
    add.add_argument("--corpus", type=Path, metavar="DIR", help="corpus folder")
    add.add_argument("--build", action="store_true", help="re-index at once when something was added")
    add.set_defaults(run=corpus_add)
    status = actions.add_parser("status", parents=[index_dir, as_json],
                                help="each served document's claims by framing, and how many are reviewed")
    status.set_defaults(run=corpus_status)
    review = commands.add_parser("review", parents=[index_dir],
                                 help="review claim framings in the terminal, flagged ones first")
    review.add_argument("--corpus", type=Path, metavar="DIR", help="corpus folder (its claim-labels.jsonl is written)")
    review.set_defaults(run=review_in_terminal)
    points = commands.add_parser("points", parents=[index_dir, as_json],
                                 help="the debate map: the points the corpus argues, or both sides of one")
    points.add_argument("point", nargs="?", metavar="ID",
                        help="a point's id: show both sides of it; `propose`: draft a map for a corpus without one")
    points.add_argument("--clusters", type=int, default=12, help="with propose: how many points to draft (default 12)")
    points.set_defaults(run=points_command)


def points_command(args: argparse.Namespace, settings: Settings) -> int:
    """``parley points``: the list; ``parley points ID``: one point's sides; ``propose``: a draft."""
    from parley.bot.wiring import build_engine, build_location

    if args.point == PROPOSE:
        from parley.index import propose_points

        draft = propose_points(build_location(settings).open(), clusters=max(args.clusters, 2))
        print(json.dumps(draft, ensure_ascii=False, indent=1))
        return 0
    engine = build_engine(settings)
    if args.point is None:
        points = engine.points()
        if args.json:
            print(json.dumps([{"id": p.point_id, "title": p.title, "claims": p.claims} for p in points]))
        else:
            print(render.describe_points(points))
        return 0
    answer = engine.point(args.point)
    if answer is None:
        print(f"parley: {phrases.unknown_point(args.point)}", file=sys.stderr)
        return 1
    print(json.dumps(render.answer_json(answer)) if args.json else render.render_plain(answer))
    return 0


# Not a point id: `parley points propose` drafts a map (the map's reader refuses the id).
PROPOSE = "propose"


def register_gaps(feedback_commands, as_json: argparse.ArgumentParser) -> None:
    gaps = feedback_commands.add_parser(
        "gaps", parents=[as_json],
        help="questions Parley could not answer, grouped by their most frequent terms (needs log_unanswered)")
    gaps.add_argument("--top", type=int, default=10, help="how many terms (default 10)")
    gaps.set_defaults(run=feedback_gaps)


def feedback_gaps(args: argparse.Namespace, settings: Settings) -> int:
    """What the corpus is missing: the kept unanswered questions under their commonest terms."""
    from collections import Counter

    from parley.bot.wiring import build_feedback
    from parley.index import bm25_tokens

    questions = build_feedback(settings).unanswered()
    words = [set(re.findall(r"[a-z0-9][a-z0-9'-]+", q.lower())) for q in questions]
    vocabulary = sorted(set().union(*words)) if words else []
    # Words as people typed them, without the ones BM25 drops (the, what, is…).
    meaningful = {w for w, tokens in zip(vocabulary, bm25_tokens(vocabulary) if vocabulary else []) if tokens}
    terms = [w & meaningful for w in words]
    counts = Counter(term for words in terms for term in words)
    known = _corpus_knows(settings)
    # Terms the corpus never uses first (what it is missing), then by how often they are asked.
    ranked = sorted(counts, key=lambda term: (known(term), -counts[term], term))[: max(args.top, 1)]
    groups = [{"term": term, "in_corpus": known(term),
               "questions": [q for q, words in zip(questions, terms) if term in words]} for term in ranked]
    if args.json:
        print(json.dumps({"questions": len(questions), "groups": groups}))
        return 0
    if not questions:
        print(phrases.NO_GAPS if settings.log_unanswered else phrases.GAPS_OFF)
        return 0
    print(render.describe_gaps(len(questions), groups))
    return 0


def _corpus_knows(settings: Settings):
    """Whether the served corpus uses a word; without an index, nothing is known."""
    from parley.bot.wiring import build_location
    from parley.index import ParleyError

    try:
        lexical = build_location(settings).open().lexical
    except ParleyError:
        return lambda term: False
    return lexical.knows


def corpus_add(args: argparse.Namespace, settings: Settings) -> int:
    """One line per input; exit 1 when any input was not added."""
    from parley.index import add_sources

    outcomes = add_sources(args.inputs, settings.corpus_dir, show_progress=sys.stderr.isatty() and not args.json)
    for outcome in outcomes:
        if args.json:
            print(json.dumps({"input": outcome.source, "status": outcome.status, "detail": outcome.detail,
                              "doc_id": outcome.doc_id, "title": outcome.title}), flush=True)
        else:
            print(render.describe_added(outcome.source, outcome.status, outcome.detail, outcome.title),
                  file=sys.stdout if outcome.status == "added" else sys.stderr, flush=True)
    added = sum(outcome.status == "added" for outcome in outcomes)
    if not args.json:
        print(render.describe_added_total(added, len(outcomes), settings.corpus_dir, will_build=args.build))
    if added and args.build:
        from parley.bot.wiring import index_corpus

        report = index_corpus(settings, show_progress=sys.stdout.isatty() and not args.json)
        for line in render.build_warnings(report):
            print(f"parley: {line}", file=sys.stderr)
        print(json.dumps(render.build_json(report)) if args.json else render.describe_build(report, path=True))
    return 0 if added == len(outcomes) else 1


def corpus_status(args: argparse.Namespace, settings: Settings) -> int:
    from parley.bot.wiring import build_engine

    sources = build_engine(settings).sources()
    if args.json:
        print(json.dumps([{"doc_id": s.doc_id, "title": s.title, "passages": s.passages, "claims": s.claims,
                           "reviewed": s.reviewed} for s in sources]))
        return 0
    print(render.describe_corpus(sources))
    return 0


KEYS = {"r": "race", "c": "cooperation", "n": "none"}


def review_in_terminal(args: argparse.Namespace, settings: Settings) -> int:
    """One claim at a time: r(ace), c(ooperation), n(either), s(kip), q(uit). The terminal
    belongs to whoever runs it, as the console does: they are the curator."""
    import getpass

    from parley.bot.service import Refused, User
    from parley.bot.wiring import build_service

    service = build_service(settings)
    curator = User("console", getpass.getuser())
    while True:
        claim = service.next_claim(curator, admin=True)
        if claim is None or isinstance(claim, Refused):
            print(claim.text if claim else phrases.REVIEW_EMPTY)
            return 0 if claim is None else 1
        print(phrases.review_prompt(claim.title, claim.before, claim.text, claim.after, claim.framing,
                                    claim.confidence, claim.reviewed, claim.flags))
        print(phrases.REVIEW_KEYS, end="", flush=True)
        choice = sys.stdin.readline().strip().lower()[:1]
        if choice in ("", "q"):  # end of input too
            print()
            return 0
        if choice == "s":
            service.skip(curator, claim.key)
        elif choice in KEYS:
            print(service.review(curator, admin=True, key=claim.key, framing=KEYS[choice]).text)
        else:
            print(phrases.REVIEW_KEYS_HINT)
