"""What a document's shape costs a build: the same number of bytes as prose, as short lines,
as lines a capture wrapped, as one line with no sentence end, as a run of abbreviations.

    .venv/bin/python benchmarks/build_shapes.py [--kilobytes K] [--repeats R]

Each shape is a corpus of one K-kilobyte file (default 100), added to an index that already
holds a small note (so the exported query encoder is reused, as in any re-index), with one
model loaded for all of them. Printed per shape: the median seconds of the whole build, of
cleaning and chunking alone, the texts embedded, and the build's cost per byte against
prose's. The issue's bar: at most twice prose, and linear in the size (cleaning included).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from parley.index.indexing.build import build_index
from parley.index.indexing.chunk import chunk_document
from parley.index.indexing.embed import Embedder, packaged_model_path
from parley.index.sources.clean import clean_text
from parley.index.store.versions import IndexLocation

WORDS = ("the race between china and america over chips and safety talks goes on while labs compete "
         "for talent compute and a lead that export controls may or may not protect").split()


def shapes(size: int) -> dict[str, str]:
    """Texts of about ``size`` bytes, one per shape."""
    rng = random.Random(7)

    def sentence(words: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."

    def fill(make, joiner: str) -> str:
        parts, total = [], 0
        while total < size:
            parts.append(make(len(parts)))
            total += len(parts[-1]) + len(joiner)
        return joiner.join(parts)

    return {
        "prose (paragraphs of 5 sentences)": fill(lambda _: " ".join(sentence(18) for _ in range(5)), "\n"),
        "short lines, each a sentence": fill(lambda n: f"Line {n} ends.", "\n"),
        "short wrapped lines (one paragraph)": fill(lambda n: f"w{n} and", "\n"),
        "one line, no sentence end": fill(lambda n: rng.choice(WORDS), " "),
        "a run of abbreviations": "Talks " + fill(lambda _: "Mr.", " ") + " ended.",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kilobytes", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    embedder = Embedder(packaged_model_path())
    embedder.encode(["warm up"])
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for name, text in shapes(args.kilobytes * 1000).items():
            started = time.perf_counter()
            passages = chunk_document("d", clean_text(text))
            cut = time.perf_counter() - started
            builds = []
            for _ in range(args.repeats):
                corpus, location = root / "corpus", IndexLocation(root / "index")
                shutil.rmtree(corpus, ignore_errors=True)
                shutil.rmtree(location.root, ignore_errors=True)
                corpus.mkdir()
                (corpus / "note.txt").write_text("---\ntitle: Note\n---\nA short note on chips and talks.\n")
                build_index(corpus, location, embedder)  # exports the encoder once
                (corpus / "shape.txt").write_text(f"---\ntitle: Shape\n---\n{text}\n")
                started = time.perf_counter()
                report = build_index(corpus, location, embedder)
                builds.append(time.perf_counter() - started)
            rows.append((name, len(text.encode()), statistics.median(builds), cut, len(passages), report))
    prose_rate = rows[0][2] / rows[0][1]
    print(f"{'shape':38} {'bytes':>8} {'build s':>8} {'clean+chunk s':>14} {'passages':>9} {'x prose/byte':>13}")
    for name, size, build, cut, passages, _ in rows:
        print(f"{name:38} {size:8,} {build:8.2f} {cut:14.3f} {passages:9,} {build / size / prose_rate:13.2f}")


if __name__ == "__main__":
    main()
