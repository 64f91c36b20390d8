"""How the search's signals become one order: scaling, fusion, term overlap, diversity.

Pure functions on arrays, so the weights and the formulas live in one place and can be
tested without an index.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# How much a sentence's term overlap with the question (the share of the question's
# stemmed, stop-worded terms it holds) adds to its cosine: names and figures mean little
# to the embedding model. The one weight for sentences, claims and quotes alike.
OVERLAP_WEIGHT = 0.15


def min_max(values: np.ndarray) -> np.ndarray:
    """``values`` scaled to [0, 1] over this query's candidates (all ones or zeros when
    they are all equal, by whether they are positive)."""
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-9:
        return np.ones_like(values) if high > 0 else np.zeros_like(values)
    return (values - low) / (high - low)


def fuse(signals: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """A convex combination of the signals, each min-max scaled first. Unlike reciprocal-rank
    fusion it keeps how *much* better one candidate is than the next."""
    (weight, values), *rest = signals
    fused = weight * min_max(values)
    for weight, values in rest:
        fused = fused + weight * min_max(values)
    return fused


def sentence_relevance(cosine: float, overlap: float) -> float:
    """A sentence's relevance to the question: its cosine plus its weighted term overlap."""
    return cosine + OVERLAP_WEIGHT * overlap


def claim_relevance(claim_cosine: float, passage_cosine: float, overlap: float) -> float:
    """A claim's relevance: the mean of its centred cosine and its passage's, plus the
    weighted term overlap (rounded, so that ties order the same on every host)."""
    return round(0.5 * claim_cosine + 0.5 * passage_cosine + OVERLAP_WEIGHT * overlap, 4)


# How a question's match with a point is made: the best cosine with the ways the point is
# asked, the mean relevance of its two claims closest to the question, and the share of
# the question's terms its title and phrasings hold. Set on a training split of questions
# labelled with their point (docs/evaluation.md, "Debate map").
POINT_WEIGHTS = (1.0, 0.5, 0.6)


def point_score(asked: float, claim_relevances: list[float], overlap: float) -> float:
    """A question's match with a point; ``claim_relevances`` best first."""
    top = claim_relevances[:2]
    claims = sum(top) / len(top) if top else 0.0
    asked_weight, claim_weight, overlap_weight = POINT_WEIGHTS
    return round(asked_weight * asked + claim_weight * claims + overlap_weight * overlap, 4)


# How much a claim's place in the curators' strongest-first order counts, beside its
# relevance to the question, when a point's claims are ranked (set on the training split).
POINT_RANK_WEIGHT = 0.2


def point_claim_rank(relevance: float, place: int, claims: int) -> float:
    """What orders a point's claims for a question: relevance, plus a share of
    ``POINT_RANK_WEIGHT`` that falls from the point's strongest claim (place 0) to its last."""
    return relevance + POINT_RANK_WEIGHT * (1 - place / max(claims, 1))


def diversify(fused: np.ndarray, k: int, lam: float, similarity_of: Callable[[list[int]], np.ndarray]) -> list[int]:
    """Maximal marginal relevance: the ``k`` candidates (indices into ``fused``) chosen one
    by one for relevance less ``1 - lam`` times their similarity to those already chosen.
    ``similarity_of(shortlist)`` gives the shortlist's pairwise similarity matrix."""
    ranked = list(np.argsort(-fused))
    if lam >= 1.0:
        return ranked[:k]
    shortlist = ranked[: max(3 * k, 20)]
    similarity = similarity_of(shortlist)
    chosen: list[int] = []
    remaining = list(range(len(shortlist)))
    while remaining and len(chosen) < k:
        def value(j: int) -> float:
            redundancy = max((similarity[j, c] for c in chosen), default=0.0)
            return lam * fused[shortlist[j]] - (1 - lam) * redundancy

        best = max(remaining, key=value)
        chosen.append(best)
        remaining.remove(best)
    return [shortlist[j] for j in chosen]
