"""``nextword train --model mlp|rnn|lstm|transformer``: a checkpoint that
``score``, ``predict`` and ``generate`` read, told apart from an n-gram model
by its content, not its name."""

from __future__ import annotations

from pathlib import Path

import pytest
from nextword.cli import main
from nextword.neural import NeuralLanguageModel, TransformerLanguageModel

TEXT = "the cat sat on the mat\nthe dog sat\na cat and a dog\n" * 5
TINY = ["--dim", "8", "--context", "4", "--steps", "3", "--batch-size", "2", "-q"]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "train.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["mlp", "rnn", "lstm", "transformer"])
def test_train_then_score_predict_generate(
    kind: str, corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model.bin"  # any name: the loaders read the content
    assert main(["train", str(corpus), "--model", kind, "-o", str(out), *TINY]) == 0
    assert "3 steps" in capsys.readouterr().out
    model = NeuralLanguageModel.load(str(out))
    assert model.config.get("seed") == 0

    assert main(["score", str(out), str(corpus)]) == 0
    assert f"Perplexity including OOVs:\t{model.perplexity(str(corpus)).perplexity}" in (
        capsys.readouterr().out
    )
    assert main(["predict", str(out), "the", "-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[1:]] == [w for w, _ in model.predict("the", k=3)]
    args = ["generate", str(out), "-p", "the", "-n", "6", "--seed", "4", "--min-p", "0.01"]
    assert main([*args, "--repetition-penalty", "1.2"]) == 0
    text = model.generate("the", max_tokens=6, seed=4, min_p=0.01, repetition_penalty=1.2)
    assert capsys.readouterr().out.strip() == f"the {text}".strip()
    assert main([*args, "--explain"]) == 0
    assert "step 1:" in capsys.readouterr().out


def test_size_options_reach_the_model(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "tf.npz"
    options = ["--layers", "2", "--heads", "4", "--lr", "0.01", "--seed", "3"]
    assert main(["train", str(corpus), "-m", "transformer", "-o", str(out), *TINY, *options]) == 0
    model = NeuralLanguageModel.load(str(out))
    assert isinstance(model, TransformerLanguageModel)
    assert model.config == dict(dim=8, heads=4, layers=2, block_size=4, seed=3)


def test_n_gram_only_options_fail_clearly(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model.npz"
    assert main(["train", str(corpus), "-m", "lstm", "-o", str(out), *TINY]) == 0
    for argv in (
        ["predict", str(out), "the", "--no-bos"],
        ["predict", str(out), "the", "--tokenizer", "char"],
    ):
        assert main(argv) == 1
    err = capsys.readouterr().err
    assert "--no-bos needs an n-gram model" in err
    assert "keeps its own tokenizer" in err


@pytest.mark.filterwarnings("ignore:order 2")  # so repetitive a text needs fallback discounts
def test_the_n_gram_path_stays_the_default(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "model.npz"  # an n-gram model, whatever its name says
    assert main(["train", str(corpus), "-n", "2", "-o", str(out), "-q"]) == 0
    assert out.read_bytes().startswith(b"NWLMBIN")
    assert main(["predict", str(out), "the", "-k", "2"]) == 0


def test_score_per_sentence_and_jsonl_with_a_neural_checkpoint(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    out = tmp_path / "model.npz"
    assert main(["train", str(corpus), "-m", "lstm", "-o", str(out), *TINY]) == 0
    model = NeuralLanguageModel.load(str(out))
    capsys.readouterr()
    assert main(["score", str(out), str(corpus), "--per-sentence"]) == 0
    lines = capsys.readouterr().out.splitlines()
    first = lines[0].split("\t")
    assert first[0] == "1" and first[3] == "Tokens: 7"  # "the cat sat on the mat </s>"
    assert float(first[1].split()[1]) == pytest.approx(model.score("the cat sat on the mat"))
    assert len([line for line in lines if "\tTokens:" in line]) == 15
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"body": "the cat sat\na dog", "id": 7}) + "\n", encoding="utf-8")
    dst = tmp_path / "out.jsonl"
    argv = ["score", str(out), str(src), "--jsonl", "--text-field", "body", "-o", str(dst)]
    assert main(argv) == 0
    record = json.loads(dst.read_text(encoding="utf-8"))
    assert record["id"] == 7
    expected = model.perplexity(["the cat sat", "a dog"]).perplexity
    assert record["perplexity"] == pytest.approx(expected, rel=1e-9)
