"""The word2vec commands: ``nextword word2vec``, ``similar`` and ``analogy``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from nextword.cli import main
from nextword.embeddings import WordVectors


def test_train_then_query(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(f"the cat sat on mat {i % 3}\n" for i in range(100)))
    out = tmp_path / "v.bin"
    args = ["word2vec", str(corpus), "-o", str(out), "--dim", "8", "--window", "2"]
    assert main([*args, "--min-count", "1", "--epochs", "1", "--cbow", "--threads", "1", "-q"]) == 0
    assert "CBOW vectors of 8 words, dim 8" in capsys.readouterr().out
    assert len(WordVectors.load(out)) == 8

    assert main(["similar", str(out), "cat", "-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and all("cat" not in line for line in lines)
    assert main(["similar", str(out), "zebra"]) == 1
    assert "'zebra'" in capsys.readouterr().err


def test_analogy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "v.txt"
    vectors = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32)
    WordVectors(["man", "king", "woman", "queen"], vectors).save(path)
    assert main(["analogy", str(path), "man", "king", "woman", "-k", "1"]) == 0
    assert capsys.readouterr().out.split()[-1] == "queen"
    assert main(["analogy", str(path), "man", "king", "woman", "--method", "3cosmul"]) == 0


def test_corrupt_vectors_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "v.txt"
    path.write_text("2 3\na 1 2 3\n")
    assert main(["similar", str(path), "a"]) == 1
    assert "truncated" in capsys.readouterr().err
