"""A first draft of a debate map for a corpus that has none (``parley points propose``).

The framed claims are grouped by their centred sentence vectors (k-means), and each group
is titled by its most central claim: a starting point for curators, who rename each point
as a question, write its phrasings and move what the clustering got wrong
(docs/debate-map-guide.md). Nothing here is served until a curator saves the map.
"""

from __future__ import annotations

import numpy as np

from parley.index.model import CLAIM_FRAMINGS, claim_key
from parley.index.store.version import LoadedIndex


def propose_points(index: LoadedIndex, *, clusters: int = 12) -> dict:
    """A draft map in the format of ``corpus/debate-map.json``, its points without phrasings."""
    from sklearn.cluster import KMeans

    table = index.sentences
    framed = np.flatnonzero(table.framing != 0)
    if not len(framed):
        return {"points": [], "unplaced": []}
    vectors = np.asarray(table.vectors)[framed].astype(np.float32) - table.centre()
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    groups = KMeans(n_clusters=min(clusters, len(framed)), random_state=0, n_init=10).fit(vectors)
    texts, keys = [], []
    for i in framed.tolist():
        passage = index.passages[int(table.rows[i])]
        start, end = (int(x) for x in table.spans[i])
        text = index.documents[passage.doc_id].text[start:end]
        texts.append(text)
        keys.append(claim_key(passage.doc_id, text))
    points = []
    for group in range(groups.n_clusters):
        members = np.flatnonzero(groups.labels_ == group)
        closeness = vectors[members] @ groups.cluster_centers_[group]
        ordered = members[np.argsort(-closeness, kind="stable")]
        central = texts[ordered[0]]
        points.append({
            "id": f"point-{group + 1}",
            "title": central if len(central) <= 120 else central[:119] + "…",
            "scope": "",
            "phrasings": [],
            "claims": {framing: [keys[m] for m in ordered if CLAIM_FRAMINGS[int(table.framing[framed[m]])] == framing]
                       for framing in ("race", "cooperation")},
            "facts": [],
            "neighbours": [],
        })
    return {"points": points, "unplaced": []}
