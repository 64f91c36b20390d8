"""The debate map on disk: ``corpus/debate-map.json``, the points the corpus argues.

Written by curators from the documents (docs/debate-map-guide.md). Each point names its
claims by the key of their sentence (``model.claim_key``: document and exact text), so a
point keeps its claims when passages are re-cut, and loses only a sentence whose words
changed. A corpus without the file has no map: answers then fall back to the claim search.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from parley.index.errors import CorpusError
from parley.index.model import FRAMINGS, Framing

DEBATE_MAP_FILE = "debate-map.json"
_POINT_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
# A map is a few dozen points; a file far larger is a mistake.
MAX_MAP_BYTES = 2 * 1024 * 1024
RESERVED_ID = "propose"


@dataclass(frozen=True)
class MapPoint:
    """One point as a curator wrote it: claims and facts by sentence key, strongest first."""

    point_id: str
    title: str
    scope: str
    phrasings: tuple[str, ...]
    claims: dict[Framing, tuple[str, ...]]
    facts: tuple[str, ...]
    neighbours: tuple[str, ...]


def map_fingerprint(path: Path) -> str:
    """What a build compares to know the map changed: the file's hash, or ``none``."""
    if not path.is_file():
        return "none"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def read_debate_map(path: Path) -> list[MapPoint]:
    """The points of the map at ``path`` (none when there is no file); a malformed map is
    one ``CorpusError`` that names the file and what is wrong, so the build stops before
    serving an answer from half a map."""
    if not path.exists():
        return []
    try:
        if not path.is_file() or path.stat().st_size > MAX_MAP_BYTES:
            raise ValueError("it is not a regular file of at most 2 MB")
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
        points = [_point(entry) for entry in data["points"]]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        detail = f"missing field {error}" if isinstance(error, KeyError) else str(error)
        raise CorpusError(f"The debate map {path} cannot be read ({detail}). Fix it (docs/debate-map-guide.md) "
                          "or move it away; the served index is unchanged.") from None
    ids = [p.point_id for p in points]
    if len(set(ids)) != len(ids):
        raise CorpusError(f"The debate map {path} names a point twice. The served index is unchanged.")
    return points


def _point(entry: dict) -> MapPoint:
    point_id = entry["id"]
    if not isinstance(point_id, str) or not _POINT_ID.fullmatch(point_id):
        raise ValueError(f"point id {point_id!r} is not lower-case words joined by hyphens")
    if point_id == RESERVED_ID:
        raise ValueError(f"point id {point_id!r} is a command (`parley points propose`)")
    claims = entry.get("claims", {})
    return MapPoint(
        point_id=point_id,
        title=_text(entry["title"], "title"),
        scope=_text(entry.get("scope", ""), "scope"),
        phrasings=tuple(_text(p, "phrasing") for p in entry.get("phrasings", [])),
        claims={framing: tuple(_text(k, "claim key") for k in claims.get(framing, [])) for framing in FRAMINGS},
        facts=tuple(_text(k, "fact key") for k in entry.get("facts", [])),
        neighbours=tuple(_text(n, "neighbour") for n in entry.get("neighbours", [])),
    )


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a {what} is not text")
    return value.strip()
