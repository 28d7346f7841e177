"""Perplexity filtering, exact and span deduplication, corpus statistics and
their CLI (nextword.filter, nextword.stats, nextword.filter_cli)."""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path

import nextword
import numpy as np
import pytest
from nextword import _core
from nextword.cli import main
from nextword.filter import dedup_exact, dedup_spans, filter_corpus
from nextword.stats import corpus_stats, text_histogram

CLEAN = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog sat on the mat",
    "the dog ran to the cat",
    "a bird sat on the log",
] * 4


@pytest.fixture(scope="module")
def lm() -> nextword.NGramLM:
    with warnings.catch_warnings():  # too small for Kneser-Ney's discounts: the fallback
        warnings.simplefilter("ignore")
        return nextword.NGramLM.fit(CLEAN, order=3)


def _garbage(rng: random.Random, n: int) -> str:
    return " ".join("".join(rng.choice("qxzjkv") for _ in range(5)) for _ in range(n))


def _jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_threshold_keeps_order_fields_and_perplexity(lm: nextword.NGramLM, tmp_path: Path) -> None:
    rng = random.Random(0)
    texts = [CLEAN[i % 20] if i % 3 else _garbage(rng, 6) for i in range(30)]
    texts[4] = "the cat sat on the mat\nthe dog ran to the cat"  # two lines, one document
    records = [{"id": i, "text": t, "meta": {"i": i}} for i, t in enumerate(texts)]
    src = _jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    want_ppl = [lm.perplexity([t]).perplexity for t in texts]
    threshold = sorted(want_ppl)[15]
    s = filter_corpus(lm, src, out, threshold=threshold)
    got = [json.loads(line) for line in out.read_text().splitlines()]
    kept = [i for i, p in enumerate(want_ppl) if p <= threshold]
    assert [r["id"] for r in got] == kept  # in input order
    assert 0 < len(kept) < len(texts)
    for r in got:
        assert list(r) == ["id", "text", "meta", "perplexity", "bucket"]
        assert r["meta"] == {"i": r["id"]} and r["bucket"] == "keep"
        assert r["perplexity"] == pytest.approx(want_ppl[r["id"]], rel=1e-9)
    assert s.buckets["keep"].documents == len(kept)
    assert s.buckets["drop"].documents == len(texts) - len(kept)
    assert s.kept.words == sum(len(texts[i].split()) for i in kept)
    assert s.documents == len(texts)


def test_percentile_buckets_as_ccnet(lm: nextword.NGramLM, tmp_path: Path) -> None:
    rng = random.Random(1)
    texts = [CLEAN[i % 20] if i % 2 else _garbage(rng, 1 + i % 7) for i in range(200)]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(texts) + "\n")
    out = tmp_path / "out.jsonl"
    _core.set_chunk_bytes(300)  # many chunks, several workers, in order all the same
    try:
        s = filter_corpus(lm, src, out, sample=120, jsonl=True, threads=3)
    finally:
        _core.set_chunk_bytes(0)
    ppl = np.array([lm.perplexity([t]).perplexity for t in texts])
    assert s.cutoffs == pytest.approx(list(np.percentile(ppl[:120], [30, 60])), rel=1e-12)
    assert s.sample_documents == 120
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["text"] for r in got] == texts
    names = np.where(ppl <= s.cutoffs[0], "head", np.where(ppl <= s.cutoffs[1], "middle", "tail"))
    assert [r["bucket"] for r in got] == list(names)
    assert {k: v.documents for k, v in s.buckets.items()} == {
        "head": int((names == "head").sum()),
        "middle": int((names == "middle").sum()),
        "tail": int((names == "tail").sum()),
        "short": 0,
    }
    # Text output: the lines of the kept buckets, as they were.
    out_txt = tmp_path / "head.txt"
    filter_corpus(
        lm, src, out_txt, cutoffs=s.cutoffs, buckets=("head", "middle", "tail"), keep=("head",)
    )
    assert out_txt.read_text().splitlines() == [t for t, n in zip(texts, names) if n == "head"]


