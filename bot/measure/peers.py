"""What a user would build instead of Parley, as real code, for ``parley eval --baselines``.

Two retrievers, each built the way its project's own documentation builds one, with the
same all-MiniLM-L6-v2 weights Parley uses, over the same corpus:

- **txtai**: ``Embeddings(path=MODEL, hybrid=True, content=True)`` over Parley's passages
  (txtai does not cut text itself; its guides index paragraphs). Dense + BM25, fused by
  txtai's default convex combination.
- **LangChain**: the RAG tutorial's ``RecursiveCharacterTextSplitter(chunk_size=1000,
  chunk_overlap=200)`` over each document, a FAISS vector store with
  ``HuggingFaceEmbeddings`` and a ``BM25Retriever``, fused by an ``EnsembleRetriever`` with
  equal weights (reciprocal rank fusion).

Neither is a dependency of Parley: they install with the ``baselines`` extra
(``pip install -e '.[baselines]'``), and are imported only here, only when asked for.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from parley.index import ParleyError

INSTALL_HINT = "pip install -e '.[baselines]'"
# Per side: each retriever returns this many before the ensemble fuses them, as the
# LangChain tutorial sets ``k``; txtai is asked for the same number.
K = 5


class PeerExtraMissing(ParleyError):
    """The ``baselines`` extra is not installed."""


@dataclass(frozen=True)
class PeerRetriever:
    """A peer's search: the texts of its top ``k`` chunks for a question, best first."""

    name: str
    search: Callable[[str, int], list[str]]
    chunks: int


def peer_retrievers(documents: dict[str, str], passages: list[str], model_path: Path) -> list[PeerRetriever]:
    """Both peers, built over ``documents`` (doc id -> cleaned text) and ``passages``
    (Parley's passage texts); a missing extra is one clear ``PeerExtraMissing``."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # weights are on disk; never ask a hub
    return [txtai_hybrid(passages, model_path), langchain_ensemble(documents, model_path)]


def txtai_hybrid(passages: list[str], model_path: Path) -> PeerRetriever:
    try:
        from txtai import Embeddings
    except ImportError as error:
        raise PeerExtraMissing(f"The txtai baseline needs the baselines extra ({INSTALL_HINT}): {error}") from None
    embeddings = Embeddings(path=str(model_path), hybrid=True, content=True)
    embeddings.index([(row, text, None) for row, text in enumerate(passages)])

    def search(question: str, k: int) -> list[str]:
        return [hit["text"] for hit in embeddings.search(question, k)]

    return PeerRetriever("txtai hybrid", search, len(passages))


def langchain_ensemble(documents: dict[str, str], model_path: Path) -> PeerRetriever:
    try:
        from langchain_classic.retrievers import EnsembleRetriever
        from langchain_community.retrievers import BM25Retriever
        from langchain_community.vectorstores import FAISS
        from langchain_core.documents import Document
        from langchain_huggingface import HuggingFaceEmbeddings
        from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError as error:
        raise PeerExtraMissing(f"The LangChain baseline needs the baselines extra ({INSTALL_HINT}): {error}") from None
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = splitter.split_documents([Document(page_content=text, metadata={"source": doc_id})
                                       for doc_id, text in documents.items()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store = FAISS.from_documents(chunks, HuggingFaceEmbeddings(model_name=str(model_path)))
    lexical = BM25Retriever.from_documents(chunks, k=K)
    ensemble = EnsembleRetriever(retrievers=[lexical, store.as_retriever(search_kwargs={"k": K})],
                                 weights=[0.5, 0.5])

    def search(question: str, k: int) -> list[str]:
        return [document.page_content for document in ensemble.invoke(question)][:k]

    return PeerRetriever("LangChain ensemble", search, len(chunks))


# ---- as processes, for `parley bench` ------------------------------------------------
# python -m parley.bot.measure.peers build NAME VERSION OUT   build NAME's index of the
#        passages and documents of a Parley index version, and save it in OUT
# python -m parley.bot.measure.peers ask NAME OUT QUESTION    load it, print the top chunk

PEER_NAMES = ("txtai", "langchain")
USAGE = "usage: python -m parley.bot.measure.peers {build NAME VERSION OUT | ask NAME OUT QUESTION}"


def build_saved(name: str, version: Path, out: Path, model_path: Path) -> int:
    """Build peer ``name`` over ``version``'s documents and passages and save it in ``out``,
    the way its documentation saves one; returns the number of chunks."""
    from parley.bot.measure.naive import document_texts, passage_texts

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if name == "txtai":
        from txtai import Embeddings

        passages = [text for _, text in passage_texts(version)]
        embeddings = Embeddings(path=str(model_path), hybrid=True, content=True)
        embeddings.index([(row, text, None) for row, text in enumerate(passages)])
        embeddings.save(str(out))
        return len(passages)
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = splitter.split_documents([Document(page_content=text, metadata={"source": doc_id})
                                       for doc_id, text in document_texts(version).items()])
    FAISS.from_documents(chunks, HuggingFaceEmbeddings(model_name=str(model_path))).save_local(str(out))
    return len(chunks)


def ask_saved(name: str, out: Path, question: str, model_path: Path) -> str:
    """Load peer ``name``'s saved index and return its best chunk for ``question``: a cold start."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if name == "txtai":
        from txtai import Embeddings

        embeddings = Embeddings()
        embeddings.load(str(out))
        return embeddings.search(question, K)[0]["text"]
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.retrievers import BM25Retriever
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    store = FAISS.load_local(str(out), HuggingFaceEmbeddings(model_name=str(model_path)),
                             allow_dangerous_deserialization=True)  # our own file, just written
    # A BM25Retriever is not saved; the tutorial builds it again from the stored chunks.
    lexical = BM25Retriever.from_documents(list(store.docstore._dict.values()), k=K)
    ensemble = EnsembleRetriever(retrievers=[lexical, store.as_retriever(search_kwargs={"k": K})],
                                 weights=[0.5, 0.5])
    return ensemble.invoke(question)[0].page_content


def main(argv: list[str]) -> int:
    import sys

    from parley.index import packaged_model_path

    if len(argv) == 4 and argv[0] == "build" and argv[1] in PEER_NAMES:
        print(build_saved(argv[1], Path(argv[2]), Path(argv[3]), packaged_model_path()))
        return 0
    if len(argv) == 4 and argv[0] == "ask" and argv[1] in PEER_NAMES:
        print(ask_saved(argv[1], Path(argv[2]), argv[3], packaged_model_path()))
        return 0
    print(USAGE, file=sys.stderr)
    return 2


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
