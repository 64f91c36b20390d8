"""The debate map as a version serves it: each point with its claims as sentence numbers,
and one vector per way of asking it (its title and each phrasing), so a question can be
compared with the questions a point answers."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from parley.index.model import FRAMINGS, Point

POINTS = "points.json"
POINT_VECTORS = "point-vectors.npy"


@dataclass(frozen=True)
class PointTable:
    points: tuple[Point, ...]
    vectors: np.ndarray  # one row per way of asking a point (float16 on disk, float32 served)
    owner: np.ndarray  # int, the point each row belongs to

    @classmethod
    def empty(cls, dimension: int) -> PointTable:
        return cls((), np.zeros((0, dimension), dtype=np.float32), np.zeros(0, dtype=np.int64))

    @staticmethod
    def askings(point: Point) -> list[str]:
        """The texts embedded for a point: its title, then each phrasing."""
        return [point.title, *point.phrasings]

    def by_id(self, point_id: str) -> Point | None:
        return next((p for p in self.points if p.point_id == point_id), None)

    def save(self, directory: Path) -> None:
        (directory / POINTS).write_text(json.dumps([asdict(p) for p in self.points], ensure_ascii=False, indent=1),
                                        encoding="utf-8")
        np.save(directory / POINT_VECTORS, self.vectors.astype(np.float16), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, dimension: int) -> PointTable:
        """The version's points; a version written before the map existed has none."""
        if not (directory / POINTS).exists():
            return cls.empty(dimension)
        points = tuple(Point(**{**entry, "phrasings": tuple(entry["phrasings"]),
                                "claims": {f: tuple(entry["claims"].get(f, ())) for f in FRAMINGS},
                                "facts": tuple(entry["facts"]), "neighbours": tuple(entry["neighbours"])})
                       for entry in json.loads((directory / POINTS).read_text(encoding="utf-8")))
        vectors = np.load(directory / POINT_VECTORS, allow_pickle=False).astype(np.float32)
        owner = np.repeat(np.arange(len(points)), [len(cls.askings(p)) for p in points])
        if len(owner) != len(vectors):
            raise ValueError(f"{POINT_VECTORS} does not hold a vector for every way of asking a point")
        return cls(points, vectors, owner)