def test_short_documents_dropped_or_marked(lm: nextword.NGramLM, tmp_path: Path) -> None:
    src = _jsonl(tmp_path / "in.jsonl", [{"text": t} for t in ["the cat", "", CLEAN[0]]])
    out = tmp_path / "out.jsonl"
    s = filter_corpus(lm, src, out, threshold=1e9, min_words=3)
    assert [json.loads(x)["text"] for x in out.read_text().splitlines()] == [CLEAN[0]]
    assert s.buckets["short"].documents == 2
    filter_corpus(lm, src, out, threshold=1e9, min_words=3, short="mark")
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["bucket"] for r in got] == ["short", "short", "keep"]
    assert got[1]["perplexity"] is None  # no line, no token


def test_file_unit_writes_one_record_per_file(lm: nextword.NGramLM, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("\n".join(CLEAN[:5]) + "\n")
    (tmp_path / "b.txt").write_text(_garbage(random.Random(2), 30) + "\n")
    out = tmp_path / "files.jsonl"
    filter_corpus(lm, [tmp_path / "a.txt", tmp_path / "b.txt"], out, unit="file", threshold=1e12)
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert [Path(r["path"]).name for r in got] == ["a.txt", "b.txt"]
    assert got[0]["perplexity"] == pytest.approx(lm.perplexity(CLEAN[:5]).perplexity)
    assert got[0]["words"] == sum(len(t.split()) for t in CLEAN[:5])


def test_kept_records_are_their_lines_with_two_fields_added(
    lm: nextword.NGramLM, tmp_path: Path
) -> None:
    # A record is not re-serialized: its bytes (spacing, a number no float
    # holds, escapes) stay, the fields go before its closing brace; a record
    # that already has one is rewritten with the value replaced in place; a
    # record with bad UTF-8 (errors="replace") is written as valid UTF-8.
    src = tmp_path / "in.jsonl"
    src.write_bytes(
        b'{ "id" : 123456789012345678901234567890, "text": "the cat sat on the mat" }  \n'
        b'{"perplexity": 1, "text": "the dog sat on the log", "x": 2}\n'
        b'{"text": "the \xff dog", "bucket": "old"}\n'
        b'{"text": "a bird sat on the log", "t\\u0065xt2": "\\u00e9"}\n'
    )
    out = tmp_path / "out.jsonl"
    filter_corpus(lm, src, out, threshold=1e300, errors="replace")
    lines = out.read_bytes().split(b"\n")
    assert lines[0].startswith(b'{ "id" : 123456789012345678901234567890, "text": ')
    assert lines[0].endswith(b',"bucket":"keep"}')
    assert lines[3].startswith(b'{"text": "a bird sat on the log", "t\\u0065xt2": "\\u00e9",')
    got = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [list(r) for r in got] == [
        ["id", "text", "perplexity", "bucket"],
        ["perplexity", "text", "x", "bucket"],
        ["text", "bucket", "perplexity"],
        ["text", "text2", "perplexity", "bucket"],
    ]
    want = lm.perplexity(["the dog sat on the log"]).perplexity
    assert got[1]["perplexity"] == pytest.approx(want)
    assert got[2]["text"] == "the \ufffd dog" and got[2]["bucket"] == "keep"


def test_exact_dedup_copies_lines_across_chunks_and_line_ends(tmp_path: Path) -> None:
    # Kept lines are copied in runs: CRLF lines come out with LF, a last line
    # without one gets one, and every chunk size and thread count agree.
    rng = random.Random(5)
    words = ["Alpha", "beta,", "GAMMA", "delta", "é", "ÉTÉ", "x\x0by", "1984"]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 3))) for _ in range(300)]
    ends = [rng.choice(["\n", "\r\n"]) for _ in lines]
    src = tmp_path / "in.txt"
    src.write_bytes(("".join(line + end for line, end in zip(lines, ends)) + "last line").encode())

    def key(line: str) -> str:
        kept = "".join(
            "0" if c.isnumeric() else c.lower() if c.isalnum() else " " if c.isspace() else ""
            for c in line
        )
        return " ".join(kept.split())

    seen: set[str] = set()
    want = []
    for line in [*lines, "last line"]:
        k = key(line)
        if k and k in seen:
            continue
        seen.add(k)
        want.append(line + "\n")
    for threads, chunk in ((1, 0), (2, 64), (3, 300)):
        _core.set_chunk_bytes(chunk)
        try:
            s = dedup_exact(src, tmp_path / "out.txt", threads=threads)
        finally:
            _core.set_chunk_bytes(0)
        assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "".join(want)
        assert s.distinct == len({key(x) for x in [*lines, "last line"]} - {""})


