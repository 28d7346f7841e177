"""Training within a memory budget (issue 12): the streamed pipeline writes
lmplz's file byte for byte, cleans up after itself, and refuses bad budgets.

The budgets here are tiny, so every stage spills many sorted runs: the merge
paths are what these tests exercise, not the in-memory shortcut.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import nextword
import pytest
from nextword.scale import memory_bytes

SMALL = "16M"


def _golden_arpa(shared: Path, name: str) -> bytes:
    return gzip.decompress((shared / "golden/kenlm" / name).read_bytes())


@pytest.mark.parametrize("order", [3, 5])
def test_streamed_arpa_is_lmplz_file(shared: Path, tmp_path: Path, order: int) -> None:
    train = shared / "golden/kenlm/tinyshakespeare.train.txt"
    out = tmp_path / "m.arpa"
    temp = tmp_path / "temp"
    temp.mkdir()
    report = nextword.train_arpa(
        train, out, order=order, memory=SMALL, temp_dir=temp, progress=False
    )
    assert out.read_bytes() == _golden_arpa(shared, f"tinyshakespeare.train.o{order}.arpa.gz")
    assert len(report["sizes"]) == order
    assert report["temp_bytes"] > 0
    assert list(temp.iterdir()) == [], "temporary files are removed on success"


@pytest.mark.filterwarnings("ignore:.*count-of-counts")
def test_streamed_equals_in_memory_on_blank_lines_and_options(tmp_path: Path) -> None:
    """Blank lines, a word repeated, interpolate_unigrams off, given discounts:
    the streamed file equals the in-memory model's."""
    lines = []
    for i in range(3000):
        words = [f"w{(i * 7 + j * j) % 97}" for j in range(i % 9)]
        lines.append(" ".join(words))
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for kwargs in (
        {},
        {"interpolate_unigrams": False},
        {"discounts": [(0.5, 1.0, 1.5)] * 4},
    ):
        expected = tmp_path / "mem.arpa"
        nextword.NGramLM.fit(corpus, order=4, progress=False, **kwargs).save(expected)
        got = tmp_path / "stream.arpa"
        nextword.train_arpa(corpus, got, order=4, memory=SMALL, progress=False, **kwargs)
        assert got.read_bytes() == expected.read_bytes(), kwargs


@pytest.mark.filterwarnings("ignore:.*count-of-counts")
def test_gzip_output(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\nb c d\n\nc d a b\n", encoding="utf-8")
    expected = tmp_path / "mem.arpa"
    nextword.NGramLM.fit(corpus, order=3, progress=False).save(expected)
    got = tmp_path / "s.arpa.gz"
    nextword.train_arpa(corpus, got, order=3, memory=SMALL, progress=False)
    assert gzip.decompress(got.read_bytes()) == expected.read_bytes()


def test_bad_input_leaves_no_file_and_no_temp(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_bytes(b"fine line\nbad \xff byte\n")
    out = tmp_path / "m.arpa"
    temp = tmp_path / "temp"
    temp.mkdir()
    with pytest.raises(nextword.CorpusError, match="line 2"):
        nextword.train_arpa(corpus, out, order=3, memory=SMALL, temp_dir=temp, progress=False)
    assert not out.exists()
    assert list(temp.iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_budgets_are_checked(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b\n", encoding="utf-8")
    assert memory_bytes("2G") == 2 << 30
    assert memory_bytes("512M") == 512 << 20
    assert memory_bytes(4096) == 4096
    assert memory_bytes("50%") > 0
    for bad in ("lots", "-1G", "0", "150%"):
        with pytest.raises(ValueError, match="memory"):
            memory_bytes(bad)
    with pytest.raises(ValueError, match="too small"):
        nextword.train_arpa(corpus, tmp_path / "m.arpa", order=3, memory="1M", progress=False)
    with pytest.raises(ValueError, match="order"):
        nextword.train_arpa(corpus, tmp_path / "m.arpa", order=1, memory=SMALL, progress=False)
    with pytest.raises(OSError, match="nonexistent"):
        nextword.train_arpa(
            corpus,
            tmp_path / "m.arpa",
            order=3,
            memory=SMALL,
            temp_dir="/nonexistent/dir",
            progress=False,
        )
    assert not (tmp_path / "m.arpa").exists()


def test_cli_memory_option(shared: Path, tmp_path: Path) -> None:
    train = shared / "golden/kenlm/tinyshakespeare.train.txt"
    out = tmp_path / "m.arpa"
    env = dict(os.environ)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nextword",
            "train",
            str(train),
            "--order",
            "3",
            "--memory",
            SMALL,
            "--temp-dir",
            str(tmp_path),
            "-o",
            str(out),
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == _golden_arpa(shared, "tinyshakespeare.train.o3.arpa.gz")
    assert "within 16M" in done.stdout
    refused = subprocess.run(
        [sys.executable, "-m", "nextword", "train", str(train), "--memory", SMALL]
        + ["-o", str(tmp_path / "m.nwlm"), "-q"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert refused.returncode == 1
    assert "ARPA" in refused.stderr


def test_cli_streams_an_arpa_file_by_default(shared: Path, tmp_path: Path) -> None:
    # `train -o m.arpa` of Kneser-Ney takes the streaming pipeline at lmplz's
    # default budget (80%); --in-memory fits the model first; same bytes.
    from nextword.cli import main

    train = shared / "golden/kenlm/tinyshakespeare.train.txt"
    golden = _golden_arpa(shared, "tinyshakespeare.train.o3.arpa.gz")
    streamed, fitted = tmp_path / "s.arpa", tmp_path / "f.arpa"
    common = ["train", str(train), "--order", "3", "--temp-dir", str(tmp_path)]
    assert main([*common, "-o", str(streamed)]) == 0
    assert main([*common, "--in-memory", "-o", str(fitted)]) == 0
    assert streamed.read_bytes() == fitted.read_bytes() == golden
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.arpa", "s.arpa"]
    # Pruning, other smoothings and binary files still fit in memory.
    pruned = tmp_path / "p.arpa"
    assert main([*common, "--prune", "0", "1", "-o", str(pruned), "-q"]) == 0
    assert pruned.read_bytes() != golden
    assert main([*common, "--memory", "1G", "--in-memory", "-o", str(fitted), "-q"]) == 1
    # A binary layout asked of an ARPA file is refused on either path.
    assert main([*common, "--layout", "trie", "-o", str(fitted), "-q"]) == 1
    assert main([*common, "--quantize", "8", "--memory", "1G", "-o", str(fitted), "-q"]) == 1
    assert fitted.read_bytes() == golden, "a refused run leaves the file it would replace"


def test_cli_default_reports_its_budget(
    shared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from nextword.cli import main

    train = shared / "golden/kenlm/tinyshakespeare.train.txt"
    assert main(["train", str(train), "-n", "2", "-o", str(tmp_path / "m.arpa"), "-q"]) == 0
    assert "within 80%" in capsys.readouterr().out
