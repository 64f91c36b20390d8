"""Every sentence Parley says to people outside the corpus's own words: refusals, waits,
hints, acknowledgements, thanks, apologies. One place to word them, and to test them.

Renderers and adapters escape these for their platform; nothing here knows a platform's
markup.
"""

from __future__ import annotations

import math

from parley.bot.answer.types import EmptyQuestionError
from parley.index import ClaimFraming, IndexUnreadableError, NoIndexError, ParleyError

CORPUS_SCOPE = "the debate over whether the US and China are in an AI race or should cooperate on AI safety"
_NOT_FOUND = "Sorry, I couldn't find anything in the corpus that answers {what}."
_TRY_INSTEAD = "Try asking about that debate, or use /sources to see every document."

# Said before answering, within a platform's 3 s acknowledgement.
SEARCHING = "Searching the corpus…"
LISTING = "Listing the corpus…"

# Hints: what to type.
EMPTY_QUESTION = "There is no question to answer: ask something, e.g. “is there an AI race?”"
MENTION_HINT = "Ask me a question after the mention, e.g. “@Parley is there an AI race?”"
ASK_HINT = ("Ask a question after the command, e.g. `/ask is there an AI race?` "
            "(or `/ask private …` to see the answer alone).")

# When answering failed; the trace goes to the log, never to the channel.
APOLOGY = "Sorry, something went wrong while answering. The error has been logged; please try again."
NO_INDEX = "I can't answer yet: the corpus index is missing or damaged. An admin can run /reindex."

# Votes.
VOTE_THANKS = "Thanks, your feedback was recorded."
VOTE_TOO_OLD = "That answer is too old to vote on."
VOTE_UNAVAILABLE = "Sorry, I can't record votes right now. Please try again in a minute."
STORE_UNAVAILABLE = "Sorry, I can't look that answer up right now. Please try again in a minute, or ask again."

# Quotes whose framing no person has checked (the classifier labelled them).
UNREVIEWED = "framing not reviewed"

# More passages than the short answer shows, and how to see them all.
MORE_IN_CLI = "Ask again with parley ask --all to see them all."
MORE_BY_BUTTON = "Press More to see them all (only you will see them)."
MORE_BUTTON = "More"
MORE_GONE = ("That answer is no longer stored (answers are kept for a limited time), so I can't expand it. "
             "Please ask the question again.")
_MORE_LABELS = {"answer": "that answer it directly", "race": "with the race framing",
                "cooperation": "with the cooperation framing", "neutral": "of context"}
_FRAMED_AS = {"race": "as a race", "cooperation": "as cooperation"}
NOT_COVERED = "Nothing in the corpus answers this."


def on_point(title: str) -> str:
    """What Parley understood the question to ask: the debate map's point it answers."""
    return f"On: {title}"


def unknown_point(point_id: str) -> str:
    shown = point_id if len(point_id) <= 60 else point_id[:59] + "…"
    return f"The debate map has no point “{shown}”. Use /points to list them."


NO_POINTS = ("This corpus has no debate map yet: a curator can draft one with `parley points propose` "
             "(docs/debate-map-guide.md).")


def point_line(title: str, claims: dict[str, int]) -> str:
    """One point in the /points list, with its claims by framing."""
    return f"{title} ({claims.get('race', 0)} race, {claims.get('cooperation', 0)} cooperation)"


def related_points(titles: list[str]) -> str:
    return "Related points: " + " · ".join(titles)


# Said to a question that pushes for a side ("pick one", "US just wins, right?").
PICKS_NO_SIDE = "Parley shows the sides the corpus argues, in its own words; it does not pick one."


def reported_view(publisher: str, speaker: str) -> str:
    """A quote that gives someone's view in the writer's words: the words are the
    publication's, the view is the speaker's."""
    return f"{publisher}, reporting {speaker}"


def shown_tally(shown: dict[str, int]) -> str:
    """What an answer's framing sections show, in their order ("Shown: 1 quote as a race;
    2 quotes as cooperation."); no tally when no framing is shown. (Which framing the corpus
    does not hold on this point, and how many more passages hold each, are said apart.)"""
    parts = [f"{count} quote{'s' if count != 1 else ''} {_FRAMED_AS[framing]}"
             for framing, count in shown.items() if count]
    return "Shown: " + "; ".join(parts) + "." if parts else ""


def shortened_question(asked: int, answered: int) -> str:
    """Said before an answer to a very long paste: how much of it was read."""
    return f"Your question was {asked:,} characters long; I answered its first {answered:,}."

# Re-indexing from a chat surface.
REINDEX_STARTED = "Re-indexing the corpus; answers continue meanwhile…"
REINDEX_RUNNING = "A re-index is already running; its result will be served when it ends."
REINDEX_NOBODY_ALLOWED = ("Re-indexing is not allowed for anyone yet: list admin user ids in "
                          "PARLEY_SLACK_ADMIN_USERS to allow it.")
