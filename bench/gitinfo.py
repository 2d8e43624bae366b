"""What a benchmark measured: the checkout it ran from, for the report's header."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git(*argv: str) -> str:
    out = subprocess.run(["git", "-C", str(ROOT), *argv], capture_output=True, text=True, timeout=30, check=True)
    return out.stdout


def working_tree_label() -> str:
    try:
        label = f"working tree at {git('rev-parse', '--short', 'HEAD').strip()}"
        # Changes outside bench/ change what is measured.
        if git("status", "--porcelain", "--", ".", ":(exclude)bench").strip():
            label += " with uncommitted changes outside bench/"
        return label
    except (OSError, subprocess.SubprocessError):
        return "working tree (not a git checkout)"
