"""Cold and warm `parley ask` for two checkouts of Parley, measured in one run.

    python benchmarks/compare_trees.py OLD_CHECKOUT NEW_CHECKOUT --questions tests/eval/dev.jsonl

For a change that must not slow answers down (a refactoring, a move), this times both
trees on this machine in turn: each tree builds its own index of the same corpus, then
``--rounds`` alternating rounds time a cold ``parley ask`` (a new process, to the printed
answer) and a warm pass over the questions (one process, every question asked once after a
first pass). Each checkout is imported through a package folder of links laid out as the
wheel installs it (``parley/bot``, ``parley/index``, ``parley/config``), put first on
``PYTHONPATH``; the environment's installed dependencies serve both.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLD_QUESTION = "Should the US and China cooperate on AI safety instead of racing?"
WARM = """
import json, sys, time
from parley.bot.settings import load_settings
from parley.bot.wiring import build_engine
questions = json.loads(sys.argv[1])
engine = build_engine(load_settings(index_dir=sys.argv[2]))
for q in questions:
    engine.ask(q)
times = []
for q in questions:
    start = time.perf_counter()
    engine.ask(q)
    times.append(time.perf_counter() - start)
print(json.dumps(times))
"""


def package_folder(checkout: Path, into: Path) -> Path:
    """A folder holding ``parley/`` as the wheel lays it out, linking into ``checkout``."""
    package = into / "parley"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name in ("bot", "index", "config"):
        (package / name).symlink_to(checkout.resolve() / name)
    return into


def run(pythonpath: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pythonpath), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, check=True)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs=2, type=Path, metavar="CHECKOUT")
    parser.add_argument("--corpus", type=Path, default=Path("corpus"))
    parser.add_argument("--questions", type=Path, action="append", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    questions = [json.loads(line)["q"] for file in args.questions for line in file.read_text().splitlines()
                 if line.strip()]
    work = Path(tempfile.mkdtemp(prefix="parley-compare-"))
    trees = []
    for n, checkout in enumerate(args.trees):
        path = package_folder(checkout, work / f"tree{n}")
        index = work / f"index{n}"
        run(path, "-m", "parley.bot.cli", "index", "build", "--corpus", str(args.corpus), "--index", str(index))
        trees.append((str(checkout), path, index))
    cold: dict[str, list[float]] = {name: [] for name, _, _ in trees}
    warm: dict[str, list[float]] = {name: [] for name, _, _ in trees}
    for _ in range(args.rounds):
        for name, path, index in trees:  # alternating, so drift on the host hits both
            start = time.perf_counter()
            run(path, "-m", "parley.bot.cli", "ask", COLD_QUESTION, "--index", str(index))
            cold[name].append(time.perf_counter() - start)
            warm[name] += json.loads(run(path, "-c", WARM, json.dumps(questions), str(index)).stdout)
    print("| tree | cold ask median (s) | warm ask p50 (ms) | warm ask p95 (ms) |")
    print("| --- | --- | --- | --- |")
    for name, _, _ in trees:
        print(f"| {name} | {statistics.median(cold[name]):.3f} | {1000 * statistics.median(warm[name]):.2f} "
              f"| {1000 * percentile(warm[name], 0.95):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
