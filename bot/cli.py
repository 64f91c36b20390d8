"""The ``parley`` command: parse flags, read settings, call the packages, print the result.

Kept thin on purpose: the work lives in ``index`` (and later the answer core). A
``ParleyError`` becomes one line on stderr and exit 1; bad settings or usage exit 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.settings import Settings, SettingsError, load_settings
from index.errors import ParleyError

log = logging.getLogger("parley")


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
    except ParleyError as error:
        print(f"parley: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("parley: interrupted", file=sys.stderr)
        return 130


def _configure_logging(level: str) -> None:
    # The level goes on the handler too: some libraries (bm25s) set their own loggers to
    # DEBUG, and their records would otherwise pass a root-level filter.
    handler = logging.StreamHandler()
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parley",
        description="Answers questions on the US-China AI race/cooperation debate from a "
        "curated corpus, quoting it verbatim.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    index = commands.add_parser("index", help="build or inspect the search index")
    index_commands = index.add_subparsers(title="index commands", metavar="ACTION")
    index.set_defaults(run=lambda args, settings: (index.print_help(), 2)[1])

    build = index_commands.add_parser(
        "build", help="index the corpus (incremental: only changed passages are embedded)"
    )
    build.add_argument("--corpus", type=Path, metavar="DIR", help="corpus folder")
    build.add_argument("--index", type=Path, metavar="DIR", help="index folder")
    build.add_argument("--full", action="store_true", help="re-embed every passage")
    build.add_argument("--json", action="store_true", help="print the result as JSON")
    build.set_defaults(run=_index_build)

    status = index_commands.add_parser("status", help="describe the served index")
    status.add_argument("--index", type=Path, metavar="DIR", help="index folder")
    status.add_argument("--json", action="store_true", help="print the result as JSON")
    status.set_defaults(run=_index_status)
    return parser


def _embedder(settings: Settings):
    from index.embed import Embedder, packaged_model_path

    return Embedder(settings.model_path or packaged_model_path(), batch_size=settings.embed_batch_size)


def _index_build(args: argparse.Namespace, settings: Settings) -> int:
    from index.build import ChunkSettings, build_index
    from index.versions import IndexLocation

    report = build_index(
        settings.corpus_dir,
        IndexLocation(settings.index_dir),
        _embedder(settings),
        full=args.full,
        chunking=ChunkSettings(settings.chunk_min_words, settings.chunk_max_words),
        show_progress=sys.stdout.isatty() and not args.json,
    )
    for problem in report.problems:
        print(f"parley: skipped {problem.file}: {problem.reason}", file=sys.stderr)
    if report.previous_unusable:
        print(f"parley: previous index not reused: {report.previous_unusable}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                {
                    "documents": report.documents,
                    "passages": report.passages,
                    "embedded": report.embedded,
                    "reused": report.reused,
                    "removed": report.removed,
                    "seconds": round(report.seconds, 3),
                    "index": str(report.index),
                }
            )
        )
    elif report.changed:
        print(
            f"Indexed {report.documents} documents into {report.passages} passages in "
            f"{report.seconds:.1f} s: {report.embedded} embedded, {report.reused} reused, "
            f"{report.removed} documents removed.\nServing {report.index}"
        )
    else:
        print(
            f"Index is up to date: {report.documents} documents, {report.passages} passages, "
            f"nothing to embed ({report.seconds:.2f} s).\nServing {report.index}"
        )
    return 0


def _index_status(args: argparse.Namespace, settings: Settings) -> int:
    from index.versions import IndexLocation

    location = IndexLocation(settings.index_dir)
    version = location.current_version()
    manifest = location.current_manifest()
    status = {
        "documents": len(manifest.documents),
        "passages": manifest.passage_count,
        "model": manifest.model.name,
        "dimension": manifest.model.dimension,
        "built_at": manifest.built_at,
        "bytes": manifest.total_bytes(version),
        "index": str(version),
    }
    if args.json:
        print(json.dumps(status))
    else:
        print(
            f"Index      {status['index']}\n"
            f"Documents  {status['documents']}\n"
            f"Passages   {status['passages']}\n"
            f"Model      {status['model']} ({status['dimension']} dimensions)\n"
            f"Built      {status['built_at']}\n"
            f"Size       {status['bytes'] / 1e6:.2f} MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
