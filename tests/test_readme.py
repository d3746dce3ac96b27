"""The README's two set-up commands are the ones CI and newcomers run."""

import re

from .conftest import REPO_ROOT


def _commands() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text()
    block = readme.split("## Get started", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", block)


def test_readme_has_exactly_two_setup_commands():
    commands = _commands()
    assert len(commands) == 2, commands
    assert "python -m servicepulse demo" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci = (REPO_ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == _commands()[1]
