"""The README's CLI quick-start, run as a user runs it: ``python -m nextword``
in a fresh process, on files, checked against the Python API.

    nextword train corpus/*.txt --order 5 -o model.nwlm      # or model.arpa.gz
    nextword score model.nwlm test.txt
    nextword score model.nwlm docs.jsonl --jsonl --text-field text > scored.jsonl
    nextword predict model.nwlm "to be or not to" -k 10
    nextword generate model.nwlm --prompt "the king" -n 30 --top-p 0.95 --seed 0 --explain
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import nextword
import pytest

LINES = [
    "to be or not to be that is the question",
    "the king is dead long live the king",
    "to be the king or not to be the king",
    "the question is not to be",
] * 5
TEST = ["to be or not", "the king is the question", "long live the queen"]


def nextword_cli(*args: str, cwd: Path) -> str:
    """Run ``python -m nextword ARGS`` in ``cwd``; its stdout (exit status 0 asserted)."""
    result = subprocess.run(
        [sys.executable, "-m", "nextword", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with corpus/a.txt, corpus/b.txt, test.txt and docs.jsonl."""
    root = tmp_path_factory.mktemp("readme")
    (root / "corpus").mkdir()
    (root / "corpus/a.txt").write_text("\n".join(LINES[:10]) + "\n", encoding="utf-8")
    (root / "corpus/b.txt").write_text("\n".join(LINES[10:]) + "\n", encoding="utf-8")
    (root / "test.txt").write_text("\n".join(TEST) + "\n", encoding="utf-8")
    docs = [{"id": i, "text": t} for i, t in enumerate(TEST)]
    (root / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs), "utf-8")
    return root


def api_model(work: Path) -> nextword.NGramLM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # discount fallbacks on a tiny corpus
        files = sorted((work / "corpus").glob("*.txt"))
        return nextword.NGramLM.fit(files, order=5, progress=False)


@pytest.mark.parametrize("name", ["model.nwlm", "model.arpa.gz"])
def test_train_writes_the_model_the_api_fits(work: Path, name: str) -> None:
    # The shell would expand corpus/*.txt; the CLI expands globs itself too.
    out = nextword_cli("train", "corpus/*.txt", "--order", "5", "-o", name, cwd=work)
    assert f"saved to {name}" in out
    assert re.search(r"trained kneser-ney order 5", out)
    trained = nextword.NGramLM.load(work / name)
    expected = api_model(work)
    assert trained.sizes() == expected.sizes()
    for sentence in TEST:
        assert trained.score(sentence) == pytest.approx(expected.score(sentence), abs=1e-5)


@pytest.fixture(scope="module")
def model(work: Path) -> Path:
    nextword_cli("train", "corpus/*.txt", "--order", "5", "-o", "model.nwlm", cwd=work)
    return work / "model.nwlm"


def test_score_prints_the_perplexity_summary(work: Path, model: Path) -> None:
    out = nextword_cli("score", "model.nwlm", "test.txt", cwd=work)
    expected = nextword.NGramLM.load(model).perplexity(work / "test.txt", progress=False)
    assert out.strip() == str(expected)


def test_score_jsonl_to_stdout(work: Path, model: Path) -> None:
    out = nextword_cli(
        "score", "model.nwlm", "docs.jsonl", "--jsonl", "--text-field", "text", cwd=work
    )
    got = [json.loads(line) for line in out.splitlines()]
    lm = nextword.NGramLM.load(model)
    assert [(r["id"], r["text"]) for r in got] == list(enumerate(TEST))
    for r in got:
        assert r["perplexity"] == pytest.approx(lm.perplexity([r["text"]]).perplexity, rel=1e-9)


def test_predict_lists_the_top_k(work: Path, model: Path) -> None:
    out = nextword_cli("predict", "model.nwlm", "to be or not to", "-k", "10", cwd=work)
    lines = out.splitlines()
    assert lines[0] == "after 'to be or not to':"
    expected = nextword.NGramLM.load(model).predict("to be or not to", k=10)
    assert len(lines) == 1 + len(expected)
    for line, (word, p) in zip(lines[1:], expected):
        shown_word, shown_p = line.split()[:2]
        assert (shown_word, float(shown_p)) == (word, pytest.approx(p, abs=5e-5))
    assert lines[1].split()[0] == "be"


def test_generate_with_explain_is_the_seeded_generation(work: Path, model: Path) -> None:
    args = ["--prompt", "the king", "-n", "30", "--top-p", "0.95", "--seed", "0", "--one-sentence"]
    out = nextword_cli("generate", "model.nwlm", *args, "--explain", cwd=work)
    lm = nextword.NGramLM.load(model)
    text = lm.generate("the king", max_tokens=30, top_p=0.95, seed=0)
    assert out.splitlines()[0] == "prompt: 'the king'"
    steps = re.findall(r"^step \d+: after", out, flags=re.MULTILINE)
    assert 1 <= len(steps) <= 30
    final = f"the king {text}".replace("</s>", "").split()
    assert out.splitlines()[-1].split() == final
    again = nextword_cli("generate", "model.nwlm", *args, cwd=work)
    assert again.split() == f"the king {text}".split()
