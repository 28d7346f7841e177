"""Batched neural scoring: the same figures as the protocol's sentence-by-sentence
scoring, per-sentence scores and JSONL annotation, for every architecture."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from nextword import CorpusError, Vocab
from nextword.model import perplexity as generic_perplexity
from nextword.neural import (
    LSTMLanguageModel,
    MLPLanguageModel,
    NeuralLanguageModel,
    RNNLanguageModel,
    TrainingConfig,
    TransformerLanguageModel,
    train,
)
from nextword.neural.scoring import annotate_jsonl, score_sentences, sentence_logprobs

CORPUS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"] * 4
# Lengths from 1 to 12 tokens (past the Transformer's block of 6), and an unknown word.
TEST = ["the", "a dog", "the cat sat on the log and a dog sat on the mat", "zebra cat", "the mat"]


def trained(kind: str) -> NeuralLanguageModel:
    vocab = Vocab.from_corpus(CORPUS)
    model: NeuralLanguageModel
    if kind == "mlp":
        model = MLPLanguageModel(vocab, order=3, embed_dim=4, hidden_dim=8)
    elif kind == "rnn":
        model = RNNLanguageModel(vocab, embed_dim=8, hidden_dim=8)
    elif kind == "lstm":
        model = LSTMLanguageModel(vocab, embed_dim=8, hidden_dim=8, layers=2, tie_weights=True)
    else:
        model = TransformerLanguageModel(vocab, dim=8, heads=2, layers=1, block_size=6)
    train(model, CORPUS, TrainingConfig(steps=10, batch_size=4, seq_len=6), progress=False)
    return model


@pytest.mark.parametrize("kind", ["mlp", "rnn", "lstm", "transformer"])
def test_batched_equals_sentence_by_sentence(kind: str) -> None:
    model = trained(kind)
    batched = model.perplexity(TEST)
    one_by_one = generic_perplexity(model, TEST)
    assert batched.tokens == one_by_one.tokens == 25 and batched.oovs == one_by_one.oovs == 1
    assert batched.sentences == 5
    assert batched.logprob == pytest.approx(one_by_one.logprob, rel=1e-5)
    assert batched.perplexity_excluding_oovs == pytest.approx(
        one_by_one.perplexity_excluding_oovs, rel=1e-5
    )
    logprob, tokens, oovs = score_sentences(model, TEST)
    assert tokens.tolist() == [2, 3, 14, 3, 3] and oovs.tolist() == [0, 0, 0, 1, 0]
    for sentence, lp in zip(TEST, logprob):
        assert lp == pytest.approx(model.score(sentence), rel=1e-5)
    # Any batch size gives the same scores (one sentence per batch at 1 token).
    ids = [np.array([model.vocab.id(w) for w in s.split()] + [2]) for s in TEST]
    for a, b in zip(sentence_logprobs(model, ids, 1), sentence_logprobs(model, ids, 10**6)):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    with pytest.raises(ValueError, match="batch_tokens"):
        sentence_logprobs(model, ids, 0)


def test_annotate_jsonl(tmp_path: Path) -> None:
    model = trained("lstm")
    records = [{"text": "the cat\nthe dog sat", "n": 1}, {"text": "  ", "n": 2}, {"text": "a"}]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert annotate_jsonl(model, src, out, records_per_batch=2) == 3
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [{k: v for k, v in g.items() if k != "perplexity"} for g in got] == records
    assert got[0]["perplexity"] == pytest.approx(
        model.perplexity(["the cat", "the dog sat"]).perplexity, rel=1e-9
    )
    assert got[1]["perplexity"] is None  # no token: NaN, written null
    assert got[2]["perplexity"] == pytest.approx(model.perplexity(["a"]).perplexity, rel=1e-9)
    # Bad records: an error naming the line, or left out with errors="skip".
    src.write_text('{"text": "a"}\n[1, 2]\n{"body": "a"}\n', encoding="utf-8")
    out.write_text("kept", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"in.jsonl: line 2: invalid JSON object") as info:
        annotate_jsonl(model, src, out)
    assert info.value.line == 2 and info.value.byte == 14
    assert out.read_text(encoding="utf-8") == "kept"  # a failed run leaves the output alone
    src.write_text('{"text": "a"}\n{"body": "a"}\n', encoding="utf-8")
    with pytest.raises(CorpusError, match="line 2: no string field 'text'"):
        annotate_jsonl(model, src, out)
    assert annotate_jsonl(model, src, out, errors="skip") == 1
    assert not math.isnan(json.loads(out.read_text(encoding="utf-8"))["perplexity"])


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_a_sentence_starts_after_a_sentence_end(kind: str) -> None:
    """A recurrent model trained on a stream meets every <s> (but the first)
    right after a </s>: a sentence on its own starts from the state after
    reading </s> from the zero state, in every path (one sentence, the batch,
    the distribution), not from the zero state."""
    from nextword.neural.language_model import BOS, EOS

    model = trained(kind)
    ids = [model.vocab.id(w) for w in "the cat sat on the mat".split()] + [EOS]
    inputs = np.array([[EOS, BOS, *ids[:-1]]], dtype=np.int64)
    logits, _, _ = model.forward(inputs, model.start_state(1))
    z = logits[0, 1:].astype(np.float64)
    z[:, BOS] = -np.inf
    z -= z.max(axis=1, keepdims=True)
    want = (z[np.arange(len(ids)), ids] - np.log(np.exp(z).sum(axis=1))) / math.log(10)
    np.testing.assert_allclose(model.token_logprobs(ids), want, rtol=1e-5)
    np.testing.assert_allclose(sentence_logprobs(model, [np.array(ids)])[0], want, rtol=1e-5)
    p = model.next_distribution(["the", "cat"])
    np.testing.assert_allclose(math.log10(p[ids[2]]), want[2], rtol=1e-5)
    # From the zero state the figures differ: the start state matters.
    cold, _, _ = model.forward(inputs[:, 1:], model.start_state(1))
    assert not np.allclose(cold[0], logits[0, 1:])
