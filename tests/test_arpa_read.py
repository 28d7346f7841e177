"""Reading ARPA files in parallel pieces and big blocks, then sorting each order.

The reader cuts the text into blocks and each block's n-gram lines into pieces
parsed on several threads, then sorts every order (lmplz writes them sorted by
their last words, SRILM by their first, a hand-edited file in any order). So:
whatever the order of the lines in a section, the blank lines, the line ends,
the compression or the piece size (``_core.set_chunk_bytes``, tests only), the
model must be the same one (the same binary file once saved), and a bad line
deep in a large section must be named by its own line number, also when the
fault (a duplicate, a missing context) is only found after the sort.
The file is lmplz's 3-gram of tinyshakespeare (290 k n-grams, 156 k 3-grams).
"""

from __future__ import annotations

import gzip
import random
import re
from pathlib import Path
from typing import Callable

import nextword
import pytest
from test_chunk_edges import chunk_bytes

GOLDEN = "golden/kenlm/tinyshakespeare.train.o3.arpa.gz"
# Pieces of the default size; of 4 KiB (blocks of 256 KiB: the file spans
# many); of 97 bytes (a piece or two per line, blocks of a few KB).
CHUNKS = [0, 4096, 97]


@pytest.fixture(scope="module")
def lmplz_lines(shared: Path) -> list[str]:
    return gzip.decompress((shared / GOLDEN).read_bytes()).decode("utf-8").split("\n")


