"""ARPA files written by other tools read as KenLM reads them.

Hand-written files with the shapes other tools produce: n-grams whose suffix
was pruned away (SRILM), no ``<unk>``, an n-gram without its context. The
expected figures are worked out below from the files' backoff semantics; where
the ``kenlm`` module is installed, it is asked too.
"""

from __future__ import annotations

import math
import random
import warnings
from pathlib import Path

import nextword
import pytest
from conftest import require_module
from hypothesis import given, settings
from hypothesis import strategies as st
from nextword import reference

# An order-4 model pruned the way SRILM prunes: `a b c d` is kept while its
# suffixes `b c d` and `c d` are gone, and `d e a` is kept without `e a`. The
# f-words are complete filler: KenLM's probing tables are sized by the counts
# in the header and refuse files with more blanks than they have room for.
PRUNED_TEMPLATE = """
\\data\\
ngram 1=18
ngram 2=13
ngram 3=11
ngram 4=1

\\1-grams:
-2.0\t<unk>\t0
-99\t<s>\t-0.5
-0.8\t</s>\t0
-1.2\ta\t-0.3
-1.3\tb\t-0.2
-1.4\tc\t-0.1
-1.5\td\t-0.4
-1.6\te\t-0.35
{filler1}
\\2-grams:
-0.6\t<s> a\t-0.25
-0.7\ta b\t-0.15
-0.5\tb c\t-0.05
-0.9\td e\t-0.2
{filler2}
\\3-grams:
-0.4\t<s> a b\t-0.1
-0.3\ta b c\t-0.12
-0.2\td e a\t0
{filler3}
\\4-grams:
-0.1\ta b c d

\\end\\
"""
PRUNED = PRUNED_TEMPLATE.format(
    filler1="".join(f"-2.5\tf{i}\t-0.2\n" for i in range(10)).rstrip("\n"),
    filler2="".join(f"-0.8\tf{i} f{i + 1}\t-0.1\n" for i in range(9)).rstrip("\n"),
    filler3="".join(f"-0.3\tf{i} f{i + 1} f{i + 2}\t0\n" for i in range(8)).rstrip("\n"),
)

# Blanks, as KenLM makes them: p(longest shorter suffix) + backoff(context).
C_D = -1.5 + -0.1  # p(d) + bo(c)
E_A = -1.2 + -0.35  # p(a) + bo(e)
B_C_D = C_D + -0.05  # blank(c d) + bo(b c)