_REINDEX_REFUSED = {
    "discord": "Only members with Manage Server (or a Parley admin role) can re-index.",
}
_REINDEX_REFUSED_ELSEWHERE = "Only Parley admins can re-index the corpus."
REINDEX_UNAVAILABLE = "This Parley was started without a corpus to re-index from."
REINDEX_FAILED_UNEXPECTEDLY = "Re-index failed unexpectedly (logged). The current index is still served."

# The local console (`parley chat`).
CONSOLE_WELCOME = "Parley — answers from the corpus, in its own words. Type /help for commands."
CONSOLE_HELP = """Ask anything about the US-China AI race-versus-cooperation debate.
  QUESTION or /ask QUESTION   answer from the corpus, quoted and cited
  /sources                    list the documents in the corpus
  /points [ID]                the debate map's points; with an ID, both sides of one
  /reindex                    re-index the corpus (answers continue meanwhile)
  /help                       this help
  /quit                       leave (Ctrl-D works too)"""
CONSOLE_NOT_A_TERMINAL = "(stdin is not a terminal: answering one sample question)"


def refusal(question: str, titles: tuple[str, ...], missing: tuple[str, ...] = ()) -> str:
    """An honest 'not in the corpus' that says what the corpus does cover (plain text,
    where the question is not shown anywhere else), and which of the question's subjects
    it never mentions."""
    examples = "; ".join(f'"{t}"' for t in titles[:3])
    more = f" and {len(titles) - 3} more" if len(titles) > 3 else ""
    lines = [_NOT_FOUND.format(what=f'"{question}"')]
    if missing:
        lines.append(not_mentioned(missing))
    lines.append(f"The corpus covers {CORPUS_SCOPE}: {len(titles)} documents, including {examples}{more}.")
    return "\n".join([*lines, _TRY_INSTEAD])


def brief_refusal(missing: tuple[str, ...] = ()) -> str:
    """The same refusal for a chat message that already shows the question as its title."""
    unmentioned = f" {not_mentioned(missing)}" if missing else ""
    return f"{_NOT_FOUND.format(what='that')}{unmentioned} The corpus covers {CORPUS_SCOPE}. {_TRY_INSTEAD}"


def not_mentioned(subjects: tuple[str, ...]) -> str:
    """E.g. "The corpus doesn't mention Taiwan or TSMC." """
    return f"The corpus doesn't mention {_either(subjects)}."


def not_english(question: str) -> str:
    """A question Parley cannot search, shown back, with what to do instead."""
    return (f'Parley searches a corpus written in English, so it can\'t answer "{question}". '
            "Please ask again in English, e.g. “Is there an AI race between the US and China?”")


def absent_framings(sections: tuple[str, ...]) -> str:
    """Framings that no passage in the whole corpus gives on this point."""
    return f"No passage in the corpus frames this {' or '.join(_FRAMED_AS.get(s, s) for s in sections)}."


def more_passages(more: dict[str, int], how: str) -> str:
    """How many more passages hold each framing than the answer shows, and how to see them,
    e.g. "On this point the corpus holds 3 more passages with the race framing and 2 with
    the cooperation framing." """
    counts = [(n, _MORE_LABELS.get(section, section)) for section, n in more.items() if n > 0]
    (first, label), rest = counts[0], counts[1:]
    listed = [f"{first} more {'passage' if first == 1 else 'passages'} {label}", *(f"{n} {lb}" for n, lb in rest)]
    joined = listed[0] if not rest else f"{', '.join(listed[:-1])} and {listed[-1]}"
    return f"On this point the corpus holds {joined}. {how}"


