"""The answer core's entry point: a question in, an ``Answer`` out. Every surface
(console, Discord, Slack, CLI) calls this and renders what it returns."""

from __future__ import annotations

from dataclasses import replace

from parley.bot.answer.compose import AnswerSettings, compose, compose_point
from parley.bot.answer.question import clean_question, is_english
from parley.bot.answer.types import FRAMING_SECTIONS, Answer, PointSummary, SourceSummary
from parley.index import Hit, Mode, ServedIndex


class AnswerEngine:
    """Answers questions from the served index."""

    def __init__(self, served: ServedIndex, settings: AnswerSettings = AnswerSettings()):
        self.served = served
        self.settings = settings

    def search(self, question: str, k: int = 5, *, mode: Mode = "hybrid") -> list[Hit]:
        return self.served.retriever().search(clean_question(question)[0], k, mode=mode)

    def ask(self, question: str, *, mode: Mode = "hybrid", complete: bool = False) -> Answer:
        """The answer to ``question``; ``complete``: every relevant quote, not the short default."""
        question, note = clean_question(question)
        if not is_english(question):
            # The corpus is English: searching it with another language finds only noise.
            return Answer(question=question, answered=False, perspectives=[], citations=[], summary="",
                          note=note, kind="not_english")
        retrieval = self.served.retriever().retrieve(question, self.settings.candidates, mode=mode)
        answer = compose(retrieval, self.settings, complete=complete)
        return replace(answer, note=note) if note else answer

    def points(self) -> list[PointSummary]:
        """The debate map's points with how many claims each framing has on each."""
        return [PointSummary(p.point_id, p.title, p.scope, {f: len(p.claims.get(f, ())) for f in FRAMING_SECTIONS})
                for p in self.served.retriever().index.points.points]

    def point(self, point_id: str) -> Answer | None:
        """Both sides of one point; ``None`` for an id the map does not have."""
        retrieval = self.served.retriever().point_view(point_id.strip().lower())
        return compose_point(retrieval, self.settings) if retrieval is not None else None

    def sources(self) -> list[SourceSummary]:
        index = self.served.retriever().index
        stances = index.stances_by_document()  # counted over columns: a million passages at scale
        claims = index.claims_by_document()
        return [
            SourceSummary(
                doc_id=document.doc_id,
                title=document.title,
                publisher=document.publisher,
                url=document.url,
                date=document.date,
                passages=document.passage_count,
                stances=stances[document.doc_id],
                claims=claims[document.doc_id][0],
                reviewed_claims=claims[document.doc_id][1],
            )
            for document in index.documents.headers()
        ]

