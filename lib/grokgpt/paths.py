"""The project root, under which data/, figures/ and checkpoints/ live.

$GROKGPT_ROOT if set; else the working directory, or its parent when that is the project's `notebooks/` folder
(JupyterLab starts a notebook's kernel there). Tests point it at a temporary directory, so they never write
into the committed figures or runs.
"""

from __future__ import annotations

import os
from pathlib import Path


def root() -> Path:
    if os.environ.get("GROKGPT_ROOT"):
        return Path(os.environ["GROKGPT_ROOT"])
    cwd = Path.cwd()
    if cwd.name == "notebooks" and (cwd.parent / "lib" / "grokgpt").is_dir():
        return cwd.parent
    return cwd
