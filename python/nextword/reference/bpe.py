"""Byte-level BPE, the textbook way: GPT-2's pre-tokenizer written out as rules,
a trainer that recounts every pair after every merge, and an encoder that
merges the leftmost lowest-priority pair until none applies.

The Rust core (``nextword.BPETokenizer``) must give the same merges and the
same ids; it is only faster (incremental pair counts, a heap per piece).

Ids: bytes 0..255 (in byte order), then one id per merge that makes a new byte
string, in merge order, then the special tokens in the order given.

Example:
    >>> tokens, merges = train_bpe(["low lower lowest"] * 3, vocab_size=258)
    >>> [tokens[i] for i in range(256, 258)]
    [b'lo', b'low']
    >>> encode(tokens, merges, "lowest")
    [257, 101, 115, 116]
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence

from .corpus import WHITESPACE

CONTRACTIONS = ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d")


def _kind(c: str) -> str:
    """``s`` (White_Space), ``L`` (letter), ``N`` (number) or ``P`` (anything else)."""
    if c in WHITESPACE:
        return "s"
    category = unicodedata.category(c)[0]
    return category if category in "LN" else "P"


def gpt2_pretokenize(text: str) -> list[str]:
    """GPT-2's pattern ``'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+|
    ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+``, one alternative after another."""
    out = []
    i, n = 0, len(text)
    while i < n:
        end = _match_at(text, i)
        out.append(text[i:end])
        i = end
    return out


def _match_at(text: str, i: int) -> int:
    n = len(text)
    for c in CONTRACTIONS:
        if text.startswith(c, i):
            return i + len(c)
    # ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional space, then a run of one kind.
    start = i + 1 if text[i] == " " and i + 1 < n and _kind(text[i + 1]) != "s" else i
    kind = _kind(text[start])
    if kind != "s":
        end = start
        while end < n and _kind(text[end]) == kind:
            end += 1
        return end
    # '\s+(?!\S)' leaves the last space of a run to the word after it; '\s+' otherwise.
    end = i
    while end < n and _kind(text[end]) == "s":
        end += 1
    if end < n and end - i >= 2:
        return end - 1
    return end


def split_specials(text: str, specials: Sequence[str]) -> list[tuple[str, bool]]:
    """``text`` as (piece, is special) parts: the leftmost special token wins,
    the longest when several start at the same place."""
    out: list[tuple[str, bool]] = []
    rest = text
    while rest:
        found = [(rest.find(s), -len(s), s) for s in specials if s and s in rest]
        if not found:
            break
        at, _, s = min(found)
        if at:
            out.append((rest[:at], False))
        out.append((s, True))
        rest = rest[at + len(s) :]
    if rest:
        out.append((rest, False))
    return out


def count_pieces(texts: Iterable[str], specials: Sequence[str] = ()) -> Counter[bytes]:
    """Pre-token counts of the texts (special tokens cut out, not counted)."""
    counts: Counter[bytes] = Counter()
    for text in texts:
        for part, special in split_specials(text, specials):
            if not special:
                counts.update(p.encode() for p in gpt2_pretokenize(part))
    return counts


def train_bpe(
    texts: Iterable[str],
    vocab_size: int,
    min_frequency: int = 2,
    specials: Sequence[str] = (),
) -> tuple[list[bytes], list[tuple[int, int]]]:
    """Learn merges: (token bytes by id, merges in order).

    Each round counts every adjacent pair over the distinct pre-tokens
    (weighted by their counts) and merges the most frequent; ties go to the
    smaller (left id, right id). Stop when ``vocab_size`` ids are used or the
    best pair occurs fewer than ``min_frequency`` times.
    """
    specials = list(dict.fromkeys(s for s in specials if s))
    if vocab_size < 256 + len(specials):
        raise ValueError(f"vocab_size {vocab_size} is below 256 + {len(specials)}")
    tokens = [bytes([b]) for b in range(256)]
    words = [(list(piece), c) for piece, c in sorted(count_pieces(texts, specials).items())]
    merges: list[tuple[int, int]] = []
    while len(tokens) < vocab_size - len(specials):
        pairs: Counter[tuple[int, int]] = Counter()
        for syms, c in words:
            for pair in zip(syms, syms[1:]):
                pairs[pair] += c
        if not pairs:
            break
        pair, count = min(pairs.items(), key=lambda pc: (-pc[1], pc[0]))
        if count < max(min_frequency, 1):
            break
        joined = tokens[pair[0]] + tokens[pair[1]]
        if joined in tokens:
            new = tokens.index(joined)
        else:
            new = len(tokens)
            tokens.append(joined)
        merges.append(pair)
        words = [(merge_word(syms, pair, new), c) for syms, c in words]
    tokens += [s.encode() for s in specials]
    return tokens, merges


def merge_word(syms: list[int], pair: tuple[int, int], new: int) -> list[int]:
    """Replace each occurrence of ``pair``, left to right without overlap, by ``new``."""
    out, i = [], 0
    while i < len(syms):
        if i + 1 < len(syms) and (syms[i], syms[i + 1]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(syms[i])
            i += 1
    return out


def encode_piece(tokens: list[bytes], merges: list[tuple[int, int]], piece: bytes) -> list[int]:
    """The ids of one pre-token: apply the merge of lowest priority among adjacent
    pairs, its leftmost occurrence first, until no merge applies."""
    priority = {pair: rank for rank, pair in enumerate(merges)}
    index: dict[bytes, int] = {}
    for i, t in enumerate(tokens):
        index.setdefault(t, i)  # an ordinary token before a special spelled the same
    syms = list(piece)
    while True:
        ranked = [(priority[p], i) for i, p in enumerate(zip(syms, syms[1:])) if p in priority]
        if not ranked:
            return syms
        _, i = min(ranked)
        syms[i : i + 2] = [index[tokens[syms[i]] + tokens[syms[i + 1]]]]


def encode(
    tokens: list[bytes],
    merges: list[tuple[int, int]],
    text: str,
    specials: Sequence[str] = (),
) -> list[int]:
    """The ids of ``text``: special tokens whole, each pre-token by its merges."""
    ids: list[int] = []
    for part, special in split_specials(text, specials):
        if special:
            ids.append(len(tokens) - len(specials) + list(specials).index(part))
        else:
            for piece in gpt2_pretokenize(part):
                ids += encode_piece(tokens, merges, piece.encode())
    return ids


def decode(tokens: list[bytes], ids: Iterable[int]) -> str:
    """The text of ``ids`` (U+FFFD for bytes that are not UTF-8)."""
    return b"".join(tokens[i] for i in ids).decode("utf-8", errors="replace")
