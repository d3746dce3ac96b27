"""The tree is clean by the ruff configuration in pyproject.toml (a rule broken fails the suite, not only CI)."""

import subprocess
import sys

from .conftest import REPO_ROOT


def test_ruff_finds_nothing():
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", "--no-cache", "."],
                          cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