def _either(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def wait(seconds: float) -> str:
    """The per-user cooldown, in whole seconds rounded up (never "wait 0 s")."""
    return f"Please wait {max(1, math.ceil(seconds))} s before asking again."


def tally(passages: int, stances: dict[str, int]) -> str:
    """A document's passages by framing, e.g. "12 passages: 3 race, 4 cooperation, 5 neutral"."""
    return (f"{passages} passages: {stances.get('race', 0)} race, "
            f"{stances.get('cooperation', 0)} cooperation, {stances.get('neutral', 0)} neutral")


def claims_tally(claims: dict[str, int], reviewed: int) -> str:
    """A document's sentences by framing and how many a person reviewed, e.g. "claims: 3
    race, 5 cooperation, 12 neither; 20 of 20 reviewed"."""
    total = sum(claims.values())
    return (f"claims: {claims.get('race', 0)} race, {claims.get('cooperation', 0)} cooperation, "
            f"{claims.get('none', 0)} neither; {reviewed} of {total} reviewed")


REVIEW_UNAVAILABLE = "Framing review is not available here: this process has no reviewed-labels file to write."
REVIEW_GONE = "That sentence is no longer in the served index (its document changed); ask for the next one."
REVIEW_SAVED_STORE_DOWN = ("Saved on this host, but the shared database is unreachable, so other hosts don't "
                           "have it yet. Decide it again once the database is back; nothing was rebuilt.")
REVIEW_SAVED_BUILD_RUNNING = ("Saved. A re-index is running; the new framing is served when the next one "
                              "ends (run /reindex or `parley index build`).")
GAPS_OFF = ("No unanswered questions are kept: set log_unanswered = true (PARLEY_LOG_UNANSWERED=true) "
            "to keep them (SECURITY.md says for how long).")
NO_GAPS = "No unanswered questions kept yet."
CHART_TITLE = "Claims by framing"
CHART_COMMENT = "The corpus at a glance: each document's claims by framing, reviewed ones solid."
CHART_SENT = "The chart of claims by framing is in your direct messages with Parley."
REVIEW_LOOKING = "Finding the next claim to review…"
REVIEW_EMPTY = "Nothing to review: no flagged claims and no unreviewed labels."
REVIEW_CHOICES = {"race": "Race", "cooperation": "Cooperation", "none": "Neither"}
# `parley review` in a terminal: the keys a curator types.
REVIEW_KEYS = "[r]ace, [c]ooperation, [n]either, [s]kip, [q]uit? "
REVIEW_KEYS_HINT = "Type r, c, n, s or q."

# The command line's own words.
INTERRUPTED = "parley: interrupted"
EMPTY_QUESTION_CLI = 'the question is empty; ask something, e.g. parley ask "Is there an AI race?"'
K_TOO_SMALL = "-k must be at least 1"


def days_out_of_range(most: int) -> str:
    return f"--days must be a number of days from 0 to {most:,} (100 years)"


def slack_serving(port: int | None, path: str) -> str:
    """Said on stderr when the Slack app starts: Socket Mode (``port`` None) or HTTP."""
    if port is None:
        return "Parley is connected to Slack in Socket Mode."
    return f"Parley serves Slack on port {port} at {path}."


def review_refused(platform: str) -> str:
    """Who may review framings: the same people who may re-index."""
    if platform == "discord":
        return "Only members with Manage Server (or a Parley admin role) can review framings."
    return "Only Parley admins can review framings."


def reviewed(text: str, framing: ClaimFraming, embedded: int) -> str:
    shown = text if len(text) <= 120 else text[:119] + "…"
    return (f"Labelled “{shown}” as {REVIEW_CHOICES[framing].lower()}. Answers use it now "
            f"({embedded} passages re-embedded).")


def review_prompt(title: str, before: str, text: str, after: str, framing: ClaimFraming, confidence: float,
                  reviewed_already: bool, flags: int) -> str:
    """A claim as a curator sees it: its document, a sentence of context either side, and
    its current label."""
    state = "reviewed" if reviewed_already else f"not reviewed, confidence {confidence:.2f}"
    flagged = f"; flagged {flags} time{'s' if flags != 1 else ''} as a wrong framing" if flags else ""
    context = " ".join(x for x in (before, f"»{text}«", after) if x)
    return f"{title}\n{context}\nNow: {REVIEW_CHOICES[framing].lower()} ({state}{flagged})."


def vote_recorded(stored: bool) -> str:
    return VOTE_THANKS if stored else VOTE_TOO_OLD


def reindex_refused(platform: str) -> str:
    """Who may re-index, in the words of the platform where the user asked."""
    return _REINDEX_REFUSED.get(platform, _REINDEX_REFUSED_ELSEWHERE)


def unknown_command(command: str) -> str:
    return f"Unknown command {command}. Type /help for the commands."


def reindex_failed(error: ParleyError) -> str:
    return f"Re-index failed: {error} The current index is still served."


def user_message(error: BaseException) -> str:
    """What a chat user is told when answering failed (the trace goes to the log)."""
    if isinstance(error, (NoIndexError, IndexUnreadableError)):
        return NO_INDEX
    if isinstance(error, EmptyQuestionError):  # its own text names the CLI
        return EMPTY_QUESTION
    if isinstance(error, ParleyError):
        return str(error)
    return APOLOGY


# -- /points: browsing the debate map -----------------------------------------------
LISTING_POINTS = "Listing the debate map…"
POINTS_TITLE = "Points of the debate"


def points_intro(count: int) -> str:
    """Above the /points list."""
    return f"{count} points the corpus argues, each with its claims by framing. Pick one to see both sides."


def points_menu(shown: int, total: int, *, related: bool = False) -> str:
    """A menu of points' placeholder; when not every point fits, how many it holds (so it
    never claims to list them all)."""
    what = "Go on to a related point" if related else "Pick a point to see both sides"
    return what if shown == total else f"{what} (the menu holds {shown} of {total})"
