"""Fixtures shared by the test modules.

The shared data directory (corpora, KenLM golden outputs) lives outside the
repository. It is found through one setting, the environment variable
``NEXTWORD_SHARED`` (default: ``<repo root>/../shared``). Tests that need it skip
when it is absent, unless ``NEXTWORD_REQUIRE_SHARED=1`` (set in CI), where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The shared data directory named by ``NEXTWORD_SHARED`` (or the default)."""
    return Path(os.environ.get("NEXTWORD_SHARED", str(REPO_ROOT.parent / "shared")))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared data directory; skips (or, in CI, fails) when it is absent."""
    return require_shared()


def require_shared() -> Path:
    """What the ``shared`` fixture does, callable directly (the fixture is
    session-scoped, so tests of its behaviour call this instead)."""
    path = shared_dir()
    if not path.is_dir():
        message = f"shared data not found at {path}; set NEXTWORD_SHARED"
        if os.environ.get("NEXTWORD_REQUIRE_SHARED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
