"""``nextword bpe train|encode|decode``, and a BPE tokenizer.json given to
``nextword train --tokenizer``."""

from __future__ import annotations

from pathlib import Path

import pytest
from nextword import BPETokenizer
from nextword.cli import main

pytestmark = pytest.mark.filterwarnings("ignore:order .*discount:UserWarning")

TEXT = "the cat sat on the mat\nthe dog sat on the log\nnaïve café 家族 👍🏽\n" * 5


@pytest.fixture()
def trained(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "tokenizer.json"
    args = ["bpe", "train", str(corpus), "--vocab-size", "280", "--special", "<|end|>"]
    assert main([*args, "-o", str(out), "-q"]) == 0
    assert "280 tokens" in capsys.readouterr().out
    return out


def test_train_encode_decode(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tok = BPETokenizer.load(trained)
    assert tok.special_tokens == {"<|end|>": 279}
    assert main(["bpe", "encode", str(trained), "the cat", "sat"]) == 0
    ids = capsys.readouterr().out.split()
    assert [int(i) for i in ids] == tok.encode("the cat sat").tolist()
    assert main(["bpe", "decode", str(trained), *ids]) == 0
    assert capsys.readouterr().out == "the cat sat\n"


def test_file_input_one_line_each(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = tmp_path / "in.txt"
    lines.write_text("naïve café\n家族 👍🏽\n", encoding="utf-8")
    assert main(["bpe", "encode", str(trained), "--file", str(lines)]) == 0
    ids = tmp_path / "ids.txt"
    ids.write_text(capsys.readouterr().out)
    assert main(["bpe", "decode", str(trained), "-f", str(ids)]) == 0
    assert capsys.readouterr().out == "naïve café\n家族 👍🏽\n"


def test_errors_are_reported(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bpe", "decode", str(trained), "99999"]) == 1
    assert "out of range" in capsys.readouterr().err
    assert main(["bpe", "train", str(trained), "--vocab-size", "10", "-o", "x.json"]) == 1
    assert "below 256" in capsys.readouterr().err


def test_ngram_model_over_a_bpe_tokenizer_file(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = tmp_path / "corpus.txt"
    model = tmp_path / "m.nwlm"
    assert main(["train", str(corpus), "-n", "3", "-t", str(trained), "-o", str(model), "-q"]) == 0
    capsys.readouterr()
    assert main(["generate", str(model), "-p", "the", "-n", "12", "--seed", "3"]) == 0
    assert capsys.readouterr().out.strip()
