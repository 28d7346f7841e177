"""``nextword compare``: n-gram and neural models trained or loaded on one split, one table."""

from __future__ import annotations

from pathlib import Path

import pytest
from nextword import NGramLM
from nextword.cli import main
from nextword.neural import MLPLanguageModel, NeuralLanguageModel, TrainingConfig
from nextword.neural.compare import compare_models

TRAIN = "the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n" * 8
VALID = "the cat sat on the log\na dog\n"
TEST = "the dog sat\na cat\n"


@pytest.fixture
def split(tmp_path: Path) -> tuple[Path, Path, Path]:
    paths = tmp_path / "train.txt", tmp_path / "valid.txt", tmp_path / "test.txt"
    for path, text in zip(paths, (TRAIN, VALID, TEST)):
        path.write_text(text, encoding="utf-8")
    return paths


@pytest.mark.filterwarnings("ignore:order")  # so small a corpus needs fallback discounts
def test_compare_table(
    split: tuple[Path, Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train_file, valid, test = split
    saved = tmp_path / "mlp.npz"
    lines = TRAIN.splitlines()
    mlp = MLPLanguageModel.fit(
        lines,
        order=3,
        embed_dim=4,
        hidden_dim=8,
        progress=False,
        training=TrainingConfig(steps=20, batch_size=4, seq_len=8),
    )
    mlp.save(str(saved))
    argv = ["compare", str(train_file), "--valid", str(valid), "--test", str(test)]
    argv += ["--models", f"kn3,lstm,{saved}", "--dim", "8", "--steps", "5", "--context", "8"]
    assert main([*argv, "--prompt", "the", "--sample-tokens", "4", "-q"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == [
        "model",
        "parameters",
        "train",
        "s",
        "valid",
        "ppl",
        "valid",
        "bits",
        "test",
        "ppl",
        "test",
        "bits",
    ]
    rows = {line.split()[0]: line.split() for line in out[2:5]}
    assert list(rows) == ["kn3", "lstm", "mlp.npz"]
    kn = NGramLM.fit(lines, order=3)
    assert rows["kn3"][1] == f"{sum(kn.sizes()):,}"
    assert float(rows["kn3"][3]) == pytest.approx(kn.perplexity(str(valid)).perplexity, abs=0.01)
    test_ppl = kn.perplexity(str(test))
    assert float(rows["kn3"][5]) == pytest.approx(test_ppl.perplexity, abs=0.01)
    assert float(rows["kn3"][6]) == pytest.approx(test_ppl.bits_per_token, abs=0.001)
    # The loaded model is scored as it is (no training time) and samples with the seed.
    loaded = NeuralLanguageModel.load(str(saved))
    assert rows["mlp.npz"][1] == f"{sum(p.size for p in loaded.parameters().values()):,}"
    assert rows["mlp.npz"][2] == "0.0"
    assert float(rows["mlp.npz"][5]) == pytest.approx(
        loaded.perplexity(str(test)).perplexity, abs=0.01
    )
    assert out[6] == "samples (same seed), after 'the':"
    assert out[9].split(None, 1)[1] == loaded.generate("the", max_tokens=4, seed=0)
    assert out[7].split(None, 1)[1] == kn.generate("the", max_tokens=4, seed=0)


@pytest.mark.filterwarnings("ignore:order")
def test_compare_models_api_and_errors(split: tuple[Path, Path, Path]) -> None:
    train_file, valid, test = split
    rows = compare_models(
        str(train_file),
        str(valid),
        str(test),
        ["rnn"],
        neural_options={"rnn": dict(embed_dim=8, hidden_dim=8)},
        training=TrainingConfig(steps=30, batch_size=4, seq_len=8),
        sample_tokens=3,
    )
    (row,) = rows
    assert row.name == "rnn" and row.seconds > 0 and row.test.tokens == 7
    # Trained on the split, the RNN does better than a uniform guess over its vocabulary.
    assert row.valid.perplexity < 13
    with pytest.raises(ValueError, match="'gpt' is not a model"):
        compare_models(str(train_file), str(valid), str(test), ["gpt"])
    with pytest.raises(ValueError, match="no model"):
        compare_models(str(train_file), str(valid), str(test), [])
    assert (
        main(
            [
                "compare",
                str(train_file),
                "--valid",
                str(valid),
                "--test",
                str(test),
                "--models",
                "kn2,nope",
            ]
        )
        == 1
    )
