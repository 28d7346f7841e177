"""A one-line progress bar on stderr for training (off unless stderr is a TTY).

>>> bar = ProgressBar(100, enabled=False)
>>> bar.update(1, loss=2.5, tokens_per_second=1000.0)
>>> bar.close()
"""

from __future__ import annotations

import sys
import time
from typing import Optional


def progress_enabled(progress: Optional[bool]) -> bool:
    """Whether to draw: never when ``progress`` is False or stderr is not a terminal."""
    return progress is not False and sys.stderr.isatty()


class ProgressBar:
    """``step/total [=====     ] loss 2.345  val 2.500  12.3k tok/s``, redrawn at most 10x/s."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled = total, enabled
        self.last_draw = 0.0
        self.valid: Optional[float] = None

    def update(self, step: int, loss: float, tokens_per_second: float) -> None:
        """Redraw after ``step`` (throttled, except for the last step)."""
        now = time.monotonic()
        if not self.enabled or (now - self.last_draw < 0.1 and step < self.total):
            return
        self.last_draw = now
        width = 20
        filled = width * step // max(1, self.total)
        valid = f"  val {self.valid:.3f}" if self.valid is not None else ""
        line = (
            f"\r{step}/{self.total} [{'=' * filled}{' ' * (width - filled)}] "
            f"loss {loss:.3f}{valid}  {tokens_per_second / 1000:.1f}k tok/s"
        )
        sys.stderr.write(line)
        sys.stderr.flush()

    def close(self) -> None:
        """End the line."""
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


__all__ = ["ProgressBar", "progress_enabled"]
