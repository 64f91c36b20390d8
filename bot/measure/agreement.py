"""How far two independently written debate maps agree (docs/debate-map-guide.md).

    python -m parley.bot.measure.agreement corpus/labelling/debate-map-A.json corpus/labelling/debate-map-B.json

Two maps may name their points differently, so agreement is measured on what they do with
the claims: whether each pair of framed claims shares a point in both maps (pairwise
precision, recall and F1, symmetric), how alike the partitions by primary point are
(adjusted Rand index; a claim's primary point is the first point, in file order, that lists
it), and how many points of each map have a counterpart in the other (a point whose claims
overlap by a Jaccard index of at least one half).
"""

from __future__ import annotations

import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

COUNTERPART_JACCARD = 0.5


@dataclass(frozen=True)
class MapAgreement:
    claims: int  # framed claims placed in a point by both maps
    pair_precision: float
    pair_recall: float
    pair_f1: float
    adjusted_rand: float
    points: tuple[int, int]
    counterparts: tuple[int, int]  # points of each map with a counterpart in the other


def point_claims(debate_map: dict) -> dict[str, set[str]]:
    """Each point's framed claims (both framings), by point id."""
    return {p["id"]: set(p["claims"].get("race", [])) | set(p["claims"].get("cooperation", []))
            for p in debate_map["points"]}


def primary_points(debate_map: dict) -> dict[str, str]:
    """Each placed claim's primary point: the first point, in file order, that lists it."""
    primary: dict[str, str] = {}
    for point, claims in point_claims(debate_map).items():
        for claim in claims:
            primary.setdefault(claim, point)
    return primary


def agreement(first: dict, second: dict) -> MapAgreement:
    from sklearn.metrics import adjusted_rand_score

    points_a, points_b = point_claims(first), point_claims(second)
    primary_a, primary_b = primary_points(first), primary_points(second)
    claims = sorted(primary_a.keys() & primary_b.keys())
    together_a = {pair for members in points_a.values() for pair in itertools.combinations(sorted(members), 2)}
    together_b = {pair for members in points_b.values() for pair in itertools.combinations(sorted(members), 2)}
    shared = set(claims)
    together_a = {pair for pair in together_a if pair[0] in shared and pair[1] in shared}
    together_b = {pair for pair in together_b if pair[0] in shared and pair[1] in shared}
    both = len(together_a & together_b)
    precision = both / len(together_b) if together_b else 0.0
    recall = both / len(together_a) if together_a else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0

    def has_counterpart(members: set[str], others: dict[str, set[str]]) -> bool:
        return any(len(members & o) / len(members | o) >= COUNTERPART_JACCARD for o in others.values() if members | o)

    return MapAgreement(
        claims=len(claims), pair_precision=round(precision, 3), pair_recall=round(recall, 3), pair_f1=round(f1, 3),
        adjusted_rand=round(float(adjusted_rand_score([primary_a[c] for c in claims], [primary_b[c] for c in claims])), 3),
        points=(len(points_a), len(points_b)),
        counterparts=(sum(has_counterpart(m, points_b) for m in points_a.values()),
                      sum(has_counterpart(m, points_a) for m in points_b.values())),
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    first, second = (json.loads(Path(path).read_text(encoding="utf-8")) for path in argv)
    print(json.dumps(agreement(first, second).__dict__))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
