"""The answer core: a question in, an ``Answer`` out. Every adapter (console, Discord,
Slack) calls this and only renders what it returns; nothing here knows a platform."""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from dataclasses import replace

from parley.bot.answer import Answer, SourceSummary
from parley.bot.compose import AnswerSettings, compose
from parley.index.errors import ParleyError
from parley.index.search import Hit, Mode, QueryEncoder, Retriever, SearchSettings
from parley.index.versions import IndexLocation


log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 1000
# Unicode categories never shown as text: controls, format characters (zero-width,
# bidi overrides), unassigned and private-use code points.
_INVISIBLE = {"Cc", "Cf", "Cn", "Co", "Cs"}


class EmptyQuestionError(ParleyError):
    """The question has no words in it."""


class ServedIndex:
    """The index being served. A re-index swaps in a whole new ``Retriever`` with one
    assignment, so each question is answered from one version, old or new, never a mix.

    Questions are embedded by the version's own ONNX encoder (``query_encoder.py``), so
    serving never imports torch; a test or a benchmark may pass another ``encoder``.

    Several processes may serve one index directory (README, "Running several
    processes"): at most every ``follow_seconds`` a question checks where ``current``
    points (one ``readlink``), and a version published by another process is loaded in
    the background and swapped in, while questions go on being answered from the old one.
    """

    def __init__(self, location: IndexLocation, settings: SearchSettings = SearchSettings(), *,
                 encoder: QueryEncoder | None = None, encoder_threads: int = 0, follow_seconds: float = 2.0):
        self.location = location
        self.settings = settings
        self.encoder = encoder
        self.encoder_threads = encoder_threads
        self.follow_seconds = follow_seconds
        self._retriever: Retriever | None = None
        self._loading = threading.Lock()
        self._checked_at = time.monotonic()

    def retriever(self) -> Retriever:
        """The current retriever, loading the served version on first use."""
        retriever = self._retriever
        if retriever is None:
            with self._loading:
                if self._retriever is None:
                    self._retriever = self._load()
                    self._checked_at = time.monotonic()
                retriever = self._retriever
        elif time.monotonic() - self._checked_at >= self.follow_seconds:
            self._follow(retriever)
        return retriever

    def _follow(self, serving: Retriever) -> None:
        """Start loading the version ``current`` points at, if another process moved it."""
        self._checked_at = time.monotonic()
        try:
            published = self.location.current_version()
        except ParleyError:
            return  # keep serving what is loaded
        if published == serving.index.directory or not self._loading.acquire(blocking=False):
            return

        def load() -> None:
            try:
                if self._retriever is serving:
                    self._retriever = self._load()
            except ParleyError as error:  # a damaged version: keep the one being served
                log.warning("not following the index to %s: %s", published, error)
            finally:
                self._loading.release()

        threading.Thread(target=load, name="follow-index", daemon=True).start()

    def reload(self) -> None:
        """Load the version ``current`` points at now and serve it from the next question."""
        fresh = self._load()
        self._retriever = fresh
        self._checked_at = time.monotonic()

    def _load(self) -> Retriever:
        index = self.location.open()
        if self.encoder is not None:
            model = getattr(self.encoder, "info", None)
            if model is not None:
                index.check_model(model)
            return Retriever(index, self.encoder, self.settings)
        previous = self._retriever
        if previous is not None and getattr(previous.encoder, "record", None) == index.manifest.query_encoder:
            encoder = previous.encoder  # the same export: keep its loaded session
        else:
            encoder = index.query_encoder(self.encoder_threads)
        return Retriever(index, encoder, self.settings)


class AnswerEngine:
    """Answers questions from the served index."""

    def __init__(self, served: ServedIndex, settings: AnswerSettings = AnswerSettings()):
        self.served = served
        self.settings = settings

    def search(self, question: str, k: int = 5, *, mode: Mode = "hybrid") -> list[Hit]:
        return self.served.retriever().search(clean_question(question)[0], k, mode=mode)

    def ask(self, question: str, *, mode: Mode = "hybrid") -> Answer:
        question, note = clean_question(question)
        retriever = self.served.retriever()
        query = retriever.encoder.encode([question])[0]
        hits = retriever.search_vector(question, query, self.settings.candidates, mode=mode)
        lexical = max(hits, key=lambda hit: hit.bm25, default=None)
        coverage = retriever.index.term_coverage(question, lexical.row) if lexical else 0.0
        answer = compose(question, query, hits, retriever.index, self.settings,
                         lexical_best=lexical, coverage=coverage)
        if note:
            answer = replace(answer, note=note, text=f"({note})\n{answer.text}")
        return answer

    def sources(self) -> list[SourceSummary]:
        index = self.served.retriever().index
        summaries = []
        for document in index.documents.values():
            stances = {"race": 0, "cooperation": 0, "neutral": 0}
            for passage in index.passages:
                if passage.doc_id == document.doc_id:
                    stances[passage.stance] += 1
            summaries.append(
                SourceSummary(
                    doc_id=document.doc_id,
                    title=document.title,
                    publisher=document.publisher,
                    url=document.url,
                    date=document.date,
                    passages=document.passage_count,
                    stances=stances,
                )
            )
        return summaries


def clean_question(question: str) -> tuple[str, str | None]:
    """The question as Parley reads it, and a note when it had to be shortened.

    Control, zero-width and bidi-override characters are dropped (invisible, they only
    disguise text), whitespace is collapsed, and a very long paste is answered on its
    first ``MAX_QUESTION_CHARS`` characters, cut at a word, so the work stays bounded.
    """
    question = unicodedata.normalize("NFKC", question)
    question = "".join(ch for ch in question if unicodedata.category(ch) not in _INVISIBLE or ch in "\t\n ")
    question = " ".join(question.split())
    if not question:
        raise EmptyQuestionError("The question is empty: ask something, e.g. `parley ask \"Is there an AI race?\"`.")
    if len(question) <= MAX_QUESTION_CHARS:
        return question, None
    cut = question[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0] or question[:MAX_QUESTION_CHARS]
    return cut, f"Your question was {len(question):,} characters long; I answered its first {len(cut):,}."
