"""Columnar files of an index version, read without loading them whole.

At a million passages the texts and sentence vectors of an index are gigabytes. A serving
process keeps only the small columns in memory (passage offsets and stances, each
sentence's passage, span and claim) and reads the rest on demand:

- ``RowFile``: rows of a ``.npy`` file, read with ``pread`` (native.py). Not ``mmap``: a memory map's
  page faults map in the pages around each row (fault-around, read-ahead), so a few
  hundred random rows per question made the whole file resident within minutes of
  serving; ``pread`` goes through the page cache without mapping anything.
- ``DocumentTable``: documents' metadata in memory, their texts in one UTF-8 file read a
  document at a time (recently read ones cached).
- ``PassageTable``: one fixed-size record per passage; its text is a slice of its
  document's text, so it is never stored twice.

Files are opened once, when the version is loaded: a version deleted by a later build stays
readable for a process still serving it.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import fields
from pathlib import Path

import numpy as np

from parley.index.model import STANCES, DocumentHeader, IndexedDocument, Passage
from parley.index.store.native import HALF_TO_SINGLE, half_dots, read_rows

_DOCUMENT_CACHE = 256  # decoded documents kept per version
_PASSAGE_CACHE = 4096
# Rows this close are read in one call: a few kilobytes more cost less than another read.
_GAP_ROWS = 16


class RowFile:
    """The rows of a ``.npy`` file (C order), read on demand; ``np.asarray`` reads all."""

    def __init__(self, path: Path):
        self._file = path.open("rb", buffering=0)
        version = np.lib.format.read_magic(self._file)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(self._file)
        if fortran:
            raise ValueError(f"{path.name} is in Fortran order")
        self.shape: tuple[int, ...] = shape
        self.dtype = dtype
        self._offset = self._file.tell()
        self._row_bytes = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        expected = self._offset + self._row_bytes * shape[0]
        if os.fstat(self._file.fileno()).st_size != expected:
            raise ValueError(f"{path.name} holds {os.fstat(self._file.fileno()).st_size} bytes, expected {expected}")

    def __len__(self) -> int:
        return self.shape[0]

    def _read(self, first: int, count: int) -> np.ndarray:
        data = os.pread(self._file.fileno(), count * self._row_bytes, self._offset + first * self._row_bytes)
        return np.frombuffer(data, dtype=self.dtype).reshape((count, *self.shape[1:]))

    def __getitem__(self, key) -> np.ndarray:
        """Rows by an index array (one read per run of nearby rows, ``_GAP_ROWS``) or a slice."""
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            if step != 1:
                return self[np.arange(start, stop, step)]
            return self._read(start, max(0, stop - start)).copy()
        rows = np.array(key, dtype=np.int64).reshape(-1)  # a copy: the compiled read takes one kind of array
        if not len(rows):
            return np.zeros((0, *self.shape[1:]), dtype=self.dtype)
        if rows.min() < 0 or rows.max() >= len(self):
            raise IndexError(f"row out of range 0..{len(self) - 1}")
        out = np.empty((len(rows), *self.shape[1:]), dtype=self.dtype)
        if not read_rows(self._file.fileno(), self._offset, self._row_bytes, rows,
                         out.reshape(len(rows), -1).view(np.uint8), _GAP_ROWS):
            raise OSError(f"short read in {Path(self._file.name).name}")
        return out if np.ndim(key) else out[0]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self._read(0, len(self))
        return whole.astype(dtype) if dtype is not None else whole.copy()


_HEADER_FIELDS = tuple(f.name for f in fields(DocumentHeader))


class DocumentTable(Mapping[str, IndexedDocument]):
    """Documents by id, in corpus order; each document's text is read when it is asked for."""

    def __init__(self, headers: list[DocumentHeader], text_file: Path, byte_offsets: list[int]):
        self._headers = headers
        self._position = {header.doc_id: i for i, header in enumerate(headers)}
        self._text = text_file.open("rb", buffering=0)
        self._offsets = byte_offsets
        self.document_at = functools.lru_cache(maxsize=_DOCUMENT_CACHE)(self._read_document)

    @classmethod
    def write(cls, directory: Path, documents: Sequence[IndexedDocument], metadata: str, texts: str) -> None:
        """``metadata`` (JSON: each document's header and the byte span of its text) and
        ``texts`` (the UTF-8 texts, one after another) into ``directory``."""
        offset, records = 0, []
        with (directory / texts).open("wb") as handle:
            for document in documents:
                data = document.text.encode("utf-8")
                handle.write(data)
                records.append({**{name: getattr(document, name) for name in _HEADER_FIELDS},
                                "text_bytes": [offset, offset + len(data)]})
                offset += len(data)
        (directory / metadata).write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def open(cls, directory: Path, metadata: str, texts: str) -> DocumentTable:
        records = json.loads((directory / metadata).read_text(encoding="utf-8"))
        headers = [DocumentHeader(**{name: record[name] for name in _HEADER_FIELDS}) for record in records]
        offsets = [record["text_bytes"][0] for record in records] + [records[-1]["text_bytes"][1] if records else 0]
        table = cls(headers, directory / texts, offsets)
        if os.fstat(table._text.fileno()).st_size != offsets[-1]:
            raise ValueError(f"{texts} does not hold the texts {metadata} lists")
        return table

    def _read_document(self, position: int) -> IndexedDocument:
        start, end = self._offsets[position], self._offsets[position + 1]
        text = os.pread(self._text.fileno(), end - start, start).decode("utf-8")
        header = self._headers[position]
        return IndexedDocument(**{name: getattr(header, name) for name in _HEADER_FIELDS}, text=text)

    def text_of(self, position: int) -> str:
        """The text of the document at ``position`` in corpus order."""
        return self.document_at(position).text

    def headers(self) -> list[DocumentHeader]:
        """Every document's metadata, in corpus order, without reading any text."""
        return list(self._headers)

    def __getitem__(self, doc_id: str) -> IndexedDocument:
        return self.document_at(self._position[doc_id])

    def __iter__(self) -> Iterator[str]:
        return (header.doc_id for header in self._headers)

    def __len__(self) -> int:
        return len(self._headers)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._position


