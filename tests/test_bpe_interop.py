"""BPE files against their home tools: HF ``tokenizers`` loads our
``tokenizer.json`` and encodes identically, we load theirs (GPT-2's layout);
a tiktoken ``Encoding`` built from our rank file encodes identically.
Skipped when the modules are absent (failed in CI, see conftest)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from conftest import require_module
from hypothesis import given, settings
from hypothesis import strategies as st
from nextword import BPETokenizer

TEXTS = [
    "It was the best of times, it was the worst of times, it was the age of wisdom,",
    "it was the age of foolishness, it was the epoch of belief, it was the epoch of",
    "incredulity; 1859 copies were sold.  Don't we'll   they've — naïve café 家族 👍🏽",
    "\tTabs and  double  spaces at the end  ",
] * 4
SAMPLES = TEXTS + ["Unseen words: quixotic zephyr 12345 ¿qué? ☃", "", "   ", "<|end|> the end"]
ALPHABET = "abcdeitwsho XYZ'sltvmrd019 \t.,!?-éüß家族中文😀👍🏽\u00a0"


def tiktoken_from(tiktoken: Any, ours: BPETokenizer, path: Path) -> Any:
    """A tiktoken Encoding of our rank file written to `path`."""
    ours.save_tiktoken(path)
    ranks = {}
    for line in path.read_text().splitlines():
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(
        name="nextword-test",
        pat_str=ours.pattern,
        mergeable_ranks=ranks,
        special_tokens=ours.special_tokens,
    )


@pytest.fixture(scope="module")
def ours() -> BPETokenizer:
    return BPETokenizer.train(TEXTS, vocab_size=400, min_frequency=2, special_tokens=["<|end|>"])


def test_hf_loads_ours_and_encodes_identically(ours: BPETokenizer, tmp_path: Path) -> None:
    tokenizers = require_module("tokenizers", "pip install tokenizers")
    path = tmp_path / "tokenizer.json"
    ours.save(path)
    hf = tokenizers.Tokenizer.from_file(str(path))
    for text in SAMPLES:
        assert hf.encode(text, add_special_tokens=False).ids == ours.encode(text).tolist(), text
        assert hf.decode(ours.encode(text).tolist(), skip_special_tokens=False) == text


def test_we_load_hf_gpt2_layout(tmp_path: Path) -> None:
    tokenizers = require_module("tokenizers", "pip install tokenizers")
    from tokenizers import decoders, models, pre_tokenizers, trainers

    hf = tokenizers.Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=500,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    hf.train_from_iterator(TEXTS, trainer)
    path = tmp_path / "gpt2-layout.json"
    hf.save(str(path))
    ours = BPETokenizer.load(path)
    assert ours.special_tokens == {"<|endoftext|>": 0}
    for text in SAMPLES + ["<|endoftext|>x"]:
        assert ours.encode(text).tolist() == hf.encode(text).ids, text
    ours.save(tmp_path / "again.json")
    assert BPETokenizer.load(tmp_path / "again.json").merges == ours.merges


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=50))
def test_hf_agrees_on_random_text(
    ours: BPETokenizer, tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    tokenizers = require_module("tokenizers", "pip install tokenizers")
    path = tmp_path_factory.mktemp("hf") / "tokenizer.json"
    ours.save(path)
    hf = tokenizers.Tokenizer.from_file(str(path))
    assert hf.encode(text, add_special_tokens=False).ids == ours.encode(text).tolist()


def test_tiktoken_encoding_from_our_ranks(ours: BPETokenizer, tmp_path: Path) -> None:
    tiktoken = require_module("tiktoken", "pip install tiktoken")
    path = tmp_path / "ours.tiktoken"
    enc = tiktoken_from(tiktoken, ours, path)
    for text in SAMPLES:
        assert enc.encode(text, allowed_special="all") == ours.encode(text).tolist(), text
    back = BPETokenizer.load_tiktoken(path, ours.pattern, ours.special_tokens)
    for text in SAMPLES:
        assert back.encode(text).tolist() == ours.encode(text).tolist()


# Every decision of the hand-written GPT-2, cl100k and o200k scanners:
# contractions in both cases (and U+017F, which folds to s), each kind of space
# and newline, digit runs, marks, letters and digits outside ASCII and the
# BMP, emoji; for o200k, case changes: upper, title-case (ǅ), modifier (ʰ) and
# other letters (家), marks, which count as both cases.
SCANNER_ALPHABET = (
    "aeiost SRTVDML'ſ \t\n\r\u000b\u0085\u00a0\u3000 0123٣½.,!-/\u0301\u200d家𝒜𝟘😀ǅǄʰÉ"
)


@pytest.fixture(scope="module", params=["gpt2", "cl100k", "o200k"])
def pattern_pair(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    tiktoken = require_module("tiktoken", "pip install tiktoken")
    texts = (
        TEXTS
        + [
            "Don'T STOP 'RE 'ſ 1234567 x\r\n\r\n  y\n\n z",
            "ab'LL  \u3000cd'Ve",
            "camelCase HTTPServer's iPhone ÉCOLE a/b//\n",
        ]
        * 3
    )
    ours = BPETokenizer.train(texts, vocab_size=420, min_frequency=2, pattern=request.param)
    return ours, tiktoken_from(tiktoken, ours, tmp_path_factory.mktemp("ranks") / "ours.tiktoken")


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=SCANNER_ALPHABET, max_size=40)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20)
)
def test_tiktoken_agrees_with_the_scanners_on_random_text(pattern_pair: Any, text: str) -> None:
    ours, enc = pattern_pair
    assert enc.encode_ordinary(text) == ours.encode(text).tolist()


def test_tiktoken_agrees_with_the_scanners_on_real_text(pattern_pair: Any, shared: Path) -> None:
    """Real text of several scripts: Gutenberg English, Chinese, Shakespeare."""
    ours, enc = pattern_pair
    import gzip

    corpora = shared / "corpora"
    gutenberg = sorted((corpora / "gutenberg").glob("*.txt.gz"))[:2]
    texts = [gzip.open(p, "rt", encoding="utf-8").read()[:200_000] for p in gutenberg]
    texts.append((corpora / "en" / "tinyshakespeare.txt").read_text()[:100_000])
    texts += [p.read_text()[:50_000] for p in sorted((corpora / "zh").glob("*.txt"))[:1]]
    assert len(texts) >= 3
    for text in texts:
        assert enc.encode_ordinary(text) == ours.encode(text).tolist()


def gpt2_bytes_to_unicode() -> list[str]:
    """GPT-2's byte-level alphabet in its id order: printable bytes as
    themselves first, then the others shifted to 256 and up."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    others = [b for b in range(256) if b not in printable]
    return [chr(b) for b in printable] + [chr(256 + i) for i in range(len(others))]


