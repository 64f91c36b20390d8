"""Agreement between two debate maps, on hand-built maps whose answer is known."""

from parley.bot.measure.agreement import agreement


def debate_map(*points: tuple[str, list[str], list[str]]) -> dict:
    return {"points": [{"id": pid, "claims": {"race": race, "cooperation": cooperation}}
                       for pid, race, cooperation in points], "unplaced": []}


def test_a_map_agrees_with_itself_whatever_its_points_are_called():
    first = debate_map(("a", ["r1", "r2"], ["c1"]), ("b", ["r3"], ["c2", "c3"]))
    renamed = debate_map(("x", ["r3"], ["c2", "c3"]), ("y", ["r1", "r2"], ["c1"]))
    result = agreement(first, renamed)
    assert (result.pair_f1, result.adjusted_rand, result.counterparts, result.claims) == (1.0, 1.0, (2, 2), 6)


def test_a_map_that_splits_a_point_agrees_in_part():
    first = debate_map(("a", ["r1", "r2"], ["c1", "c2"]))
    split = debate_map(("x", ["r1", "r2"], []), ("y", [], ["c1", "c2"]))
    result = agreement(first, split)
    # Two of first's six pairs are together in split; both of split's pairs are in first.
    assert (result.pair_precision, result.pair_recall) == (1.0, 0.333)
    # Each half overlaps the whole by a Jaccard index of one half: a counterpart, just.
    assert result.counterparts == (1, 2) and result.points == (1, 2)
