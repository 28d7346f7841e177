"""Every Python block of the README runs as written, each in a fresh namespace
(a reader copies one block, not the page), in a directory holding the files
the blocks name, made from the shared corpora (tinyshakespeare, the word-
similarity and analogy sets).

The one change made to a block: training runs for a few steps, not the
thousands a real run wants (``steps=2000`` becomes ``steps=5``), so that the
test takes seconds. Beyond running, a few of the values the comments promise
are checked.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, require_module

README = REPO_ROOT / "README.md"
SCALED_DOWN = {"steps=2000": "steps=5"}


def python_blocks() -> list[tuple[str, str]]:
    """(heading above it, code) for every ```python block of the README."""
    blocks: list[tuple[str, str]] = []
    heading, code = "", None
    for line in README.read_text(encoding="utf-8").splitlines(keepends=True):
        if code is not None:
            if line.rstrip() == "```":
                blocks.append((heading, "".join(code)))
                code = None
            else:
                code.append(line)
        elif line.startswith("```python"):
            code = []
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
    return blocks


BLOCKS = python_blocks()


@pytest.fixture(scope="module")
def workdir(shared: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    zstd = require_module("zstandard", "pip install zstandard")
    root = tmp_path_factory.mktemp("readme_blocks")
    lines = (shared / "corpora/en/tinyshakespeare.txt").read_text(encoding="utf-8").splitlines()
    lines = [line for line in lines if line.strip()][:20_000]  # "woman" reaches min_count 5 here
    (root / "corpus").mkdir()
    half = len(lines) // 2
    for name, part in (("a", lines[:half]), ("b", lines[half:])):
        with gzip.open(root / f"corpus/{name}.txt.gz", "wt", encoding="utf-8") as f:
            f.write("\n".join(part) + "\n")
    small = lines[:1000]
    for name, part in (
        ("train.txt", small),
        ("valid.txt", lines[1000:1040]),
        ("test.txt", lines[1040:1080]),
        ("docs.txt", lines[1080:1180]),
    ):
        (root / name).write_text("\n".join(part) + "\n", encoding="utf-8")
    records = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(lines[:500]))
    (root / "docs.jsonl.zst").write_bytes(zstd.ZstdCompressor().compress(records.encode()))
    web = [t for t in lines[1180:1500] if t.strip()]
    (root / "web.txt").write_text("\n".join(web) + "\n", encoding="utf-8")
    (root / "web.jsonl").write_text(
        "".join(json.dumps({"text": t}) + "\n" for t in web), encoding="utf-8"
    )
    for name in ("questions-words.txt", "wordsim353.tsv"):
        shutil.copy(shared / "corpora/eval" / name, root / name)
    # A byte-level BPE tokenizer.json in the HF layout, where the block loads GPT-2's.
    import nextword

    nextword.NGramLM.fit(root / "train.txt", order=3, progress=False).save(root / "clean.nwlm")

    (root / "gpt2").mkdir()
    nextword.BPETokenizer.train(small, vocab_size=300, progress=False).save(
        root / "gpt2/tokenizer.json"
    )
    return root


@pytest.fixture
def inside(workdir: Path) -> Iterator[Path]:
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        yield workdir
    finally:
        os.chdir(cwd)


def test_the_readme_has_its_blocks() -> None:
    headings = [h for h, _ in BLOCKS]
    assert "Python quick-start" in headings
    assert "Language models and generation" in headings
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("heading,code", BLOCKS, ids=[h for h, _ in BLOCKS])
def test_readme_block_runs_as_written(inside: Path, heading: str, code: str) -> None:
    for written, scaled in SCALED_DOWN.items():
        code = code.replace(written, scaled)
    scope: dict[str, Any] = {"__name__": "readme"}
    exec(compile(code, f"README.md ({heading})", "exec"), scope)  # the README's own code
    check = CHECKS.get(heading)
    if check is not None:
        check(scope)


def _quick_start(scope: dict[str, Any]) -> None:
    assert scope["small"]["to", "be"] == 2
    assert scope["counts"].order == 3
    assert scope["tok"].tokenize("Don't panic, 西游记!") == [
        "don't", "panic", ",", "西", "游", "记", "!",
    ]  # fmt: skip
    assert scope["vocab"].encode("don't panic", bos=True)[0] == 1


def _language_models(scope: dict[str, Any]) -> None:
    lm = scope["lm"]
    assert 0 <= scope["probs"][lm.vocab.id("the")] <= 1
    assert abs(scope["probs"].sum() - 1) < 1e-6
    assert scope["mle"].smoothing == "mle"


def _bpe(scope: dict[str, Any]) -> None:
    assert scope["bpe"].decode(scope["ids"]) == "naïve café 👍🏽"


CHECKS = {
    "Python quick-start": _quick_start,
    "Language models and generation": _language_models,
    "Byte-level BPE": _bpe,
}
