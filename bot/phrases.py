"""Every sentence Parley says to people outside the corpus's own words: refusals, waits,
hints, apologies, thanks. One place to word them, and to test them."""

from __future__ import annotations

CORPUS_SCOPE = ("the debate over whether the US and China are in an AI race or should cooperate on AI safety")


def refusal(question: str, titles: tuple[str, ...]) -> str:
    """An honest 'not in the corpus' that says what the corpus does cover."""
    examples = "; ".join(f'"{t}"' for t in titles[:3])
    more = f" and {len(titles) - 3} more" if len(titles) > 3 else ""
    return (
        f"Sorry, I couldn't find anything in the corpus that answers \"{question}\".\n"
        f"The corpus covers {CORPUS_SCOPE}: {len(titles)} documents, including {examples}{more}.\n"
        "Try asking about that debate, or use /sources to see every document."
    )
