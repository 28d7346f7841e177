"""The command line as a new user met it (issue 15): closed pipes, generation
across sentences, character models, help and version, flags in messages,
warnings as sentences, unknown prompts, the project's own file kinds, Ctrl-C
during a model write."""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import nextword
import pytest
from nextword.cli import build_parser, main
from nextword.cli_messages import DefaultsHelpFormatter

LINES = [
    "the king is dead",
    "long live the king",
    "the queen is here",
    "the king and the queen",
    "to be or not to be",
] * 4


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("newuser")
    (root / "train.txt").write_text("\n".join(LINES) + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nextword.NGramLM.fit(root / "train.txt", order=3, progress=False).save(root / "m.nwlm")
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_closed_pipe_ends_quietly_and_the_counts_are_still_saved(tmp_path: Path) -> None:
    rng = random.Random(0)
    words = [f"w{i}" for i in range(400)]
    text = "\n".join(" ".join(rng.choices(words, k=12)) for _ in range(3000)) + "\n"
    (tmp_path / "c.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "x.bin"
    # `| head -n 1`: the reader takes one line and closes the pipe; the table
    # printed after that (some 300 kB) meets a closed pipe.
    proc = subprocess.Popen(
        [sys.executable, "-m", "nextword", "count", "c.txt", "-o", str(out), "--top", "3000"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert first.startswith(b"read 36,000 tokens")
    assert err == ""
    assert nextword.NGramCounts.load(out).tokens == 36000


def test_generate_counts_tokens_and_goes_on_across_sentences(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "generate", str(work / "m.nwlm"), "-p", "the", "-n", "30", "--seed", "0"
    )
    assert code == 0
    lines = out.splitlines()
    assert len(lines) > 1  # sentences of 4-6 words: 30 tokens span several
    assert lines[0].startswith("the ")
    words = sum(len(line.split()) for line in lines) - 1  # the prompt is not generated
    # Every line but possibly the last ended with </s>, which counts as a token.
    assert words + len(lines) - 1 <= 30 <= words + len(lines)
    # The same seed gives the same text.
    assert (
        run(capsys, "generate", str(work / "m.nwlm"), "-p", "the", "-n", "30", "--seed", "0")[1]
        == out
    )


def test_one_sentence_stops_at_the_first_end_as_the_python_api_does(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["generate", str(work / "m.nwlm"), "-p", "the", "-n", "30", "--seed", "3"]
    code, out, _ = run(capsys, *args, "--one-sentence")
    assert code == 0
    lm = nextword.NGramLM.load(work / "m.nwlm")
    assert out == f"the {lm.generate('the', max_tokens=30, seed=3)}\n"


def test_a_character_model_is_joined_as_its_tokenizer_decodes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "孙悟空还有七十二般变化\n孙悟空一个筋斗云\n猪八戒还有三十六般变化\n" * 3
    (tmp_path / "zh.txt").write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = nextword.NGramLM.fit(tmp_path / "zh.txt", order=3, tokenizer="char", progress=False)
    lm.save(tmp_path / "zh.nwlm")
    python = "孙悟" + lm.generate("孙悟", max_tokens=8, seed=1)
    assert " " not in python
    for extra in ([], ["--explain"]):
        code, out, _ = run(
            capsys, "generate", str(tmp_path / "zh.nwlm"), "-p", "孙悟", "-n", "8",
            "--seed", "1", "--one-sentence", *extra,
        )  # fmt: skip
        assert code == 0
        assert out.splitlines()[-1] == python


def _parsers(parser: argparse.ArgumentParser, name: str = "nextword"):  # type: ignore[no-untyped-def]
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from _parsers(child, f"{name} {sub}")


def test_every_option_has_help_and_shows_its_default() -> None:
    checked = 0
    for name, parser in _parsers(build_parser()):
        formatter = DefaultsHelpFormatter(name)
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            label = f"{name} {'/'.join(action.option_strings) or action.dest}"
            assert action.help and action.help.strip(), f"{label} has no help text"
            flag = isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction))
            shown = action.default not in (None, False, "", [], argparse.SUPPRESS)
            if action.option_strings and shown and not flag:  # a flag's default is its absence
                assert "default" in formatter._get_help_string(action), label
            checked += 1
    assert checked > 150


def test_help_shows_the_orders_of_count_and_train(capsys: pytest.CaptureFixture[str]) -> None:
    for command, default in (("count", "(default: 3)"), ("train", "(default: 5)")):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert default in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"nextword {nextword.__version__}"


def test_lowercase_with_a_tokenizer_that_cannot_is_an_error(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "count", str(work / "train.txt"), "--lowercase")
    assert code == 1
    assert "--lowercase works with --tokenizer word" in err
    code, out, _ = run(capsys, "count", str(work / "train.txt"), "-t", "word", "--lowercase")
    assert code == 0 and "read" in out


def test_error_hints_name_the_flag_not_the_python_keyword(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.txt").write_bytes(b"good line\nbad \xff byte\n")
    code, _, err = run(capsys, "count", str(tmp_path / "bad.txt"))
    assert code == 1
    assert "--errors replace or --errors skip" in err
    assert 'errors="' not in err
    assert run(capsys, "count", str(tmp_path / "bad.txt"), "--errors", "replace")[0] == 0


def test_warnings_read_as_sentences(tmp_path: Path) -> None:
    (tmp_path / "t.txt").write_text("a b c\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "nextword", "train", "t.txt", "-o", "m.nwlm", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("nextword: warning: order ") for line in lines), lines
    assert "UserWarning" not in result.stderr and "cli.py" not in result.stderr


def test_a_prompt_of_unknown_words_warns(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lm = nextword.NGramLM.load(work / "m.nwlm")
    with pytest.warns(
        nextword.UnknownPromptWarning, match="no word of the prompt 'zebra xylophone'"
    ):
        lm.generate("zebra xylophone", max_tokens=3, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lm.generate("zebra king", max_tokens=3, seed=0)  # one known word: no warning
    code, _, err = run(capsys, "generate", str(work / "m.nwlm"), "-p", "zebra", "-n", "3")
    assert code == 0
    assert err.startswith("nextword: warning: no word of the prompt 'zebra'")


def test_a_counts_file_given_as_a_model_is_named_for_what_it_is(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = tmp_path / "counts.bin"
    assert run(capsys, "count", str(work / "train.txt"), "-o", str(counts))[0] == 0
    code, _, err = run(capsys, "predict", str(counts), "the")
    assert code == 1
    assert "this is an n-gram counts file, not a model" in err
    with pytest.raises(nextword.ModelFormatError, match="n-gram counts file, not a model"):
        nextword.NGramLM.load(counts)
    with pytest.raises(
        nextword.ModelFormatError, match="binary n-gram model, not an n-gram counts"
    ):
        nextword.NGramCounts.load(work / "m.nwlm")


INTERRUPT = """
import os, signal, sys, threading, time
from nextword.cli import main

out_dir = sys.argv[2]

def interrupt_once_writing():
    # Ctrl-C as soon as the model file's temporary name appears.
    while not os.listdir(out_dir):
        time.sleep(0.001)
    os.kill(os.getpid(), signal.SIGINT)

threading.Thread(target=interrupt_once_writing, daemon=True).start()
model = os.path.join(out_dir, sys.argv[3])
sys.exit(main(["train", sys.argv[1], "--order", "5", "-o", model, "-q"]))
"""


@pytest.mark.parametrize("name", ["m.arpa", "m.nwlm"])
def test_ctrl_c_during_the_model_write_leaves_no_file(
    shared: Path, tmp_path: Path, name: str
) -> None:
    # Both writers look at the cancel flag as they go (ARPA between blocks of
    # n-grams, binary between 4 MB pieces) and once more before the rename.
    # The Ctrl-C is seen within 10 ms; PTB's 5-gram model takes some 300 ms
    # to write (tinyshakespeare's took about as long as that latency, and the
    # rename now and then came first).
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    corpus = shared / "corpora/en/ptb.train.txt"
    result = subprocess.run(
        [sys.executable, "-c", INTERRUPT, str(corpus), str(out_dir), name],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 128 + signal.SIGINT, result.stderr
    assert "interrupted" in result.stderr
    assert list(out_dir.iterdir()) == []
