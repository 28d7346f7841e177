"""The README's neural quick-start runs as written (on small files, few steps)."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def neural_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    block = text.split("### Neural models", 1)[1]
    match = re.search(r"```python\n(.*?)```", block, re.S)
    assert match, "the README lost its neural quick-start"
    return match.group(1)


def test_readme_neural_quick_start_runs(tmp_path: Path) -> None:
    lines = [f"the king said {w} to the queen" for w in ["yes", "no", "maybe", "soon"]] * 20
    for name, part in [("train.txt", lines), ("valid.txt", lines[:8]), ("test.txt", lines[8:16])]:
        (tmp_path / name).write_text("\n".join(part) + "\n", encoding="utf-8")
    code = neural_snippet().replace("steps=2000", "steps=3")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        scope: dict[str, object] = {}
        exec(compile(code, str(README), "exec"), scope)  # the README's own code
    finally:
        os.chdir(cwd)
    assert (tmp_path / "lstm.npz").exists()
    lstm = scope["lstm"]
    ppl = lstm.perplexity(str(tmp_path / "test.txt"))  # type: ignore[attr-defined]
    assert math.isfinite(ppl.perplexity) and ppl.tokens > 0
    text = lstm.generate("the king", max_tokens=5, seed=0)  # type: ignore[attr-defined]
    assert text == lstm.generate("the king", max_tokens=5, seed=0)  # type: ignore[attr-defined]
    assert isinstance(text, str)
