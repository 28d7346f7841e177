"""``nextword demo``: the pipeline so far, on text every CPython ships with.

The corpus is the reference manual's topics (``pydoc_data.topics``), so the demo
needs no download. It collects the text, tokenizes it, counts n-grams of
orders 1..5, looks at the Zipf curve and count-of-counts, times the Rust
core against the pure-Python reference, and trains two tiny neural models.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

from nextword import reference
from nextword.counts import NGramCounts, count_ngrams
from nextword.explainer_demo import run_explainer_demo
from nextword.index_demo import run_novelty_demo
from nextword.lm import NGramLM
from nextword.neural.demo import run_neural_demo
from nextword.neural.training import TrainingHistory
from nextword.tokenizers import CharTokenizer, WhitespaceTokenizer, WordTokenizer


def bundled_corpus() -> list[str]:
    """The Python reference manual topics, one line per sentence, in topic-name order.

    Lines with no letter or digit (reStructuredText underlines like ``-----``) are
    dropped: they are layout, not language.
    """
    from pydoc_data.topics import topics

    return [
        line
        for name in sorted(topics)
        for line in reference.split_lines(topics[name])
        if any(ch.isalnum() for ch in line)
    ]


def _section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 66 - len(title)))


def run_demo(plots: Optional[Path] = None) -> None:
    """Run the demo, printing to stdout; with ``plots``, also save its figures
    there as PNG files (needs matplotlib)."""
    texts = bundled_corpus()
    size = sum(len(t.encode()) for t in texts)
    print("nextword demo: from a corpus to the next word")
    run_explainer_demo()
    print("\ncorpus: the Python reference manual topics (pydoc_data.topics, ships with CPython)")

    _section("1. collect")
    print(f"{len(texts):,} lines of text, {size / 1e6:.2f} MB; one line = one sentence")

    _section("2. tokenize")
    sample = "The `for` statement iterates over the items of a sequence, e.g. range(10)."
    print(f"text: {sample}")
    for tok in (WhitespaceTokenizer(), WordTokenizer(lowercase=True), CharTokenizer()):
        tokens = tok.tokenize(sample)
        shown = " | ".join(tokens[:14]) + (" | ..." if len(tokens) > 14 else "")
        print(f"  {tok.spec:<12} {len(tokens):>3} tokens: {shown}")

    _section("3. count n-grams (word tokens, lowercased, orders 1..5)")
    tokenizer = WordTokenizer(lowercase=True)
    start = time.perf_counter()
    counts = count_ngrams(texts, order=5, tokenizer=tokenizer, progress=False)
    rust_seconds = time.perf_counter() - start
    print(
        f"{counts.tokens:,} tokens in {counts.sentences:,} sentences, "
        f"counted in {rust_seconds * 1e3:.0f} ms"
    )
    print(f"{'order':>7} {'unique':>10} {'total':>10}   most common")
    for n in range(1, 6):
        top = " | ".join(" ".join(ng) for ng, _ in counts.most_common(3, n))
        print(f"{n:>7} {counts.num_unique(n):>10,} {counts.total(n):>10,}   {top}")
    print("\nthe guessing game starts here: what follows 'for example' in the manual?")
    nexts = [(ng[-1], c) for ng, c in counts.items(3) if ng[:2] == ("for", "example")]
    nexts.sort(key=lambda p: -p[1])
    total = sum(c for _, c in nexts)
    for word, c in nexts[:5]:
        print(f"  {word!r:<12} {c:>4}  {c / total:6.1%}  " + "#" * round(40 * c / total))

    _section("4. analyse: Zipf's law and count-of-counts")
    ranked = counts.most_common(1000, 1)
    ranked = [(ng, c) for ng, c in ranked if ng[0] not in ("<s>", "</s>")]
    print("rank x frequency stays roughly constant (Zipf):")
    for rank in (1, 10, 100, 500):
        if rank <= len(ranked):
            (word,), c = ranked[rank - 1]
            print(f"  rank {rank:>4}  {word!r:<14} freq {c:>6,}  rank*freq {rank * c:>8,}")
    print(
        "how many n-grams occur once, twice, three, four times (Kneser-Ney's discounts use these):"
    )
    for n in (1, 2, 3):
        coc = counts.count_of_counts(n)
        print(f"  order {n}: " + ", ".join(f"n{c}={coc.get(c, 0):,}" for c in (1, 2, 3, 4)))

    _section("5. model: Kneser-Ney, orders 1..5, perplexity on held-out text")
    cut = len(texts) * 9 // 10
    train, held_out = texts[:cut], texts[cut:]
    print(f"train on {cut:,} lines, evaluate on the last {len(texts) - cut:,} (never seen):")
    print(
        f"{'order':>7} {'perplexity':>11} {'OOVs':>6}   (lower is better: fewer guesses per word)"
    )
    lms: dict[int, NGramLM] = {}
    perplexities: dict[int, float] = {}
    start = time.perf_counter()
    for order in range(1, 6):
        lms[order] = NGramLM.fit(train, order=order, tokenizer=tokenizer, progress=False)
        ppl = lms[order].perplexity(held_out, progress=False)
        perplexities[order] = ppl.perplexity
        print(
            f"{order:>7} {ppl.perplexity:>11.1f} {ppl.oovs:>6}   "
            + "#" * round(ppl.perplexity / 20)
        )
    fit_ms = (time.perf_counter() - start) * 1e3
    print(f"(five models fitted and scored in {fit_ms:.0f} ms)")
    lm = NGramLM.fit(texts, order=5, tokenizer=tokenizer, progress=False)

    _section("6. the word-guessing game")
    for prompt in ("the for statement", "a list is"):
        print(f"after {prompt!r}, the model guesses:")
        for word, p in lm.predict(prompt, k=5):
            print(f"  {word!r:<14} {p:6.1%}  " + "#" * max(1, round(40 * p)))

    _section("7. generate: guess, pick, append, repeat")
    for seed in (1, 2, 3):
        text = lm.generate("the", max_tokens=25, seed=seed, top_p=0.9)
        print(f"  seed {seed}: the {text}")
    print("\nthe same, step by step (temperature 0.8, seed 7):")
    words = ["the"]
    for step in lm.stream("the", max_tokens=6, seed=7, temperature=0.8, explain=3):
        shown = ", ".join(f"{w} {p:.0%}" for w, p in step.candidates)
        print(f"  ...{' '.join(words[-3:])!r:<28} -> {step.token!r:<12} (top: {shown})")
        words.append(step.token)

    _section("8. speed: Rust core against the pure-Python reference")
    start = time.perf_counter()
    n_tokens = count_ngrams(texts, order=3, progress=False).tokens
    rust = time.perf_counter() - start
    start = time.perf_counter()
    reference.count_ngrams(texts, order=3)
    ref = time.perf_counter() - start
    print(f"counting orders 1..3 of {n_tokens:,} whitespace tokens:")
    for name, secs in (("reference (Python Counter)", ref), ("nextword (Rust, parallel)", rust)):
        print(f"  {name:<27} {secs * 1e3:7.0f} ms  {n_tokens / secs / 1e6:6.2f} M tokens/s")
    print(f"  speed-up: {ref / rust:.0f}x on this small corpus (see benches/ for large ones)")

    # Section 9: a slice of the corpus, so that training stays a few seconds per model.
    histories = run_neural_demo(texts[:1500], steps=200)
    run_novelty_demo(texts, lm, tokenizer)
    if plots is not None:
        save_plots(Path(plots), texts, counts, perplexities, lm, histories)
    print(
        "\nnext: `nextword train PATHS -o model.nwlm`, then `nextword generate model.nwlm"
        " --explain`; `nextword --help`."
    )


def save_plots(
    directory: Path,
    texts: list[str],
    counts: NGramCounts,
    perplexities: dict[int, float],
    lm: NGramLM,
    histories: dict[str, TrainingHistory],
) -> list[Path]:
    """The demo's figures as PNG files in ``directory``; returns their paths."""
    from nextword import plots
    from nextword.embeddings import Word2Vec

    _section(f"figures, saved in {directory}")
    vectors = Word2Vec(dim=32, min_count=5, epochs=2, seed=1).fit(
        texts, tokenizer=WordTokenizer(lowercase=True), progress=False
    )
    words = [w for w in vectors.words if w.isalpha()][:40]
    written = [
        plots.zipf(counts, directory / "zipf.png"),
        plots.count_of_counts(counts, directory / "count_of_counts.png"),
        plots.perplexity_by_order(perplexities, directory / "perplexity_by_order.png"),
        plots.word_vectors(vectors, directory / "word_vectors.png", words=words),
        plots.next_word(lm, "the for statement", directory / "next_word.png"),
    ]
    for name, history in histories.items():
        slug = name.split()[0].lower()
        written.append(plots.loss_curves(history, directory / f"loss_{slug}.png", title=name))
    for path in written:
        print(f"  {path}")
    return written
