"""The /sources chart: a real PNG, sized for chat, that is not blank."""

import io

from PIL import Image

from parley.bot.answer import SourceSummary
from parley.bot.render.chart import MAX_DOCUMENTS, sources_chart


def summary(n: int, race: int, cooperation: int, none: int, reviewed: int) -> SourceSummary:
    claims = {"race": race, "cooperation": cooperation, "none": none}
    return SourceSummary(f"d{n}", f"Document {n} with a rather long title that gets cut", "P", None, None, 3,
                         {"race": 1, "cooperation": 1, "neutral": 1}, claims=claims,
                         reviewed_claims={"race": min(race, reviewed), "cooperation": 0, "none": 0})


def test_one_bar_per_document_reviewed_solid_the_rest_hatched():
    image = Image.open(io.BytesIO(sources_chart([summary(1, 10, 5, 3, 10), summary(2, 0, 8, 2, 0)]))).convert("RGB")
    assert (image.width, image.height) == (800, 210)
    colours = dict((rgb, count) for count, rgb in image.getcolors(maxcolors=1 << 16))
    assert sum(count for rgb, count in colours.items() if rgb != (255, 255, 255)) > 0.05 * 800 * 210  # not blank
    assert colours.get((217, 83, 79), 0) > 500  # solid race (reviewed) bars


def test_a_large_corpus_shows_its_largest_documents_and_says_how_many_are_left_out():
    sources = [summary(n, n, 1, 1, 0) for n in range(MAX_DOCUMENTS + 5)]
    image = Image.open(io.BytesIO(sources_chart(sources)))
    assert image.height < 2400
