"""BM25's top rows, exhaustive and pruned (index/lexical.py, index/pruned.py): the pruned
search must return exactly what adding up every posting returns."""

import numpy as np
import pytest

from parley.index.store import lexical, pruned
from parley.index.store.lexical import LexicalIndex
from parley.index.store.pruned import has_ranges

WORDS = [f"word{i:03d}" for i in range(400)]


@pytest.fixture(scope="module")
def texts() -> list[str]:
    # Zipf-like word frequencies: a few words in nearly every passage, as "ai" and "china"
    # are in this corpus, which is what defeats simple pruning.
    rng = np.random.default_rng(3)
    weights = 1 / np.arange(1, len(WORDS) + 1)
    weights /= weights.sum()
    return [" ".join(rng.choice(WORDS, size=rng.integers(5, 60), p=weights)) for _ in range(30_000)]


def _queries(count: int) -> list[str]:
    rng = np.random.default_rng(4)
    return [" ".join(rng.choice(WORDS[:200], size=rng.integers(1, 10))) for _ in range(count)]


# 0: every term added up; 1: every term that fits under the floor looked up instead.
@pytest.mark.parametrize("lookup_share", [0.0, pruned.LOOKUP_SHARE, 1.0])
def test_pruned_top_rows_are_the_exhaustive_top_rows(texts, tmp_path, monkeypatch, lookup_share):
    monkeypatch.setattr(lexical, "PRUNED_ABOVE", 10_000)  # this index counts as large
    monkeypatch.setattr(pruned, "RANGE_ROWS", 1024)  # 30 ranges, so that some are skipped
    monkeypatch.setattr(pruned, "LOOKUP_SHARE", lookup_share)
    LexicalIndex.build(texts).save(tmp_path / "bm25")
    assert has_ranges(tmp_path / "bm25")
    index = LexicalIndex.load(tmp_path / "bm25", len(texts))
    assert index._pruned is not None
    for query in _queries(60):
        exhaustive = index.exhaustive_scores(query)
        for k in (10, 100):
            rows, scores = index.top(query, k)
            kth = np.sort(exhaustive)[-k]
            assert len(rows) == k and np.all(np.diff(scores) <= 1e-6)  # best first
            assert np.all(exhaustive[rows] >= kth - 1e-4)  # none below the exhaustive k-th
            np.testing.assert_allclose(scores, exhaustive[rows], rtol=1e-5)


def test_scores_of_given_rows_match_the_exhaustive_scores(texts, tmp_path):
    LexicalIndex.build(texts[:5000]).save(tmp_path / "bm25")
    index = LexicalIndex.load(tmp_path / "bm25", 5000)
    assert index._pruned is None and not has_ranges(tmp_path / "bm25")  # small: exhaustive
    rows = np.sort(np.random.default_rng(5).choice(5000, 300, replace=False))
    for query in _queries(20) + ["zzzz unknown", "word001 word001 word002"]:
        np.testing.assert_allclose(index.scores_of(query, rows), index.exhaustive_scores(query)[rows], rtol=1e-5,
                                   atol=1e-6)
        top, scores = index.top(query, 5)
        np.testing.assert_allclose(scores, index.exhaustive_scores(query)[top], rtol=1e-6)
