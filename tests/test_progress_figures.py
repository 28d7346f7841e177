"""What ``nextword train`` draws on a terminal (issue 15): the estimation phase
reports its stages and the share of the work done, never "0.0 MB, 0.0 M
tokens"; saving reports n-grams (ARPA) or megabytes (binary) up to the total.

The command runs under a pseudo-terminal, as a user's shell would run it,
with ``NEXTWORD_PROGRESS_DELAY=0`` so that even a short job draws its bar.
The order of the stages and the work rising stage by stage are asserted in
Rust (``control/tests.rs``), where every stage change is recorded; here the
bar is read as a user reads it, every 50 ms and at the end.
"""

from __future__ import annotations

import os
import pty
import random
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

if sys.platform == "win32":  # pragma: no cover - no pseudo-terminals there
    pytest.skip("needs a POSIX pseudo-terminal", allow_module_level=True)

ORDER = 4
STAGES = 3 + 2 * ORDER  # indexing, adjusting, two per order, linking

ESTIMATE = re.compile(r"estimate \[[#.]{30}\] +(\d+)% stage (\d+)/(\d+): ([^,]+), \d+ s")
ARPA_SAVE = re.compile(r"saving \[[#.]{30}\] +(\d+)% (\d+)/(\d+) n-grams, ")
BINARY_SAVE = re.compile(r"saving \[[#.]{30}\] +(\d+)% (\d+)/(\d+) MB, ")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 300,000 words of random text: estimation takes a moment, not a minute."""
    rng = random.Random(15)
    words = [f"w{i}" for i in range(3000)]
    weights = [1 / (i + 1) for i in range(len(words))]  # Zipf-like, as text is
    path = tmp_path_factory.mktemp("progress") / "corpus.txt"
    lines = (" ".join(rng.choices(words, weights, k=rng.randint(5, 25))) for _ in range(20_000))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def on_a_terminal(*argv: str) -> tuple[int, list[str]]:
    """Run ``nextword ARGV`` with stderr on a pseudo-terminal; its exit code and
    the lines it drew (each redraw after a carriage return is a line)."""
    leader, follower = pty.openpty()
    env = dict(os.environ, NEXTWORD_PROGRESS_DELAY="0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nextword", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    drawn = bytearray()
    while True:  # read as it comes: a full terminal buffer would block the bar
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 1 << 16)
            except OSError:  # EIO: the child's side is closed
                chunk = b""
            if not chunk:
                break
            drawn += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    code = proc.wait(timeout=60)
    text = drawn.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return code, [line.strip() for line in re.split(r"[\r\n]", text) if line.strip()]


def figures(pattern: re.Pattern[str], lines: list[str]) -> list[tuple[str, ...]]:
    return [m.groups() for m in map(pattern.match, lines) if m]


def test_estimation_reports_its_stages_not_zero_bytes(corpus: Path, tmp_path: Path) -> None:
    code, lines = on_a_terminal(
        "train", str(corpus), "--order", str(ORDER), "--in-memory", "-o", str(tmp_path / "m.arpa")
    )
    assert code == 0, lines
    assert not [line for line in lines if "0.0 MB, 0.0 M tokens" in line], lines
    seen = figures(ESTIMATE, lines)
    assert seen, lines
    percents = [int(p) for p, _, _, _ in seen]
    stages = [int(k) for _, k, _, _ in seen]
    assert all(int(n) == STAGES for _, _, n, _ in seen), seen
    # Drawn every 50 ms and once at the end: the figures only ever rise, and
    # the last line is the last stage with all the work done.
    assert percents == sorted(percents) and stages == sorted(stages), seen
    assert (percents[-1], stages[-1], seen[-1][3]) == (100, STAGES, "linking the orders")

    saved = figures(ARPA_SAVE, lines)
    assert saved, lines
    done = [int(d) for _, d, _ in saved]
    total = int(saved[-1][2])
    assert done == sorted(done) and done[-1] == total > 0, saved
    written = (tmp_path / "m.arpa").read_text(encoding="utf-8")
    sizes = [int(n) for n in re.findall(r"^ngram \d+=(\d+)$", written, flags=re.M)]
    assert sum(sizes) == total


def test_a_binary_save_reports_megabytes_written(corpus: Path, tmp_path: Path) -> None:
    model = tmp_path / "m.nwlm"
    code, lines = on_a_terminal("train", str(corpus), "--order", "2", "-o", str(model))
    assert code == 0, lines
    saved = figures(BINARY_SAVE, lines)
    assert saved, lines
    done = [int(d) for _, d, _ in saved]
    total = -(-model.stat().st_size // 1_000_000)
    assert done == sorted(done) and done[-1] == int(saved[-1][2]) == total, saved
    last = [line for line in lines if line.startswith("saving")][-1]
    assert "MB/s, flushing to disk, " in last, last  # the stage after the last byte
