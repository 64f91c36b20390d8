"""What people read when Parley is not quoting the corpus."""

from parley.bot import phrases
from parley.index.errors import NoIndexError, ParleyError


def test_a_wait_is_whole_seconds_rounded_up_and_never_zero():
    assert phrases.wait(0.2) == "Please wait 1 s before asking again."
    assert phrases.wait(9.1) == "Please wait 10 s before asking again."


def test_every_refusal_says_the_same_thing_in_the_same_words():
    plain = phrases.refusal("How do I bake bread?", ("A", "B", "C", "D", "E"))
    brief = phrases.brief_refusal()
    for shared in ("Sorry, I couldn't find anything in the corpus that answers", phrases.CORPUS_SCOPE,
                   "use /sources to see every document"):
        assert shared in plain and shared in brief
    assert '"How do I bake bread?"' in plain and '"A"; "B"; "C" and 2 more' in plain


def test_a_failure_is_told_without_its_internals():
    assert phrases.user_message(NoIndexError("No index at /srv/secret/index.")) == phrases.NO_INDEX
    assert phrases.user_message(ParleyError("The question is empty.")) == "The question is empty."
    assert phrases.user_message(RuntimeError("token xoxb-123 rejected")) == phrases.APOLOGY


def test_a_source_tally_counts_every_framing():
    assert phrases.tally(12, {"race": 3, "cooperation": 4, "neutral": 5}) == \
        "12 passages: 3 race, 4 cooperation, 5 neutral"
