"""Turn a raw web capture into the article's own words.

The rules describe *kinds* of site chrome (navigation, marketing prompts, photo credits,
rating boxes, fetch banners, ids, comment counters), not the sentences of any one capture,
so a new document dropped into the corpus is cleaned the same way. Everything that is left
is the article's text, normalised (Unicode NFKC, plain hyphens and quotes, single spaces)
but otherwise untouched: quotes are later cut from it by character offsets.
"""

from __future__ import annotations

import re
import unicodedata

# Typographic variants folded to ASCII so that search, matching and display agree; the
# words themselves do not change. Zero-width and bidi-control characters are dropped:
# invisible, they only break matching (and can reorder text on screen).
_FOLD = {
    0x2010: "-",  # hyphen
    0x2011: "-",  # non-breaking hyphen
    0x2018: "'",
    0x2019: "'",
    0x201A: "'",
    0x201B: "'",
    0x201C: '"',
    0x201D: '"',
    0x201E: '"',
    0x201F: '"',
    0x00AD: None,  # soft hyphen
    0x200B: None,
    0x200C: None,
    0x200D: None,
    0x2060: None,
    0xFEFF: None,
    **{code: None for code in range(0x202A, 0x202F)},  # bidi embeddings and overrides
    **{code: None for code in range(0x2066, 0x206A)},  # bidi isolates
}

_SENTENCE_END = ".!?:;\"')]"
# A label is a line too short to be prose that does not end like a sentence: headings,
# menu entries, "4/5", "Comments", "0 comments", a site's name.
_MAX_LABEL_WORDS = 3

_NAV_PREFIX = re.compile(r"^skip to (?:main )?content\b[.:]?\s*", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"\[([^\]\n]+)\]\((?:https?://|/)[^)\s]*\)")
_SPACE_BEFORE_CLOSER = re.compile(r"[ \t]+([.,;:!?)\u201d])")
_SPACE_AFTER_OPENER = re.compile(r"([(\u201c])[ \t]+")
_TRUNCATION = re.compile(r"^(?:\.\.\.|…)?\s*\(truncated\b[^)]*\)$", re.IGNORECASE)

# Short lines of these kinds are chrome wherever they stand. "Short" keeps a long article
# sentence that merely mentions, say, a newsletter from being dropped.
_CHROME_MAX_WORDS = 25
_SHORT_CHROME = [
    # marketing and sign-up prompts addressed to the reader
    re.compile(
        r"\b(?:preferred source|sign up|subscribe|newsletter|get your free|"
        r"send(?:s)? you|delivered to your inbox|follow us|download (?:the|our) app)\b",
        re.IGNORECASE,
    ),
    # photo and illustration credits
    re.compile(
        r"^(?:photo illustration|photograph|photo|image|illustration|graphic|credit)s?"
        r"\b[^:]{0,30}:",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:getty images|ap photo|afp via)\b", re.IGNORECASE),
    # rating and scoring boxes ("Importance: 52/100", "Credibility Rating", quality tiers)
    re.compile(r"^[\w ]{1,30}:\s*\d+(?:\.\d+)?\s*/\s*\d+", re.IGNORECASE),
    re.compile(r"^(?:very )?(?:high|medium|low|mixed) quality\b", re.IGNORECASE),
    # fetch banners, script notices, internal ids
    re.compile(r"^HTTP ?\d{3}(?!\d)"),
    re.compile(r"\benable javascript\b|\bjavascript (?:is )?(?:required|disabled)\b", re.I),
    re.compile(r"^(?:resource|stable|document|article|content) id\s*:", re.IGNORECASE),
]
# "Rating" alone is a common word, so only a very short line with it is a rating box.
_RATING_LINE = re.compile(r"\brating\b", re.IGNORECASE)
_RATING_MAX_WORDS = 12

# "Headline | Site name": a page's <title> element. The headline is the article's own
# words (and often its thesis); the site name is chrome.
_PAGE_TITLE = re.compile(r"^([^|]{3,200}) \| [^|]{2,80}$")


def clean_text(raw: str) -> str:
    """Return the article text of ``raw``: one paragraph a line, chrome removed."""
    text = unicodedata.normalize("NFKC", raw)
    text = _MARKDOWN_LINK.sub(r"\1", text)
    # Link markup in captures leaves spaces inside quotes and before punctuation
    # ("“ AI arms race .”"); curly quotes still tell openers from closers here.
    text = _SPACE_BEFORE_CLOSER.sub(r"\1", text)
    text = _SPACE_AFTER_OPENER.sub(r"\1", text)
    text = text.translate(_FOLD)

    lines = [" ".join(line.split()) for line in text.split("\n")]
    lines = _join_soft_wraps([line for line in lines if line])

    kept: list[str] = []
    for line in lines:
        line = _NAV_PREFIX.sub("", line)
        line = _strip_site_name(line)
        if _TRUNCATION.match(line):
            if kept:
                kept[-1] = _drop_cut_word(kept[-1])
            continue
        if line and not _is_chrome(line):
            kept.append(line)
    return "\n".join(kept)


def _join_soft_wraps(lines: list[str]) -> list[str]:
    """Rejoin a sentence that the capture wrapped onto the next line. The pieces of each
    paragraph are gathered and joined once: appending to a growing string would be
    quadratic on a capture of many short wrapped lines."""
    paragraphs: list[list[str]] = []
    for line in lines:
        if paragraphs and paragraphs[-1][-1][-1] not in _SENTENCE_END and line[0].islower():
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return [" ".join(pieces) for pieces in paragraphs]


def _is_chrome(line: str) -> bool:
    words = len(line.split())
    if words <= _MAX_LABEL_WORDS and line[-1] not in ".!?:":
        return True
    if words <= _RATING_MAX_WORDS and _RATING_LINE.search(line):
        return True
    return words <= _CHROME_MAX_WORDS and any(p.search(line) for p in _SHORT_CHROME)


def _strip_site_name(line: str) -> str:
    match = _PAGE_TITLE.match(line)
    if match and line[-1] not in ".!?" and len(line.split()) <= 20:
        return match.group(1).rstrip()
    return line


def _drop_cut_word(line: str) -> str:
    """A capture cut off mid-word ("against a determi"): keep only whole words."""
    if line[-1] in _SENTENCE_END:
        return line
    head, _, _ = line.rpartition(" ")
    return head or line
