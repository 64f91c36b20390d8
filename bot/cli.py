"""The ``parley`` command: parse flags, read settings, call the packages, print the result.

Kept thin on purpose: objects come from ``parley.bot.wiring``, words and JSON shapes from
``parley.bot.render.text``, and each chat surface starts itself (``parley.bot.adapters``).
A ``ParleyError`` becomes one line on stderr and exit 1; bad settings or usage exit 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from parley.bot import curate, phrases
from parley.bot.answer.question import EmptyQuestionError, is_blank
from parley.bot.render import text as render
from parley.bot.settings import MAX_RETENTION_DAYS, Settings, SettingsError, load_settings
from parley.bot.wiring import build_engine, build_feedback, build_location, index_corpus
from parley.index import ParleyError


def main(argv: Sequence[str] | None = None) -> int:
    # Models load from local folders only; a hub lookup here would retry for a minute and
    # fail, so the libraries are told they are offline before any of them is imported.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = load_settings(
            corpus_dir=getattr(args, "corpus", None), index_dir=getattr(args, "index", None)
        )
    except SettingsError as error:
        print(f"parley: {error}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    try:
        return args.run(args, settings)
    except (UsageError, SettingsError) as error:  # a missing token is a setting, too
        print(f"parley: {error}", file=sys.stderr)
        return 2
    except ParleyError as error:
        print(f"parley: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(phrases.INTERRUPTED, file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) left early: not an error worth a trace.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _configure_logging(level: str) -> None:
    # The level goes on the handler too: some libraries (bm25s) set their own loggers to
    # DEBUG, and their records would otherwise pass a root-level filter.
    handler = logging.StreamHandler()
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


CHECK_HELP = ("start up (settings, index, query encoder, client) and exit without connecting: "
              "a deploy check, and how `parley bench` times start-up")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parley",
        description="Answers questions on the US-China AI race/cooperation debate from a "
        "curated corpus, quoting it verbatim.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    index_dir = argparse.ArgumentParser(add_help=False)
    index_dir.add_argument("--index", type=Path, metavar="DIR", help="index folder")
    as_json = argparse.ArgumentParser(add_help=False)
    as_json.add_argument("--json", action="store_true", help="print JSON")

    index = commands.add_parser("index", help="build or inspect the search index")
    index_commands = index.add_subparsers(title="index commands", metavar="ACTION")
    index.set_defaults(run=lambda args, settings: (index.print_help(), 2)[1])

    build = index_commands.add_parser(
        "build", parents=[index_dir, as_json],
        help="index the corpus (incremental: only changed passages are embedded)",
    )
    build.add_argument("--corpus", type=Path, metavar="DIR", help="corpus folder")
    build.add_argument("--full", action="store_true", help="re-embed every passage")
    build.add_argument("--strict", action="store_true",
                       help="fail on any unusable corpus file instead of skipping it")
    build.set_defaults(run=_index_build)

    status = index_commands.add_parser("status", parents=[index_dir, as_json], help="describe the served index")
    status.set_defaults(run=_index_status)

    curate.register(commands, index_dir, as_json)

    search = commands.add_parser(
        "search", parents=[index_dir, as_json],
        help="the passages most relevant to a question (no QUESTION: one per stdin line)",
    )
    search.add_argument("question", nargs="?", help="the question; omit to read stdin")
    search.add_argument("-k", type=int, default=5, help="how many passages (default 5)")
    search.set_defaults(run=_search)

    ask = commands.add_parser(
        "ask", parents=[index_dir, as_json],
        help="answer a question from the corpus (no QUESTION: one per stdin line)",
    )
    ask.add_argument("question", nargs="?", help="the question; omit to read stdin")
    ask.add_argument("--all", dest="complete", action="store_true", help="every relevant quote, not the short answer")
    ask.set_defaults(run=_ask)

    chat = commands.add_parser("chat", parents=[index_dir], help="a local chat session in the terminal, no tokens needed")
    chat.add_argument("--corpus", type=Path, metavar="DIR", help="corpus folder (for /reindex)")
    chat.set_defaults(run=_chat)

    evaluate = commands.add_parser("eval", parents=[index_dir, as_json], help="retrieval and answer metrics on a question file")
    evaluate.add_argument("file", type=Path, help="question file (JSON Lines, see README)")
    evaluate.add_argument("--baselines", action="store_true",
                          help="add BM25-only and dense-only rows, and txtai and LangChain (the baselines extra)")
    evaluate.set_defaults(run=_eval)

    discord_command = commands.add_parser("discord", parents=[index_dir], help="run the Discord bot (needs DISCORD_TOKEN)")
    discord_command.add_argument("--invite-url", action="store_true",
                                 help="print the URL that adds the bot to a server, then exit")
    discord_command.add_argument("--check", action="store_true", help=CHECK_HELP)
    discord_command.set_defaults(run=_discord)

    slack_command = commands.add_parser("slack", parents=[index_dir],
                                        help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    slack_command.add_argument("--check", action="store_true", help=CHECK_HELP)
    slack_command.set_defaults(run=_slack)

    bench = commands.add_parser(
        "bench", parents=[index_dir, as_json],
        help="measure cold start, latency, re-index and scale beside the naive build (takes minutes)",
    )
    bench.add_argument("--corpus", type=Path, metavar="DIR", help="corpus folder (re-index figures)")
    bench.add_argument("--scale", default="", metavar="N[,N...]",
                       help="also build and measure synthetic indexes of N passages, e.g. 10000,100000,1000000")
    bench.add_argument("--repeats", type=int, default=5, help="runs per figure; medians are reported (default 5)")
    bench.add_argument("--questions", type=Path, action="append", default=[], metavar="FILE",
                       help="a question file to time (JSON Lines, e.g. tests/eval/dev.jsonl); repeat for more")
    bench.add_argument("--database-url", metavar="URL", help="a scratch PostgreSQL database for the store figures")
    bench.set_defaults(run=_bench)

    feedback = commands.add_parser("feedback", help="votes left on answers")
    feedback_commands = feedback.add_subparsers(title="feedback commands", metavar="ACTION")
    feedback.set_defaults(run=lambda args, settings: (feedback.print_help(), 2)[1])
    export = feedback_commands.add_parser("export", help="write every vote as JSON Lines")
    export.add_argument("--output", type=Path, metavar="FILE", help="file to write (default: stdout)")
    export.set_defaults(run=_feedback_export)
    purge = feedback_commands.add_parser(
        "purge", help="delete questions and votes older than the retention period (feedback_retention_days)")
    purge.add_argument("--days", type=float, help="override the retention period, in days")
    purge.set_defaults(run=_feedback_purge)
    curate.register_gaps(feedback_commands, as_json)
    return parser


class UsageError(Exception):
    """Bad input on the command line: one line on stderr, exit 2."""


def _answer_each(args: argparse.Namespace, settings: Settings, respond) -> int:
    """Run ``respond(engine, question) -> (json_payload, plain_text)`` on the question given,
    or on each stdin line (JSON out, one line each, in order; the model loads once). A bad
    line (not UTF-8, nothing visible) gets its own error object and the batch goes on."""
    if args.question is not None and is_blank(args.question):
        raise UsageError(phrases.EMPTY_QUESTION_CLI)
    as_json = args.json or args.question is None
    lines = [os.fsencode(args.question)] if args.question is not None else [b.rstrip(b"\r\n") for b in sys.stdin.buffer]
    engine = build_engine(settings)
    for line in lines:
        question = line.decode("utf-8", "replace")
        try:
            payload, text = respond(engine, line.decode("utf-8"))
        except UnicodeDecodeError:
            payload, text = {"question": question, "error": "not UTF-8 text"}, None
        except EmptyQuestionError:
            payload, text = {"question": question, "error": "empty question"}, None
        # Strict JSON: a NaN would make the whole line unreadable to the caller's parser.
        print(json.dumps(payload, allow_nan=False) if as_json or text is None else text, flush=True)
    return 0


def _search(args: argparse.Namespace, settings: Settings) -> int:
    if args.k < 1:
        raise UsageError(phrases.K_TOO_SMALL)

    def respond(engine, question: str):
        documents = engine.served.retriever().index.documents
        payload = render.search_json(question, engine.search(question, args.k), documents)
        return payload, render.render_search(payload)

    return _answer_each(args, settings, respond)


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    def respond(engine, question: str):
        answer = engine.ask(question, complete=args.complete)
        return render.answer_json(answer), render.render_plain(answer)

    return _answer_each(args, settings, respond)


def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from parley.bot.adapters import console

    return console.run(settings)


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from parley.bot.measure.commands import evaluate_command

    return evaluate_command(args, settings)


def _discord(args: argparse.Namespace, settings: Settings) -> int:
    from parley.bot.adapters import discord_bot

    if args.invite_url:
        print(discord_bot.invite_url(settings))
    elif args.check:
        print(render.describe_ready("Discord", discord_bot.check(settings)))
    else:
        discord_bot.run(settings)
    return 0


def _slack(args: argparse.Namespace, settings: Settings) -> int:
    from parley.bot.adapters import slack_app

    if args.check:
        print(render.describe_ready("Slack", slack_app.check(settings)))
    else:
        slack_app.run(settings)
    return 0


def _bench(args: argparse.Namespace, settings: Settings) -> int:
    from parley.bot.measure.commands import MeasureUsageError, bench_command

    try:
        return bench_command(args, settings)
    except MeasureUsageError as error:
        raise UsageError(str(error)) from None


def _feedback_export(args: argparse.Namespace, settings: Settings) -> int:
    lines = render.votes_jsonl(build_feedback(settings).votes())
    if args.output:
        args.output.write_text("".join(lines), encoding="utf-8")
        print(render.describe_export(len(lines), args.output), file=sys.stderr)
    else:
        sys.stdout.write("".join(lines))
    return 0


def _feedback_purge(args: argparse.Namespace, settings: Settings) -> int:
    days = args.days if args.days is not None else settings.feedback_retention_days
    if not 0 < days <= MAX_RETENTION_DAYS:  # also refuses nan and inf
        raise UsageError(phrases.days_out_of_range(MAX_RETENTION_DAYS))
    feedback = build_feedback(settings)
    answers, votes = feedback.purge(days)
    print(render.describe_purge(votes, answers, days, feedback.database.where))
    return 0


def _index_build(args: argparse.Namespace, settings: Settings) -> int:
    report = index_corpus(settings, full=args.full, strict=args.strict,
                          show_progress=sys.stdout.isatty() and not args.json)
    for line in render.build_warnings(report):
        print(f"parley: {line}", file=sys.stderr)
    print(json.dumps(render.build_json(report)) if args.json else render.describe_build(report, path=True))
    return 0


def _index_status(args: argparse.Namespace, settings: Settings) -> int:
    location = build_location(settings)
    version, manifest = location.current_version(), location.current_manifest()
    print(json.dumps(render.status_json(version, manifest)) if args.json else render.describe_status(version, manifest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
