"""The naive build that ``parley bench`` measures Parley against, as real code.

It is what a first version of this bot would be: sentence-transformers loaded in the
process to embed questions, a FAISS flat index of the passages, and every passage
re-embedded on each re-index. Its start-up is timed in fresh processes:

    python -m parley.bot.measure.naive ask VERSION QUESTION   start, load, answer one question
    python -m parley.bot.measure.naive ready VERSION          start and load: ready to serve
    python -m parley.bot.measure.naive import                 only import sentence-transformers
    python -m parley.bot.measure.naive build VERSION OUT      a full re-index: embed every passage of
                                                              VERSION, write a flat index to OUT

The libraries are imported inside the functions, not at the top of this module, so that
``import`` pays for sentence-transformers alone and nothing else is loaded before a run
starts; a naive bot would import the same libraries as its first lines.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

DESCRIPTION = "sentence-transformers loaded in the process, FAISS flat, every passage re-embedded"
USAGE = "usage: python -m parley.bot.measure.naive {ask VERSION QUESTION | ready VERSION | import | build VERSION OUT}"

# The files of an index version the naive build reads (index/store.py and columns.py write
# them). Named here rather than imported, so a naive start pays for nothing of Parley's
# index code.
VECTORS = "vectors.faiss"
PASSAGES = "passages.npy"
DOCUMENTS = "documents.json"
DOCUMENT_TEXT = "document-text.bin"


def _documents(version: Path) -> list[tuple[dict, str]]:
    """Each document's metadata and cleaned text, in corpus order (one read of each file)."""
    documents = json.loads((version / DOCUMENTS).read_text(encoding="utf-8"))
    data = (version / DOCUMENT_TEXT).read_bytes()
    return [(d, data[d["text_bytes"][0] : d["text_bytes"][1]].decode("utf-8")) for d in documents]


def document_texts(version: Path) -> dict[str, str]:
    """The cleaned text of every document of an index version, by id, in corpus order."""
    return {d["doc_id"]: text for d, text in _documents(version)}


def passage_texts(version: Path) -> list[tuple[str, str]]:
    """(title, text) of every passage of an index version, in row order."""
    import numpy as np

    documents = _documents(version)
    return [(documents[int(r["doc"])][0]["title"], documents[int(r["doc"])][1][int(r["start"]) : int(r["end"])])
            for r in np.load(version / PASSAGES)]


class NaiveBot:
    """The model, a flat index of the passages and their texts, loaded the naive way."""

    def __init__(self, version: Path):
        import faiss
        from sentence_transformers import SentenceTransformer

        from parley.index import packaged_model_path

        self.model = SentenceTransformer(str(packaged_model_path()), device="cpu")
        self.vectors = faiss.read_index(str(version / VECTORS))
        self.passages = [text for _, text in passage_texts(version)]

    def answer(self, question: str) -> str:
        """The text of the passage nearest to the question."""
        _, rows = self.vectors.search(self.model.encode([question], normalize_embeddings=True), 5)
        return self.passages[rows[0][0]]


def build(version: Path, out: Path) -> int:
    """The naive full re-index as a process: load the model, embed every passage of
    ``version`` as Parley's passage vectors are embedded (title, newline, text) in the
    library's default batches, and write a flat index. Returns the passage count."""
    from sentence_transformers import SentenceTransformer

    from parley.index import packaged_model_path

    model = SentenceTransformer(str(packaged_model_path()), device="cpu")
    texts = [f"{title}\n{text}" for title, text in passage_texts(version)]
    write_flat_index(model.encode(texts, batch_size=32, normalize_embeddings=True), out)
    return len(texts)


def write_flat_index(vectors: np.ndarray, path: Path) -> None:
    """The naive re-index's last step: every passage vector into a flat index file."""
    import faiss

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    faiss.write_index(flat, str(path))


def main(argv: list[str]) -> int:
    if argv[:1] == ["ask"] and len(argv) == 3:
        print(NaiveBot(Path(argv[1])).answer(argv[2]))
        return 0
    if argv[:1] == ["ready"] and len(argv) == 2:
        NaiveBot(Path(argv[1]))
        return 0
    if argv[:1] == ["build"] and len(argv) == 3:
        print(build(Path(argv[1]), Path(argv[2])))
        return 0
    if argv == ["import"]:
        import sentence_transformers  # noqa: F401 — the import is what is timed

        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
