"""Paths and small helpers shared by the tests."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
CORPUS_DIR = PROJECT_DIR / "corpus"
PARLEY = Path(sys.executable).with_name("parley")


def run_parley(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed ``parley`` console script as a user would."""
    return subprocess.run(
        [str(PARLEY), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
        **kwargs,
    )


def normalise(text: str) -> str:
    """The matching normalisation of the evaluation (shared/eval/README.md)."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub("[\u2010\u2011\u2013\u2014]", "-", text)
    text = re.sub("[\u2018\u2019]", "'", text)
    text = re.sub("[\u201c\u201d]", '"', text)
    return re.sub(r"\s+", " ", text).strip().lower()