PASSAGE_RECORD = np.dtype([("doc", "<i4"), ("start", "<i4"), ("end", "<i4"), ("stance", "i1"),
                           ("confidence", "<f4"), ("id", "S16")])  # stance: its index in chunk.STANCES


class PassageTable(Sequence[Passage]):
    """Passages by row: a fixed-size record each; the text is cut from the document's."""

    def __init__(self, records: np.ndarray, documents: DocumentTable):
        self.records = records
        self._documents = documents
        self._ids = [header.doc_id for header in documents.headers()]
        # A question looks up a few hundred passages, many of them again and again.
        self._passage = functools.lru_cache(maxsize=_PASSAGE_CACHE)(self._read_passage)

    @staticmethod
    def records_of(passages: Sequence[Passage], position: Mapping[str, int]) -> np.ndarray:
        """The record array of ``passages``; ``position`` maps doc id to its place in corpus order."""
        records = np.zeros(len(passages), dtype=PASSAGE_RECORD)
        records["doc"] = np.fromiter((position[p.doc_id] for p in passages), dtype=np.int32, count=len(passages))
        records["start"] = np.fromiter((p.start for p in passages), dtype=np.int32, count=len(passages))
        records["end"] = np.fromiter((p.end for p in passages), dtype=np.int32, count=len(passages))
        codes = {stance: code for code, stance in enumerate(STANCES)}
        records["stance"] = np.fromiter((codes[p.stance] for p in passages), dtype=np.int8, count=len(passages))
        records["confidence"] = np.fromiter((p.stance_confidence for p in passages), dtype=np.float32,
                                            count=len(passages))
        records["id"] = [p.passage_id.encode("ascii") for p in passages]
        return records

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, row):  # noqa: ANN001 — an int, or a slice as any Sequence takes
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(f"passage row {row} out of range")
        return self._passage(int(row))

    def _read_passage(self, row: int) -> Passage:
        record = self.records[row]
        position, start, end = int(record["doc"]), int(record["start"]), int(record["end"])
        return Passage(passage_id=record["id"].decode("ascii"), doc_id=self._ids[position],
                       text=self._documents.text_of(position)[start:end], start=start, end=end,
                       stance=STANCES[int(record["stance"])], stance_confidence=float(record["confidence"]))

    def __iter__(self) -> Iterator[Passage]:
        return (self[row] for row in range(len(self)))


def dots(vectors: np.ndarray | RowFile, rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``vectors[rows] @ query`` in float32. Compiled for a file of float16 rows
    (native.half_dots); an index small enough to hold them in memory keeps numpy, which
    needs no compiled code loaded at start."""
    if isinstance(vectors, RowFile) and vectors.dtype == np.float16 and len(vectors.shape) == 2:
        halves = vectors[rows].view(np.uint16)
        return half_dots(halves, np.array(query, dtype=np.float32), HALF_TO_SINGLE)
    return vectors[rows].astype(np.float32) @ query
