"""The ``nextword`` command: ``count`` and ``demo``."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from nextword import NGramCounts, count_ngrams, reference
from nextword.cli import main

TEXT = "the cat sat on the mat\nthe dog sat\n\na cat and a dog\n"
# Every line is a sentence, the blank one too (as lmplz counts it).
SENTENCES = TEXT.splitlines()


def ref_counts(order: int, pad: bool = True) -> dict[int, Counter[tuple[str, ...]]]:
    """{n: Counter of n-grams} by the reference counter."""
    return dict(enumerate(reference.count_ngrams([TEXT], order, pad=pad), start=1))


def parse_table(out: str) -> dict[int, tuple[int, int]]:
    """{order: (unique, total)} from the printed table."""
    rows = re.findall(r"^\s+(\d+)\s+([\d,]+)\s+([\d,]+)$", out, flags=re.M)
    return {int(n): (int(u.replace(",", "")), int(t.replace(",", ""))) for n, u, t in rows}


def parse_top(out: str, n: int) -> list[tuple[int, str]]:
    """[(count, ngram text)] printed under "top K n-grams" for order n."""
    block = re.search(rf"top \d+ {n}-grams:\n((?:  .*\n?)*)", out)
    assert block, out
    return [
        (int(m.group(1).replace(",", "")), m.group(2))
        for m in re.finditer(r"^\s+([\d,]+)  (.*)$", block.group(1), flags=re.M)
    ]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT)
    return path


def test_count_prints_summary_table_and_top(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["count", str(corpus), "--order", "3", "--top", "3", "--quiet"]) == 0
    out = capsys.readouterr().out
    tokens = sum(len(s.split()) for s in SENTENCES)
    assert re.search(rf"^read {tokens} tokens in {len(SENTENCES)} sentences in ", out, re.M)
    ref = ref_counts(3)
    assert parse_table(out) == {n: (len(c), sum(c.values())) for n, c in ref.items()}
    for n in (1, 2, 3):
        top = parse_top(out, n)
        assert len(top) == 3
        assert [c for c, _ in top] == [c for _, c in ref[n].most_common(3)]
    assert parse_top(out, 1)[0] == (4, "<s>")  # ties (<s>, </s>: 4) by id
    assert parse_top(out, 2)[0] == (2, "<s> the")
    assert "invalid UTF-8" not in out


def test_count_options(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["count", str(corpus), "-n", "2", "-k", "0", "--no-pad", "-q"]) == 0
    out = capsys.readouterr().out
    ref = ref_counts(2, pad=False)
    assert parse_table(out) == {n: (len(c), sum(c.values())) for n, c in ref.items()}
    assert "top" not in out

    assert main(["count", str(corpus), "-n", "1", "-k", "1", "-t", "char", "-q"]) == 0
    out = capsys.readouterr().out
    chars = Counter(ch for s in SENTENCES for ch in s if not ch.isspace())
    assert parse_table(out)[1] == (len(chars) + 2, sum(chars.values()) + 2 * len(SENTENCES))
    assert parse_top(out, 1) == [(chars.most_common(1)[0][1], chars.most_common(1)[0][0])]

    assert main(["count", str(corpus), "-n", "1", "-k", "0", "--skip-blank", "-q"]) == 0
    out = capsys.readouterr().out
    assert f"in {len(SENTENCES) - 1} sentences" in out


def test_count_big_numbers_have_thousands_separators(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "big.txt"
    path.write_text("a b c\n" * 1200)
    assert main(["count", str(path), "-n", "2", "-k", "1", "-q"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("read 3,600 tokens in 1,200 sentences in ")
    assert parse_table(out) == {1: (5, 6000), 2: (4, 4800)}
    assert parse_top(out, 1) == [(1200, "<s>")]


def test_count_output_file_loads_back_equal(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_path = tmp_path / "out" / "counts.nwc"
    out_path.parent.mkdir()
    assert main(["count", str(corpus), "-n", "3", "-o", str(out_path), "-q"]) == 0
    assert f"saved to {out_path}" in capsys.readouterr().out
    loaded = NGramCounts.load(out_path)
    direct = count_ngrams(corpus, order=3)
    assert list(loaded.items()) == list(direct.items())
    assert loaded.vocab.words() == direct.vocab.words()
    assert (loaded.tokens, loaded.stats, loaded.padded) == (direct.tokens, direct.stats, True)


def test_missing_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.txt"
    assert main(["count", str(missing), "-q"]) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("nextword: error: ")
    assert "No such file or directory" in captured.err and str(missing) in captured.err


def test_corpus_errors_are_clear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["count", str(empty), "-q"]) == 1
    assert "contains no files" in capsys.readouterr().err

    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"ok line\ncaf\xe9\n")
    assert main(["count", str(bad), "-q"]) == 1
    err = capsys.readouterr().err
    assert f"{bad}, line 2, byte 11: invalid UTF-8" in err

    assert main(["count", str(bad), "--errors", "replace", "-q", "-k", "0"]) == 0
    out = capsys.readouterr().out
    assert "1 lines with invalid UTF-8 were replaced or skipped" in out

    assert main(["count", str(bad), "-n", "0", "-q"]) == 1
    assert "order" in capsys.readouterr().err


def test_bad_arguments_exit_with_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["count"])
    assert info.value.code == 2
    assert "usage:" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([])


def test_python_dash_m_nextword_count(corpus: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nextword", "count", str(corpus), "-n", "2", "-k", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    ref = ref_counts(2)
    assert parse_table(result.stdout) == {n: (len(c), sum(c.values())) for n, c in ref.items()}
    assert "read 14 tokens in 4 sentences" in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal

    failed = subprocess.run(
        [sys.executable, "-m", "nextword", "count", str(corpus.parent / "missing.txt")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1
    assert "nextword: error:" in failed.stderr and "missing.txt" in failed.stderr


def test_demo_runs_and_prints_its_sections(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import nextword.demo
    from nextword.neural.demo import run_neural_demo

    # The neural section as the demo calls it, but a few training steps only.
    monkeypatch.setattr(
        nextword.demo, "run_neural_demo", lambda lines, steps: run_neural_demo(lines, steps=3)
    )
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    sections = re.findall(r"^== (\d+)\. ", out, flags=re.M)
    assert sections == ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"]
    for title in (
        "collect",
        "tokenize",
        "count n-grams",
        "Zipf",
        "Kneser-Ney",
        "guessing game",
        "generate",
        "speed",
        "neural language models",
        "novelty",
    ):
        assert title in out
    # Perplexity on held-out text falls from order 1 to order 5.
    ppl = [float(x) for x in re.findall(r"^\s+[1-5]\s+([\d.]+)\s+\d+\s+#", out, flags=re.M)]
    assert len(ppl) == 5 and ppl[0] > ppl[1] > ppl[2] > ppl[4]
    assert re.search(r"^\s+1\s+[\d,]+\s+[\d,]+\s+", out, flags=re.M)
    assert "speed-up:" in out
    # The ∞-gram copies its corpus: no 6-gram of its text is novel.
    assert re.search(r"∞-gram model\s+0\.0%", out)
    assert "Kneser-Ney, 5-grams of characters" in out and "the LSTM writes" in out


def test_char_model_as_arpa_keeps_its_tokenizer(
    shared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 7: a char model saved as ARPA was read back with the whitespace
    tokenizer, and score/predict gave wrong answers without a word."""
    lines = (shared / "corpora/zh/xiyouji.txt").read_text(encoding="utf-8").split("\n")
    lines = [line for line in lines if line.strip()]
    train, held = tmp_path / "train.txt", tmp_path / "held.txt"
    train.write_text("\n".join(lines[:1500]) + "\n", encoding="utf-8")
    held.write_text("\n".join(lines[1500:1700]) + "\n", encoding="utf-8")
    model = tmp_path / "model.arpa"
    assert main(["train", str(train), "-t", "char", "-n", "3", "-o", str(model), "-q"]) == 0
    capsys.readouterr()
    assert main(["score", str(model), str(held), "-q"]) == 0
    recorded = capsys.readouterr().out
    assert main(["score", str(model), str(held), "-q", "-t", "char"]) == 0
    assert capsys.readouterr().out == recorded
    ppl = float(recorded.split("\n")[0].split("\t")[1])
    assert ppl < 1000  # the whitespace tokenizer made it tens of thousands
    assert main(["predict", str(model), "孙悟", "-k", "1"]) == 0
    assert "空" in capsys.readouterr().out
    assert main(["score", str(model), str(held), "-q", "-t", "whitespace"]) == 0
    captured = capsys.readouterr()
    assert "nextword: warning: " in captured.err and "trained with the tokenizer" in captured.err
    assert float(captured.out.split("\n")[0].split("\t")[1]) > 10 * ppl
