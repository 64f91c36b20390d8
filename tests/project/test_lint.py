"""ruff, with the small rule set stated in pyproject.toml, over every Python file."""

import subprocess
import sys
from pathlib import Path

from tests.helpers import PROJECT_DIR


def test_ruff_finds_nothing():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=PROJECT_DIR, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
