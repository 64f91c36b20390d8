"""The question as Parley reads it: chat markup and mentions stripped, invisible characters
dropped, whitespace collapsed, a very long paste shortened (with a note saying so); and
whether it is written in English at all."""

from __future__ import annotations

import html
import re
import unicodedata

from parley.bot import phrases
from parley.bot.answer.types import EmptyQuestionError

MAX_QUESTION_CHARS = 1000
# Unicode categories never shown as text: controls, format characters (zero-width,
# bidi overrides), unassigned and private-use code points.
_INVISIBLE = {"Cc", "Cf", "Cn", "Co", "Cs"}


# Chat clients send questions with markup around the words that matter: mentions of the bot
# or of people (Discord <@123>, <@!123>, <@&role>, <#channel>; Slack <@U123>, <!here>,
# <#C123|name>), Markdown links, code spans and blocks, HTML tags, emphasis, quote markers.
_MENTION = re.compile(r"<[@#!][^<>\s]*>|(?<!\w)@(?:everyone|here|channel)\b")
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))*\)")
_SLACK_LINK = re.compile(r"<(?:https?|mailto):[^|>\s]*\|([^>]+)>|<((?:https?|mailto):[^>\s]+)>")
_STRUCK = re.compile(r"~~[^~\n]+~~")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_EMPHASIS = re.compile(r"(?<![\w*_~`|])(\*\*|__|\*|_|`{1,3}|~~|\|\|)(?=\S)(.+?)(?<=\S)\1(?![\w*_~`|])", re.DOTALL)
_SPACE_BEFORE_MARK = re.compile(r"\s+([?.!,;:])")
_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\n?")
_LINE_MARKER = re.compile(r"(?m)^\s*(?:>+|#{1,6}|[-*+]|\d+[.)])\s+")

# Function words of the languages people most often ask in, besides English: a question
# that holds more of these than English ones, or is mostly in another script, is not in
# English. The corpus is English, so Parley says so rather than search with it.
_ENGLISH = set("the a an is are was were do does did what who why how which when where of to in on for and "
               "or with about should would could can will be it this that they we you i not".split())
_OTHER = set("el la los las del y es son qué que cómo cuál sobre para por con una dijo hay entre "
             "le les des du est et sur pour avec une selon quel quelle qui faut il "
             "der die das und ist nicht mit über für ein eine wie sind zwischen hat von auf zu im dem den des "
             "sich auch oder wird werden nach bei gegen "
             "il lo gli di che è sono hanno per nel quanto della "
             "o os as em um não como foi dos das pela pelo ou contra são estão".split())


def strip_markup(text: str) -> str:
    """The words of a chat message without its markup (links keep their text)."""
    text = html.unescape(text)
    text = _SLACK_LINK.sub(lambda m: m.group(1) or m.group(2), text)
    text = _MENTION.sub(" ", text)
    text = _MARKDOWN_LINK.sub(r"\1", text)
    text = _FENCE.sub(" ", text)
    text = _STRUCK.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    for _ in range(2):  # nested emphasis, e.g. **_word_**
        text = _EMPHASIS.sub(r"\2", text)
    return _SPACE_BEFORE_MARK.sub(r"\1", _LINE_MARKER.sub(" ", text))


def is_english(question: str) -> bool:
    """False for a question mostly in another script, or with more function words of
    other languages than of English."""
    letters = [ch for ch in question if ch.isalpha()]
    if not letters:
        return True
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    if latin < 0.5 * len(letters):
        return False
    words = set(re.findall(r"[^\W\d_]+", question.lower()))
    english = sum(w in _ENGLISH for w in words)
    other = sum(w in _OTHER and w not in _ENGLISH for w in words)
    return not (other >= 2 and other > english)


def is_blank(question: str) -> bool:
    """Whether nothing readable is left once markup and invisible characters are gone."""
    try:
        clean_question(question)
    except EmptyQuestionError:
        return True
    return False




_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


def asking_part(question: str) -> str:
    """The sentences of a message that ask: those ending in "?", or the last one when none
    does. "My cousin worked in Shenzhen. Could a lab employee raise the alarm?" asks about
    raising the alarm; Shenzhen is context."""
    sentences = [s for s in _SENTENCE_END.split(question.strip()) if s]
    asking = [s for s in sentences if s.rstrip().endswith("?")]
    return " ".join(asking or sentences[-1:])


def clean_question(question: str) -> tuple[str, str | None]:
    """The question as Parley reads it, and a note when it had to be shortened.

    Markup and mentions are stripped (``strip_markup``); control, zero-width and bidi-override characters are dropped (invisible, they only
    disguise text), whitespace is collapsed, and a very long paste is answered on its
    first ``MAX_QUESTION_CHARS`` characters, cut at a word, so the work stays bounded.
    """
    question = unicodedata.normalize("NFKC", question)
    question = "".join(ch for ch in question if unicodedata.category(ch) not in _INVISIBLE or ch in "\t\n ")
    question = " ".join(strip_markup(question).split())
    if not question:
        raise EmptyQuestionError("the question is empty")  # each surface says it in its own words
    if len(question) <= MAX_QUESTION_CHARS:
        return question, None
    cut = question[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0] or question[:MAX_QUESTION_CHARS]
    return cut, phrases.shortened_question(len(question), len(cut))