def test_bad_input_follows_the_errors_policy(lm: nextword.NGramLM, tmp_path: Path) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_bytes(
        b'{"text": "the cat sat"}\nnot json\n{"body": "x"}\n{"text": "the \xff dog"}\n'
        b'{"text": "the dog sat on the log"}\n'
    )
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    with pytest.raises(nextword.CorpusError) as e:
        filter_corpus(lm, src, out, threshold=1e9)
    assert e.value.line == 2 and "JSON" in str(e.value)
    assert out.read_text() == "old\n"  # atomic: a failed run leaves the file as it was
    s = filter_corpus(lm, src, out, threshold=1e9, errors="skip")
    assert s.read["skipped_json"] == 1 and s.read["skipped_field"] == 1
    assert s.read["skipped_utf8"] == 1 and s.documents == 2
    with pytest.raises(nextword.CorpusError) as e:
        filter_corpus(lm, src, out, threshold=1e9, errors="replace")
    assert e.value.line == 2


def test_clear_errors(lm: nextword.NGramLM, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(nextword.EmptyCorpusError):
        filter_corpus(lm, empty, tmp_path / "o.jsonl", threshold=10)
    src = _jsonl(tmp_path / "in.jsonl", [{"text": CLEAN[0]}])
    for bad in (0.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="at least 1|>= 1"):
            filter_corpus(lm, src, tmp_path / "o.jsonl", threshold=bad)
    with pytest.raises(ValueError, match="percentiles"):
        filter_corpus(lm, src, tmp_path / "o.jsonl", percentiles=(60, 30))
    foreign = _jsonl(tmp_path / "zh.jsonl", [{"text": "西 游 记 第 一 回"}] * 3)
    with pytest.raises(ValueError, match="knows none"):
        filter_corpus(lm, foreign, tmp_path / "o.jsonl", threshold=10)
    assert not (tmp_path / "o.jsonl").exists()


def test_exact_dedup_documents_and_lines(tmp_path: Path) -> None:
    rng = random.Random(3)
    words = ["alpha", "beta", "gamma", "delta", "eps"]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 4))) for _ in range(400)]
    src = tmp_path / "in.txt"
    src.write_text("\n".join(lines) + "\n")
    seen: set[str] = set()
    want = []
    for line in lines:
        key = " ".join(line.split())
        if key and key in seen:
            continue
        seen.add(key)
        want.append(line)
    outs = []
    for threads, chunk in ((1, 0), (3, 200)):
        _core.set_chunk_bytes(chunk)
        try:
            out = tmp_path / f"out{threads}.txt"
            s = dedup_exact(src, out, threads=threads)
        finally:
            _core.set_chunk_bytes(0)
        outs.append(out.read_text())
        assert out.read_text().splitlines() == want
        assert s.duplicate_documents == len(lines) - len(want)
        assert s.duplicate_words == sum(len(x.split()) for x in lines) - sum(
            len(x.split()) for x in want
        )
    assert outs[0] == outs[1]
    recs = _jsonl(
        tmp_path / "r.jsonl",
        [{"text": "Same line.\nother"}, {"text": "same LINE\nnew"}, {"text": "OTHER"}],
    )
    s = dedup_exact(recs, tmp_path / "r_out.jsonl", unit="lines")
    got = [json.loads(x)["text"] for x in (tmp_path / "r_out.jsonl").read_text().splitlines()]
    assert got == ["Same line.\nother", "new"]
    assert (s.duplicate_lines, s.duplicate_documents) == (2, 1)
    dedup_exact(recs, tmp_path / "m.jsonl", mark=True)
    marks = [json.loads(x)["duplicate"] for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert marks == [False, False, False]
    with pytest.raises(ValueError, match="JSONL"):
        dedup_exact(src, tmp_path / "m.txt", mark=True)


def _covered_brute_force(lines: list[list[str]], n: int) -> list[list[bool]]:
    """Which tokens lie in an n-gram that occurred earlier (in corpus order)."""
    first: dict[tuple[str, ...], tuple[int, int]] = {}
    out = [[False] * len(t) for t in lines]
    for li, toks in enumerate(lines):
        for i in range(len(toks) - n + 1):
            g = tuple(toks[i : i + n])
            if g in first:
                for j in range(i, i + n):
                    out[li][j] = True
            else:
                first[g] = (li, i)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_span_dedup_matches_brute_force(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    lines = [
        [rng.choice("abc") for _ in range(rng.randint(0, 12))] for _ in range(rng.randint(1, 40))
    ]
    n = rng.randint(1, 4)
    src = tmp_path / "in.txt"
    src.write_text("".join(" ".join(t) + "\n" for t in lines))
    out = tmp_path / "out.txt"
    s = dedup_spans(src, out, min_tokens=n, threads=2)
    covered = _covered_brute_force(lines, n)
    want = []
    for toks, cov in zip(lines, covered):
        kept = [t for t, c in zip(toks, cov) if not c]
        if toks and not kept:
            continue
        want.append(kept)
    assert [line.split() for line in out.read_text().splitlines()] == want
    assert s.duplicate_words == sum(map(sum, covered))
    assert s.words == sum(map(len, lines))


def test_span_dedup_marks_records(tmp_path: Path) -> None:
    rep = "one two three four five"
    src = _jsonl(tmp_path / "in.jsonl", [{"text": f"x {rep}"}, {"text": f"é y\n{rep} z"}])
    dedup_spans(src, tmp_path / "m.jsonl", min_tokens=5, mark=True)
    got = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert got[0]["duplicate_spans"] == []
    a, b = got[1]["duplicate_spans"][0]
    assert got[1]["text"][a:b] == rep + " "
    dedup_spans(src, tmp_path / "r.jsonl", min_tokens=5)
    got = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [r["text"] for r in got] == [f"x {rep}", "é y\nz"]
    # A span may cross the lines of a record; a record left without words goes.
    lines = _jsonl(tmp_path / "l.jsonl", [{"text": rep}, {"text": "one two\nthree four five"}])
    s = dedup_spans(lines, tmp_path / "l_out.jsonl", min_tokens=5)
    kept = [json.loads(x) for x in (tmp_path / "l_out.jsonl").read_text().splitlines()]
    assert kept == [{"text": rep}]
    assert (s.duplicate_words, s.emptied_documents) == (5, 1)


def test_stats(lm: nextword.NGramLM, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("the cat sat\nthe cat sat\na dog\n\n")
    s = corpus_stats(src, model=lm)
    assert (s.documents, s.tokens, s.types) == (4, 8, 5)
    assert s.duplicate_documents == 1 and s.duplicate_share == pytest.approx(3 / 8)
    assert s.top_ngrams[2][0] == (("the", "cat"), 2)
    assert s.top_share[1] == pytest.approx(1.0)  # 5 types, top 10: all unigrams
    assert list(s.lengths) == [3, 3, 2, 0]
    assert s.perplexities is not None
    assert s.perplexities[0] == pytest.approx(lm.perplexity(["the cat sat"]).perplexity)
    text = s.format()
    assert "type/token 0.6250" in text and "perplexity: median" in text
    assert len(text_histogram([1, 10, 100], bins=3)) == 4


def test_cli_filter_dedup_stats(
    lm: nextword.NGramLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "m.arpa"
    lm.save(model)
    rng = random.Random(4)
    texts = CLEAN + [_garbage(rng, 6) for _ in range(10)] + CLEAN[:3]
    src = _jsonl(tmp_path / "in.jsonl", [{"text": t, "n": i} for i, t in enumerate(texts)])
    out = tmp_path / "out.jsonl"
    assert main(["filter", str(model), str(src), "-o", str(out), "--threshold", "100", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "kept" in printed and "cutoffs: 100.00 (given)" in printed
    assert all(json.loads(x)["bucket"] == "keep" for x in out.read_text().splitlines())
    dd = tmp_path / "dd.jsonl"
    assert main(["dedup", str(src), "-o", str(dd), "--spans", "3", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "exact:" in printed and "spans of >= 3 tokens" in printed
    assert len(dd.read_text().splitlines()) == 15  # 5 distinct clean + 10 garbage
    assert main(["stats", str(src), "--model", str(model), "-q"]) == 0
    assert "duplicate documents 18" in capsys.readouterr().out
    assert main(["filter", str(model), str(src), "-o", str(out), "--threshold", "0"]) == 1
    assert ">= 1" in capsys.readouterr().err
