"""The question as Parley reads it: invisible characters dropped, whitespace collapsed,
a very long paste shortened (with a note saying so)."""

from __future__ import annotations

import unicodedata

from parley.index.errors import ParleyError

MAX_QUESTION_CHARS = 1000
# Unicode categories never shown as text: controls, format characters (zero-width,
# bidi overrides), unassigned and private-use code points.
_INVISIBLE = {"Cc", "Cf", "Cn", "Co", "Cs"}


class EmptyQuestionError(ParleyError):
    """The question has no words in it."""


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
