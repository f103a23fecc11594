import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def cli(tmp_path):
    """Run `python -m grokgpt ...` in tmp_path; return the CompletedProcess (text mode)."""

    def run(*args, cwd=tmp_path):
        return subprocess.run(
            [sys.executable, "-m", "grokgpt", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300
        )

    return run


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """Make tmp_path the project root, so runs, figures and checkpoints land there."""
    monkeypatch.setenv("GROKGPT_ROOT", str(tmp_path))
    return tmp_path
