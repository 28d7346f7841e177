"""JSONL in, JSONL out with a perplexity field (CCNet-style data filtering)."""

from __future__ import annotations

import json
from pathlib import Path

import nextword
import pytest
from nextword.cli import main

TRAIN = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"]


@pytest.fixture
def lm() -> nextword.NGramLM:
    # Three sentences are too few for Kneser-Ney discounts: the fallback warns.
    with pytest.warns(UserWarning, match="fallback discounts"):
        return nextword.NGramLM.fit(TRAIN, order=3)


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return path


def test_records_keep_order_and_keys_and_get_their_perplexity(
    lm: nextword.NGramLM, tmp_path: Path
) -> None:
    records = [
        {"id": 3, "text": "the cat sat", "meta": {"x": 1}},
        {"text": "a dog\nthe zebra sat", "id": 1},
        {"id": 2, "text": "the the the"},
    ]
    src = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    assert lm.annotate_jsonl(src, out) == 3
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [list(r) for r in got] == [[*r.keys(), "perplexity"] for r in records]
    for record, annotated in zip(records, got):
        lines = str(record["text"]).split("\n")
        expected = lm.perplexity(lines).perplexity
        assert annotated["perplexity"] == pytest.approx(expected, rel=1e-9)
        assert {k: v for k, v in annotated.items() if k != "perplexity"} == record


def test_bad_record_names_its_line_and_leaves_the_output_alone(
    lm: nextword.NGramLM, tmp_path: Path
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "the cat"}\nnot json\n{"body": "x"}\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    out.write_text("previous results\n", encoding="utf-8")
    with pytest.raises(nextword.CorpusError, match="line 2"):
        lm.annotate_jsonl(src, out)
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert lm.annotate_jsonl(src, out, errors="skip") == 1
    assert json.loads(out.read_text(encoding="utf-8"))["text"] == "the cat"


def test_cli_score_jsonl(
    lm: nextword.NGramLM, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "m.nwlm"
    lm.save(model)
    src = write_jsonl(tmp_path / "in.jsonl", [{"body": "the cat sat"}, {"body": "a dog"}])
    out = tmp_path / "out.jsonl"
    code = main(
        [
            "score",
            str(model),
            str(src),
            "--jsonl",
            "--text-field",
            "body",
            "--field",
            "ppl",
            "-o",
            str(out),
        ]
    )
    assert code == 0
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["body"] for r in got] == ["the cat sat", "a dog"]
    saved = nextword.NGramLM.load(model)
    for r in got:
        assert list(r) == ["body", "ppl"]
        assert r["ppl"] == pytest.approx(saved.perplexity([r["body"]]).perplexity, rel=1e-9)
        assert r["ppl"] == pytest.approx(lm.perplexity([r["body"]]).perplexity, rel=1e-6)
