"""No Docker engine runs here, so the image is checked statically: hadolint, and the facts
the image promises (CPU torch, non-root user, index baked in) read from the Dockerfile."""

import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers import PROJECT_DIR

DOCKERFILE = PROJECT_DIR / "Dockerfile"


def hadolint() -> str:
    found = Path(sys.executable).with_name("hadolint")
    return str(found) if found.exists() else shutil.which("hadolint") or "hadolint"


def test_dockerfile_passes_hadolint():
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_uses_cpu_torch_runs_as_non_root_and_bakes_the_index():
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    assert any("whl/cpu" in line and "torch==" in line for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    last_user = max(i for i, line in enumerate(lines) if line.startswith("USER "))
    assert any("parley index build" in line for line in lines[last_user:])
    assert lines[-2].startswith('ENTRYPOINT ["parley"]')


def test_every_source_folder_is_copied_into_the_image():
    text = DOCKERFILE.read_text()
    for folder in ("bot/", "index/", "config/", "corpus/"):
        assert f"COPY {folder} {folder}" in text