@pytest.mark.parametrize("merge_form", ["strings", "pairs"])
def test_we_load_gpt2s_exact_tokenizer_json_layout(tmp_path: Path, merge_form: str) -> None:
    """No GPT-2 tokenizer.json can be downloaded here, and no installed package
    ships one: this builds one in GPT-2's exact layout (the fields of the hub
    file, the 256 byte symbols in GPT-2's id order, merged tokens after them,
    ``<|endoftext|>`` as the last id in ``added_tokens``; merges as ``"a b"``
    strings, or as pairs as newer ``tokenizers`` write them), from merges HF
    learned, and checks that HF and we load it and encode alike."""
    import json

    tokenizers = require_module("tokenizers", "pip install tokenizers")
    from tokenizers import decoders, models, pre_tokenizers, trainers

    hf = tokenizers.Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=600,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    hf.train_from_iterator(TEXTS, trainer)
    learned = json.loads(hf.to_str())["model"]["merges"]
    pairs = [m.split(" ") if isinstance(m, str) else list(m) for m in learned]
    vocab = {symbol: i for i, symbol in enumerate(gpt2_bytes_to_unicode())}
    for a, b in pairs:
        vocab.setdefault(a + b, len(vocab))
    eot = len(vocab)
    byte_level = {"add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    layout = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": eot,
                "content": "<|endoftext|>",
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": True,
                "special": True,
            }
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", **byte_level},
        "post_processor": {"type": "ByteLevel", **byte_level, "trim_offsets": False},
        "decoder": {"type": "ByteLevel", **byte_level},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "",
            "fuse_unk": False,
            "vocab": vocab,
            "merges": [" ".join(p) for p in pairs] if merge_form == "strings" else pairs,
        },
    }
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(layout, ensure_ascii=False))
    theirs = tokenizers.Tokenizer.from_file(str(path))
    theirs.decoder = decoders.ByteLevel()
    ours = BPETokenizer.load(path)
    assert ours.special_tokens == {"<|endoftext|>": eot}
    assert ours.vocab_size == eot + 1
    for text in SAMPLES + ["<|endoftext|>x", "a<|endoftext|>", "naïve 家族 \x00\x7f"]:
        ids = ours.encode(text).tolist()
        assert ids == theirs.encode(text, add_special_tokens=False).ids, text
        assert ours.decode(ids) == text
    assert ours.encode("!").tolist() == [0]  # GPT-2's id order: "!" is id 0
