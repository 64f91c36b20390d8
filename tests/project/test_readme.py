"""README is the contract with a new user: its commands must be the ones that are run."""

import re

from tests.helpers import PROJECT_DIR

README = (PROJECT_DIR / "README.md").read_text()


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_is_exactly_two_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in command for command in commands)


def test_ci_runs_the_readme_test_command():
    ci_lines = (PROJECT_DIR / ".ci" / "run").read_text().splitlines()
    assert quick_start_commands()[1] in ci_lines


def test_every_setting_is_documented():
    config = (PROJECT_DIR / "config" / "parley.toml").read_text()
    names = re.findall(r"^(\w+) = ", config, flags=re.MULTILINE)
    assert names
    for name in names:
        assert f"`{name}`" in README and f"`PARLEY_{name.upper()}`" in README