# (sentence, bos, eos) -> [(log10 p, n-gram length, oov)] worked out by hand.
EXPECTED = {
    ("a b c d", False, False): [
        (-1.2, 1, False),
        (-0.7, 2, False),
        (-0.3, 3, False),
        (-0.1, 4, False),
    ],
    # <unk> b c d: the blanks are matched (KenLM counts them in the length).
    ("zzz b c d", False, False): [
        (-2.0, 1, True),
        (-1.3, 1, False),
        (-0.5, 2, False),
        (B_C_D, 3, False),
    ],
    ("c d", False, False): [(-1.4, 1, False), (C_D, 2, False)],
    ("e a", False, False): [(-1.6, 1, False), (E_A, 2, False)],
    ("d e a", False, False): [(-1.5, 1, False), (-0.9, 2, False), (-0.2, 3, False)],
    ("a b c d", True, True): [
        (-0.6, 2, False),
        (-0.4, 3, False),
        (-0.3 + -0.1, 3, False),  # a b c, charged bo(<s> a b)
        (-0.1, 4, False),
        (-0.8 + -0.4, 1, False),  # </s> after b c d: bo(d); the blanks back off 0
    ],
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


@pytest.fixture()
def pruned(tmp_path: Path) -> Path:
    return write(tmp_path, "pruned.arpa", PRUNED)


def kenlm_model(path: Path) -> object:
    kenlm = require_module("kenlm", "pip install kenlm")
    return kenlm.Model(str(path))


@pytest.mark.parametrize("case", list(EXPECTED), ids=lambda c: f"{c[0]}|bos={c[1]}|eos={c[2]}")
def test_pruned_file_scores_through_blanks(pruned: Path, case: tuple[str, bool, bool]) -> None:
    lm = nextword.NGramLM.load(pruned)
    sentence, bos, eos = case
    got = lm.full_scores(sentence, bos=bos, eos=eos)
    assert [(t.ngram_length, t.oov) for t in got] == [(n, o) for _, n, o in EXPECTED[case]]
    for t, (lp, _, _) in zip(got, EXPECTED[case]):
        assert t.logprob == pytest.approx(lp, abs=1e-6)


def test_blanks_are_added_to_the_levels(pruned: Path) -> None:
    lm = nextword.NGramLM.load(pruned)
    # c d and e a at order 2, b c d at order 3.
    assert lm.sizes() == [18, 15, 12, 1]


def test_pruned_file_matches_kenlm(pruned: Path) -> None:
    km = kenlm_model(pruned)
    lm = nextword.NGramLM.load(pruned)
    for sentence, bos, eos in EXPECTED:
        theirs = list(km.full_scores(sentence, bos=bos, eos=eos))  # type: ignore[attr-defined]
        ours = lm.full_scores(sentence, bos=bos, eos=eos)
        assert [(t.ngram_length, t.oov) for t in ours] == [(n, o) for _, n, o in theirs]
        for t, (p, _, _) in zip(ours, theirs):
            assert t.logprob == pytest.approx(p, abs=1e-5)


def test_pruned_file_perplexity(pruned: Path, tmp_path: Path) -> None:
    text = tmp_path / "test.txt"
    sentences = ["a b c d", "zzz b c d e a", "d e a b c d", "c d e"]
    text.write_text("\n".join(sentences) + "\n", encoding="utf-8")
    lm = nextword.NGramLM.load(pruned)
    # Per-token figures summed by hand from the same rules, via the reference.
    ref = reference.load_arpa(pruned)
    total = sum(sum(reference.arpa_scores(ref, s.split(), bos=True, eos=True)) for s in sentences)
    tokens = sum(len(s.split()) + 1 for s in sentences)
    ppl = lm.perplexity(text, progress=False)
    assert ppl.tokens == tokens
    assert ppl.perplexity == pytest.approx(10 ** (-total / tokens), rel=1e-6)
    try:
        km = kenlm_model(pruned)
    except pytest.skip.Exception:
        return
    kenlm_total = sum(km.score(s, bos=True, eos=True) for s in sentences)  # type: ignore[attr-defined]
    assert ppl.perplexity == pytest.approx(10 ** (-kenlm_total / tokens), rel=1e-6)


def test_reference_reads_pruned_files_as_the_core(pruned: Path) -> None:
    ref = reference.load_arpa(pruned)
    lm = nextword.NGramLM.load(pruned)
    for sentence, bos, eos in EXPECTED:
        ours = [t.logprob for t in lm.full_scores(sentence, bos=bos, eos=eos)]
        theirs = reference.arpa_scores(ref, sentence.split(), bos=bos, eos=eos)
        assert ours == pytest.approx(theirs, abs=1e-5)
        assert [t.ngram_length for t in lm.full_scores(sentence, bos=bos, eos=eos)] == (
            reference.arpa_lengths(ref, sentence.split(), bos=bos, eos=eos)
        )


NO_UNK = """
\\data\\
ngram 1=4
ngram 2=2

\\1-grams:
-99\t<s>\t-0.3
-0.7\t</s>\t0
-0.5\ta\t-0.2
-0.6\tb\t0

\\2-grams:
-0.2\t<s> a
-0.3\ta b

\\end\\
"""


def test_missing_unk_scores_minus_100(tmp_path: Path) -> None:
    path = write(tmp_path, "nounk.arpa", NO_UNK)
    with pytest.warns(UserWarning, match="no <unk>.*-100"):
        lm = nextword.NGramLM.load(path)
    got = lm.full_scores("a zzz b", bos=True, eos=True)
    assert [(t.ngram_length, t.oov) for t in got] == [(2, False), (1, True), (1, False), (1, False)]
    assert got[1].logprob == pytest.approx(-100.0 + -0.2)  # <unk> plus bo(a)
    assert got[2].logprob == pytest.approx(-0.6)  # <unk> backs off 0
    text = tmp_path / "t.txt"
    text.write_text("a zzz b\n", encoding="utf-8")
    ppl = lm.perplexity(text, progress=False)
    assert ppl.oovs == 1 and math.isfinite(ppl.perplexity) and ppl.perplexity > 1e20
    try:
        km = kenlm_model(path)
    except pytest.skip.Exception:
        return
    theirs = list(km.full_scores("a zzz b"))  # type: ignore[attr-defined]
    for t, (p, n, oov) in zip(got, theirs):
        assert (t.logprob, t.ngram_length, t.oov) == (pytest.approx(p, abs=1e-4), n, oov)


MISSING_CONTEXT = """
\\data\\
ngram 1=4
ngram 2=1
ngram 3=1

\\1-grams:
-1\t<unk>\t0
-1\tx\t0
-1\ty\t0
-1\tz\t0

\\2-grams:
-0.5\ty z\t0

\\3-grams:
-0.1\tx y z

\\end\\
"""


def test_missing_context_is_refused_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "noctx.arpa", MISSING_CONTEXT)
    with pytest.raises(nextword.ModelFormatError, match=r"line 16:.*\"x y z\".*\"x y\""):
        nextword.NGramLM.load(path)
    with pytest.raises(ValueError, match="line 16"):
        reference.load_arpa(path)


