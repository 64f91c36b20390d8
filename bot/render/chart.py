"""The corpus at a glance, as a picture: one bar per document, split by framing (race,
cooperation, neither), the reviewed part of each solid and the rest hatched. A PNG that
``/sources`` attaches on Discord and sends on Slack.

matplotlib is imported here only, with its off-screen Agg backend: nothing else pays for it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from parley.bot.answer import SourceSummary

COLOURS = {"race": "#d9534f", "cooperation": "#2b7bb9", "none": "#b0b0b0"}
LABELS = {"race": "race", "cooperation": "cooperation", "none": "neither"}
FILENAME = "corpus-framings.png"
MAX_DOCUMENTS = 40  # beyond, the chart shows the largest documents and says how many are left out


def sources_chart(sources: Sequence[SourceSummary]) -> bytes:
    """A PNG of each document's claims by framing, reviewed ones solid, others hatched."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.patches import Patch

    shown = sorted(sources, key=lambda s: -sum(s.claims.values()))[:MAX_DOCUMENTS]
    shown.reverse()  # the largest at the top
    figure, axes = pyplot.subplots(figsize=(8, 1.2 + 0.45 * max(len(shown), 1)), dpi=100)
    try:
        names = [_short(s.title) for s in shown]
        left = [0.0] * len(shown)
        for framing in ("race", "cooperation", "none"):
            counts = [s.claims.get(framing, 0) for s in shown]
            reviewed = [s.reviewed_claims.get(framing, 0) for s in shown]
            axes.barh(names, reviewed, left=left, color=COLOURS[framing])
            axes.barh(names, [c - r for c, r in zip(counts, reviewed)], left=[a + r for a, r in zip(left, reviewed)],
                      color="white", edgecolor=COLOURS[framing], hatch="///")
            left = [a + c for a, c in zip(left, counts)]
        axes.set_xlabel("claims (sentences)")
        omitted = len(sources) - len(shown)
        axes.set_title("Claims by framing" + (f" ({omitted} smaller documents not shown)" if omitted else ""))
        handles = [Patch(color=COLOURS[f], label=LABELS[f]) for f in COLOURS]
        handles.append(Patch(facecolor="white", edgecolor="#555555", hatch="///", label="not reviewed"))
        axes.legend(handles=handles, loc="lower right", fontsize="small")
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        out = io.BytesIO()
        figure.savefig(out, format="png")
        return out.getvalue()
    finally:
        pyplot.close(figure)


def _short(title: str, limit: int = 40) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"
