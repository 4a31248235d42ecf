"""Shared fixtures: sample projects copied to a temporary folder, and built."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

PROJECTS = Path(__file__).parent / "projects"
REPO = Path(__file__).parent.parent


@pytest.fixture
def sample_project(tmp_path: Path) -> Path:
    """A copy of tests/projects/sample (it uses every card type), free to edit and build."""
    target = tmp_path / "sample"
    shutil.copytree(PROJECTS / "sample", target, ignore=shutil.ignore_patterns("deckgen.lock", "dist"))
    return target
