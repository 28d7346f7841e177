"""The demo's opening: the explainer's own tiny experiment, by hand-sized numbers.

Two sentences on one theme (a cocktail recipe), in English and in Chinese;
a bigram model counts which word follows which, the counts are shown as a
table, and new sentences are drawn from it: pieces of the two originals
recombined where they share a word. The real corpus then goes through the
same steps.
"""

from __future__ import annotations

import unicodedata
import warnings

from nextword.counts import count_ngrams
from nextword.lm import NGramLM
from nextword.tokenizers import CharTokenizer, Tokenizer, WhitespaceTokenizer

RECIPES: list[tuple[str, list[str], Tokenizer]] = [
    (
        "English",
        [
            "shake the gin with ice and pour it over the lime",
            "stir the rum with lime and pour it over crushed ice",
        ],
        WhitespaceTokenizer(),
    ),
    (
        "Chinese (one token per character)",
        ["把金酒和冰块一起摇匀再倒在青柠上", "把朗姆酒和青柠一起搅匀再倒在碎冰上"],
        CharTokenizer(),
    ),
]


def display_width(text: str) -> int:
    """Terminal columns of ``text``: two for each wide (CJK) character.

    >>> display_width("gin"), display_width("金酒")
    (3, 4)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def successor_table(sentences: list[str], tokenizer: Tokenizer) -> list[tuple[str, str]]:
    """The bigram counts of ``sentences`` as rows: a word, and what followed it
    with how often (``"gin 1, rum 1"``), in order of first appearance.

    >>> successor_table(["a b a c"], WhitespaceTokenizer())[:2]
    [('<s>', 'a 1'), ('a', 'b 1, c 1')]
    """
    counts = count_ngrams(sentences, order=2, tokenizer=tokenizer, progress=False)
    following: dict[str, list[tuple[str, int]]] = {}
    for (first,), _ in counts.items(1):
        following.setdefault(first, [])
    for (first, second), c in counts.items(2):
        following.setdefault(first, []).append((second, c))
    return [
        (word, ", ".join(f"{w} {c}" for w, c in nexts))
        for word, nexts in following.items()
        if nexts
    ]


def recombined(
    sentences: list[str], tokenizer: Tokenizer, want: int = 3, tries: int = 200, longest: int = 16
) -> list[str]:
    """Up to ``want`` sentences the bigram model of ``sentences`` generates
    that are neither of the originals (nor longer than ``longest`` tokens:
    the model loops happily), drawn with seeds 0, 1, 2, ...

    >>> recombined(["a cat sat down", "the dog sat up"], WhitespaceTokenizer(), want=2)
    ['the dog sat down', 'a cat sat up']
    """
    with warnings.catch_warnings():  # MLE of two sentences: nothing to warn about here
        warnings.simplefilter("ignore")
        lm = NGramLM.fit(sentences, order=2, smoothing="mle", tokenizer=tokenizer, progress=False)
    originals = {tuple(tokenizer.tokenize(s)) for s in sentences}
    found: list[str] = []
    for seed in range(tries):
        text = lm.generate(max_tokens=longest + 1, seed=seed)
        tokens = tuple(tokenizer.tokenize(text))
        if len(tokens) <= longest and tokens not in originals and text not in found:
            found.append(text)
            if len(found) == want:
                break
    return found


def run_explainer_demo() -> None:
    """Print the tiny experiment (a fraction of a second)."""
    print("\n== 0. the explainer's experiment: a bigram model of two sentences " + "=" * 1)
    print("count which word follows which, then play: pick a next word in proportion")
    print("to its count, append it, repeat until </s>.")
    for language, sentences, tokenizer in RECIPES:
        print(f"\n{language}:")
        for s in sentences:
            print(f"  {s}")
        rows = successor_table(sentences, tokenizer)
        width = max(display_width(w) for w, _ in rows) + 2
        print(f"  {'after':<{width}} comes (count)")
        for word, nexts in rows:
            print(f"  {word}{' ' * (width - display_width(word))} {nexts}")
        print("  new sentences from these counts (seen in neither original):")
        for text in recombined(sentences, tokenizer):
            print(f"    {text}")
    print("\nThe rest of the demo takes the same steps on a real corpus.")