@pytest.fixture(scope="module")
def reference_model(lmplz_lines: list[str], tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """lmplz's file read as it is, saved as a binary model."""
    folder = tmp_path_factory.mktemp("reference")
    (folder / "m.arpa").write_text("\n".join(lmplz_lines), encoding="utf-8")
    return saved(folder / "m.arpa", folder)


def saved(arpa: Path, folder: Path) -> bytes:
    """The binary model file of the ARPA file `arpa`."""
    out = folder / (arpa.name + ".nwlm")
    nextword.NGramLM.load(arpa, progress=False).save(out, progress=False)
    return out.read_bytes()


def section_span(lines: list[str], n: int) -> range:
    """The indexes of the n-gram lines of the `\\n-grams:` section."""
    start = lines.index(f"\\{n}-grams:") + 1
    end = start
    while lines[end].strip():
        end += 1
    return range(start, end)


def reorder(
    lines: list[str], how: Callable[[list[str]], list[str]], orders: tuple[int, ...] = (2, 3)
) -> list[str]:
    """The n-gram lines of each of `orders` rearranged by `how`. The unigrams
    keep their order by default: it gives the words their ids, so another
    order is another (equivalent) model file."""
    out = list(lines)
    for n in orders:
        span = section_span(out, n)
        out[span.start : span.stop] = how(out[span.start : span.stop])
    return out


def shuffled(lines: list[str]) -> list[str]:
    return random.Random(len(lines)).sample(lines, len(lines))


def by_first_words(lines: list[str]) -> list[str]:
    """SRILM's order: by the words, first word first."""
    return sorted(lines, key=lambda line: line.split("\t")[1].split(" "))


def spaced(lines: list[str]) -> list[str]:
    """Blank lines, space-separated fields and CRLF here and there."""
    out = []
    for i, line in enumerate(lines):
        if i % 1000 == 7:
            out.append("   ")
        out.append(line.replace("\t", " ") + "\r" if i % 3 == 0 else line)
    return out


VARIANTS = {
    "shuffled": lambda ls: reorder(ls, shuffled),
    "srilm order": lambda ls: reorder(ls, by_first_words),
    "blanks, spaces and CRLF": lambda ls: reorder(ls, spaced),
    "shuffled with blanks": lambda ls: reorder(reorder(ls, shuffled), spaced, (1, 2, 3)),
}


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_any_line_order_builds_the_same_model(
    lmplz_lines: list[str], reference_model: bytes, tmp_path: Path, variant: str, chunk: int
) -> None:
    path = tmp_path / "m.arpa"
    path.write_text("\n".join(VARIANTS[variant](lmplz_lines)), encoding="utf-8")
    with chunk_bytes(chunk):
        assert saved(path, tmp_path) == reference_model


def test_shuffled_unigrams_score_the_same(
    shared: Path, lmplz_lines: list[str], tmp_path: Path
) -> None:
    """Unigrams in another order give the words other ids, not other scores."""
    path = tmp_path / "m.arpa"
    path.write_text("\n".join(reorder(lmplz_lines, shuffled, (1, 2, 3))), encoding="utf-8")
    (tmp_path / "ref.arpa").write_text("\n".join(lmplz_lines), encoding="utf-8")
    with chunk_bytes(4096):
        lm = nextword.NGramLM.load(path, progress=False)
    ref = nextword.NGramLM.load(tmp_path / "ref.arpa", progress=False)
    assert sorted(lm.vocab.words()) == sorted(ref.vocab.words())
    assert lm.sizes() == ref.sizes()
    test = (shared / "golden/kenlm/tinyshakespeare.test.txt").read_text(encoding="utf-8")
    lines = [line for line in test.splitlines() if line.strip()][:300]
    assert [lm.score(line) for line in lines] == [ref.score(line) for line in lines]
    for context in ([], ["the"], ["I", "am"]):
        assert lm.predict(context, k=20) == ref.predict(context, k=20)


def test_compressed_shuffled_file_builds_the_same_model(
    lmplz_lines: list[str], reference_model: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "m.arpa.gz"
    path.write_bytes(gzip.compress("\n".join(VARIANTS["shuffled"](lmplz_lines)).encode()))
    with chunk_bytes(4096):
        assert saved(path, tmp_path) == reference_model


def load_error(lines: list[str], path: Path, chunk: int) -> str:
    path.write_text("\n".join(lines), encoding="utf-8")
    with chunk_bytes(chunk), pytest.raises(nextword.ModelFormatError) as info:
        nextword.NGramLM.load(path, progress=False)
    return str(info.value)


DEEP_FAULTS = {
    "bad probability": lambda line: "x" + line,
    "not a unigram": lambda line: line.replace("\t", "\tnot-a-word-here ", 1).rsplit(" ", 1)[0],
    "too many fields": lambda line: line + "\t0\t1",
    "too few words": lambda line: line.split(" ")[0],
}


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("fault", list(DEEP_FAULTS))
def test_a_bad_line_deep_in_a_large_section_names_its_line(
    lmplz_lines: list[str], tmp_path: Path, fault: str, chunk: int
) -> None:
    lines = list(lmplz_lines)
    span = section_span(lines, 3)
    # Blank lines before it move it down; the fault sits 90% into the section.
    lines[span.start + 10 : span.start + 10] = ["", "  "]
    at = span.start + 2 + (len(span) * 9) // 10
    lines[at] = DEEP_FAULTS[fault](lines[at])
    message = load_error(lines, tmp_path / "bad.arpa", chunk)
    assert re.search(rf"bad\.arpa: line {at + 1}: ", message), message


@pytest.mark.parametrize("chunk", [0, 97])
def test_invalid_utf8_deep_in_a_section_names_its_line(
    lmplz_lines: list[str], tmp_path: Path, chunk: int
) -> None:
    data = "\n".join(lmplz_lines).encode()
    lines = data.split(b"\n")
    at = section_span(lmplz_lines, 2).start + 100_000
    lines[at] = lines[at].replace(b"\t", b"\t\xff", 1)
    path = tmp_path / "bad.arpa"
    path.write_bytes(b"\n".join(lines))
    expected = rf"line {at + 1}: invalid UTF-8"
    with chunk_bytes(chunk), pytest.raises(nextword.ModelFormatError, match=expected):
        nextword.NGramLM.load(path, progress=False)


@pytest.mark.parametrize("chunk", [0, 97])
def test_faults_found_after_sorting_name_their_lines(
    lmplz_lines: list[str], tmp_path: Path, chunk: int
) -> None:
    """A duplicate and an n-gram without its context, in a shuffled file with
    blank lines: the lines named are those of the file, not of the sort."""
    lines = reorder(lmplz_lines, shuffled)
    span = section_span(lines, 3)
    lines[span.start + 5 : span.start + 5] = ["", ""]
    span = range(span.start, span.stop + 2)
    first, second = span.start + 1000, span.start + 150_000
    lines[second] = lines[first]
    message = load_error(lines, tmp_path / "dup.arpa", chunk)
    assert f"line {second + 1}: duplicate 3-gram (also on line {first + 1})" in message, message

    # A 3-gram whose first two words are no bigram, deep in the section.
    lines = reorder(lmplz_lines, shuffled)
    span = section_span(lines, 3)
    bigrams = {lines[i].split("\t")[1] for i in section_span(lines, 2)}
    unigrams = [lines[i].split("\t")[1] for i in section_span(lines, 1)]
    words = [w for w in unigrams if w not in ("<s>", "</s>", "<unk>")]
    pair = next(f"{a} {b}" for a in words[50:] for b in words[60:] if f"{a} {b}" not in bigrams)
    at = span.start + 140_000
    lines[at] = f"-1.5\t{pair} {words[0]}"
    message = load_error(lines, tmp_path / "context.arpa", chunk)
    expected = rf"line {at + 1}: the 3-gram \"{re.escape(pair)} .*\" has no 2-gram"
    assert re.search(expected, message), message


def test_a_kenlm_binary_model_is_named_as_such(tmp_path: Path) -> None:
    # KenLM's build_binary files open with this line, then raw binary data.
    path = tmp_path / "model.binary"
    magic = b"mmap lm http://kheafield.com/code format version 5\n"
    path.write_bytes(magic + b"\x00" * 12 + bytes(range(256)) * 4)
    with pytest.raises(nextword.ModelFormatError, match=r"line 1: a KenLM binary model"):
        nextword.NGramLM.load(path)
