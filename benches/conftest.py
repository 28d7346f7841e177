"""Benchmarks read ../shared through the same setting as the tests (NEXTWORD_SHARED)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The shared data directory: $NEXTWORD_SHARED, default <repo>/../shared."""
    return Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not (path / "corpora").is_dir():
        pytest.skip(f"shared data not found at {path}; set NEXTWORD_SHARED")
    return path
