"""The package as a user installs it: a wheel built from this checkout, installed
(not editable) into a fresh virtual environment, indexes a corpus and answers from a
folder that is not the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

from tests.helpers import CORPUS_DIR, PROJECT_DIR


def run(*command, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PARLEY_CONFIG", None)
    result = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, env=env,
                            timeout=600, **kwargs)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    return result


def test_every_package_folder_is_in_the_distribution():
    declared = set(tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(("parley", *p.parent.relative_to(PROJECT_DIR).parts))
               for top in ("bot", "index", "config") for p in (PROJECT_DIR / top).rglob("__init__.py")}
    assert declared == on_disk


def test_a_wheel_in_a_fresh_venv_builds_the_index_and_answers(tmp_path):
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp_path / "dist", PROJECT_DIR,
        cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("parley-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    # The heavy dependencies (torch, FAISS...) come from this environment's site-packages,
    # after the fresh one's: Parley itself is only the wheel's copy.
    fresh_site = Path(run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                          cwd=tmp_path).stdout.strip())
    (fresh_site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(venv / "bin" / "python", "-c", "import parley.bot.cli as c; print(c.__file__)", cwd=elsewhere)
    assert where.stdout.startswith(str(fresh_site))

    parley = venv / "bin" / "parley"
    built = json.loads(run(parley, "index", "build", "--corpus", CORPUS_DIR, "--json", cwd=elsewhere).stdout)
    assert built["documents"] == 5 and Path(built["index"]).is_relative_to(elsewhere / "data" / "index")
    answer = json.loads(run(parley, "ask", "--json", "Is there an AI race between the US and China?",
                            cwd=elsewhere).stdout)
    assert answer["answered"] and answer["citations"]
    version = elsewhere / "data" / "index" / "current"
    texts = (version / "document-text.bin").read_bytes()
    documents = {d["doc_id"]: texts[d["text_bytes"][0]:d["text_bytes"][1]].decode()
                 for d in json.loads((version / "documents.json").read_text())}
    for citation in answer["citations"]:  # every part verbatim, at its offsets; the quote shows them joined
        text = documents[citation["doc_id"]]
        assert all(text[part["start"]:part["end"]] == part["text"] for part in citation["parts"])
        assert citation["quote"] == " … ".join(part["text"] for part in citation["parts"])
