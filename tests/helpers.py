"""Paths and small helpers shared by the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
CORPUS_DIR = PROJECT_DIR / "corpus"
CLAIM_LABELS = CORPUS_DIR / "claim-labels.jsonl"
EVAL_DIR = PROJECT_DIR / "tests" / "eval"
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
