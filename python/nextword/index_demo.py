"""The demo's closing point, with real numbers: how much of what a model
writes is copied from its corpus? A suffix-array index of the training corpus
measures how many of a generated text's 6-grams never occur in it, for text
from the corpus's own 5-gram model (sampled two ways), from its ∞-gram model
(which copies by construction), from a 5-gram model of another corpus (the
docstrings of standard-library modules), and for the first text's words
shuffled."""

from __future__ import annotations

import importlib
import os
import random
import tempfile

from nextword.index import CorpusIndex
from nextword.lm import NGramLM
from nextword.tokenizers import Tokenizer

MODULES = [
    "argparse", "collections", "email", "functools", "inspect", "itertools", "json",
    "logging", "os", "pathlib", "re", "subprocess", "threading", "typing", "unittest",
]  # fmt: skip


def docstring_corpus() -> list[str]:
    """The non-blank docstring lines of some standard-library modules and their members."""
    lines: list[str] = []
    for name in MODULES:
        module = importlib.import_module(name)
        docs = [module.__doc__] + [getattr(v, "__doc__", None) for v in vars(module).values()]
        for doc in docs:
            if isinstance(doc, str):
                lines += [ln.strip() for ln in doc.splitlines() if ln.strip()]
    return lines


def run_novelty_demo(texts: list[str], lm: NGramLM, tokenizer: Tokenizer) -> None:
    """Print section 10: novelty of generated text against the training corpus."""
    print("\n== 10. novelty: how much of generated text is copied from its corpus? ==")
    with tempfile.TemporaryDirectory() as tmp:
        index = CorpusIndex.build(
            texts, path=os.path.join(tmp, "manual.idx"), tokenizer=tokenizer, progress=False
        )
        other = NGramLM.fit(docstring_corpus(), order=5, tokenizer=tokenizer, progress=False)
        own = [lm.generate(max_tokens=40, seed=s, top_p=0.95) for s in range(20)]
        cool = [lm.generate(max_tokens=40, seed=s, temperature=0.5) for s in range(20)]
        infini = [index.generate(max_tokens=40, seed=s) for s in range(20)]
        docs = [other.generate(max_tokens=40, seed=s, top_p=0.95) for s in range(20)]
        words = " ".join(own).split()
        random.Random(0).shuffle(words)
        shuffled = [" ".join(words[i : i + 20]) for i in range(0, len(words), 20)]
        print(f"index of the manual: {index.tokens:,} tokens; 20 texts of up to 40 tokens:")
        print(f"{'text':<40} {'novel 6-grams':>14} {'median match':>13}")
        for name, sample in (
            ("the manual's 5-gram model, top-p 0.95", own),
            ("the manual's 5-gram model, temp. 0.5", cool),
            ("the manual's ∞-gram model", infini),
            ("a 5-gram model of stdlib docstrings", docs),
            ("the first texts' words, shuffled", shuffled),
        ):
            n = index.novelty(sample, max_n=6)
            print(f"{name:<40} {n.novel(6):>14.1%} {n.median_longest:>13g}")
        example = index.find("for example", limit=1, window=6)
        if example:
            print(f"\nwhere the manual says it: {example[0]}")
