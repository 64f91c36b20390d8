"""The answer core: a question and a retrieval in, an ``Answer`` (plain data) out.

Pure: no I/O, no rendering, no platform. It sees the index only through the ``Retrieval``
data that ``parley.index.search.retriever`` returns.
"""

from parley.bot.answer.engine import AnswerEngine
from parley.bot.answer.question import MAX_QUESTION_CHARS, clean_question
from parley.bot.answer.types import Answer, Citation, EmptyQuestionError, Perspective, PointSummary, SourceSummary

__all__ = ["Answer", "AnswerEngine", "Citation", "EmptyQuestionError", "MAX_QUESTION_CHARS", "Perspective",
           "PointSummary", "SourceSummary", "clean_question"]