def test_comment_lines_before_data_are_skipped_text_is_not(tmp_path: Path) -> None:
    path = write(tmp_path, "c.arpa", "# made by hand\n\n" + NO_UNK.lstrip("\n"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert nextword.NGramLM.load(path).sizes() == [5, 2]
    path = write(tmp_path, "bad.arpa", "hello\n" + NO_UNK.lstrip("\n"))
    with pytest.raises(nextword.ModelFormatError, match="line 1: not an ARPA file"):
        nextword.NGramLM.load(path)


# -- zeros survive ARPA --------------------------------------------------------------


def test_mle_zeros_are_never_written_as_finite(tmp_path: Path) -> None:
    """An MLE model's zero backoff weights have no ARPA form KenLM accepts (it
    refuses infinite backoffs; SRILM's -99 made -inf scores finite): refused."""
    lm = nextword.NGramLM.fit(["a b c", "a c b"], order=2, smoothing="mle", progress=False)
    assert lm.score("b a", bos=True, eos=True) == -math.inf
    with pytest.raises(ValueError, match=r"zero backoff weights.*\.nwlm"):
        lm.save(tmp_path / "mle.arpa")
    assert not (tmp_path / "mle.arpa").exists()
    lm.save(tmp_path / "mle.nwlm")
    assert nextword.NGramLM.load(tmp_path / "mle.nwlm").score("b a") == -math.inf


ZERO_PROB = """
\\data\\
ngram 1=4
ngram 2=1

\\1-grams:
-inf\t<unk>\t0
-99\t<s>\t-0.3
-0.5\t</s>\t0
-0.2\ta\t0

\\2-grams:
-inf\t<s> a

\\end\\
"""


def test_zero_probabilities_round_trip_as_minus_inf(tmp_path: Path) -> None:
    path = write(tmp_path, "zero.arpa", ZERO_PROB)
    lm = nextword.NGramLM.load(path)
    assert [t.logprob for t in lm.full_scores("a zz")] == [-math.inf, -math.inf, -0.5]
    lm.save(tmp_path / "again.arpa")
    text = (tmp_path / "again.arpa").read_text(encoding="utf-8")
    assert "-inf\t<unk>" in text and "-inf\t<s> a" in text
    again = nextword.NGramLM.load(tmp_path / "again.arpa")
    assert [t.logprob for t in again.full_scores("a zz")] == [-math.inf, -math.inf, -0.5]
    try:
        km = kenlm_model(tmp_path / "again.arpa")
    except pytest.skip.Exception:
        return
    assert [p for p, _, _ in km.full_scores("a zz")] == [-math.inf, -math.inf, -0.5]  # type: ignore[attr-defined]


# -- the tokenizer travels with the model --------------------------------------------

TEXT = ["孙悟空笑道", "孙悟空大怒", "那孙悟空见了", "八戒笑道"]


def char_model() -> nextword.NGramLM:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # discount fallbacks on so little text
        return nextword.NGramLM.fit(TEXT, order=3, tokenizer="char", progress=False)


@pytest.mark.parametrize("suffix", [".arpa", ".arpa.gz", ".nwlm"])
def test_tokenizer_recorded_with_the_model(tmp_path: Path, suffix: str) -> None:
    lm = char_model()
    path = tmp_path / f"m{suffix}"
    lm.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = nextword.NGramLM.load(path)
    assert again.tokenizer.spec == "char"
    assert again.predict("孙悟", k=1)[0][0] == "空"
    assert again.score("孙悟空笑道") == pytest.approx(lm.score("孙悟空笑道"), abs=1e-6)
    with pytest.warns(
        UserWarning, match="trained with the tokenizer .char. but is read with .whitespace."
    ):
        other = nextword.NGramLM.load(path, tokenizer="whitespace")
    assert other.tokenizer.spec == "whitespace"


def test_whitespace_arpa_stays_lmplz_identical(tmp_path: Path) -> None:
    lm = nextword.NGramLM.fit(["a b c", "a c b"], order=2, smoothing="witten-bell", progress=False)
    path = tmp_path / "w.arpa"
    lm.save(path)
    assert path.read_text(encoding="utf-8").startswith("\\data\\\n")


def test_kenlm_reads_a_file_with_a_tokenizer_note(tmp_path: Path) -> None:
    lm = char_model()
    path = tmp_path / "char.arpa"
    lm.save(path)
    assert path.read_text(encoding="utf-8").startswith("# nextword tokenizer: char\n")
    km = kenlm_model(path)
    spaced = " ".join("孙悟空笑道")
    assert km.score(spaced) == pytest.approx(lm.score("孙悟空笑道"), abs=1e-5)  # type: ignore[attr-defined]


# -- differential: random pruned files, core against the reference -------------------


def prune(arpa: str, rng: random.Random, share: float) -> str:
    """Drop a share of the n-grams of orders 2..N-1 that no kept n-gram needs as
    its context (the way SRILM prunes: suffixes may go, contexts stay)."""
    lines = arpa.split("\n")
    sections: dict[int, list[int]] = {}
    n = 0
    for i, line in enumerate(lines):
        if line.startswith("\\") and line.endswith("-grams:"):
            n = int(line[1:-7])
        elif n and line and not line.startswith("\\"):
            sections.setdefault(n, []).append(i)
    top = max(sections)
    drop: set[int] = set()
    needed: set[tuple[str, ...]] = set()
    for order in range(top, 1, -1):
        for i in sections[order]:
            words = tuple(lines[i].split("\t")[1].split(" "))
            if order < top and words not in needed and rng.random() < share:
                drop.add(i)
            else:
                needed.add(words[:-1])
    kept = [line for i, line in enumerate(lines) if i not in drop]
    text = "\n".join(kept)
    for order, rows in sections.items():
        count = sum(1 for i in rows if i not in drop)
        text = text.replace(f"ngram {order}={len(rows)}\n", f"ngram {order}={count}\n", 1)
    return text


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), order=st.integers(3, 5), share=st.floats(0.1, 0.9))
def test_random_pruned_files_score_as_the_reference(
    tmp_path_factory: pytest.TempPathFactory, seed: int, order: int, share: float
) -> None:
    rng = random.Random(seed)
    words = "abcdefg"
    corpus = [" ".join(rng.choice(words) for _ in range(rng.randint(1, 9))) for _ in range(40)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = nextword.NGramLM.fit(corpus, order=order, smoothing="witten-bell", progress=False)
    path = tmp_path_factory.mktemp("pruned") / "m.arpa"
    lm.save(path)
    path.write_text(prune(path.read_text(encoding="utf-8"), rng, share), encoding="utf-8")
    pruned = nextword.NGramLM.load(path)
    ref = reference.load_arpa(path)
    for _ in range(10):
        tokens = [rng.choice(words + "x") for _ in range(rng.randint(0, 10))]
        bos = rng.random() < 0.8
        ours = pruned.full_scores(tokens, bos=bos, eos=True)
        assert [t.logprob for t in ours] == pytest.approx(
            reference.arpa_scores(ref, tokens, bos=bos, eos=True), abs=1e-4
        )
        assert [t.ngram_length for t in ours] == reference.arpa_lengths(
            ref, tokens, bos=bos, eos=True
        )
