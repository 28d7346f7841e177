"""Fixtures shared by the test modules.

The shared data directory (corpora, KenLM golden outputs) lives outside the
repository. It is found through one setting, the environment variable
``NEXTWORD_SHARED`` (default: ``<repo root>/../shared``). Tests that need it skip
when it is absent, unless ``NEXTWORD_REQUIRE_SHARED=1`` (set in CI), where they fail.
The same holds for the outside oracles: the ``kenlm``, ``nltk`` and ``gensim``
modules, HF ``tokenizers`` and ``tiktoken`` (BPE interop), and Unicode's
word-break test cases (see :func:`require_module`).
"""

from __future__ import annotations

import importlib
import os
import signal
from pathlib import Path
from types import ModuleType

import pytest

# A runner that starts the suite in the background without job control
# (`cmd &` in a script) makes it ignore SIGINT, and every process it starts
# inherits that: the Ctrl-C tests would see their SIGINT ignored. A handled
# signal is reset to the default in a child, so handle it here.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

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
        skip_unless_ci(f"shared data not found at {path}; set NEXTWORD_SHARED")
    return path


def skip_unless_ci(message: str) -> None:
    """Skip the test, or fail it where ``NEXTWORD_REQUIRE_SHARED=1`` (CI): there a
    missing oracle or data set must not turn a check into a silent skip."""
    if os.environ.get("NEXTWORD_REQUIRE_SHARED") == "1":
        pytest.fail(message)
    pytest.skip(message, allow_module_level=True)


def require_module(name: str, install: str) -> ModuleType:
    """Import ``name`` (an outside oracle such as ``kenlm`` or ``nltk``); skip
    when it is not installed, or fail in CI."""
    try:
        return importlib.import_module(name)
    except ImportError:
        skip_unless_ci(f"the {name} module is not installed ({install})")
        raise  # not reached: skip and fail raise
