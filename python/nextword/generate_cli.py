"""``nextword generate``: the word-guessing game from the command line.

``-n`` counts tokens. Generation goes on across sentence ends by default (each
sentence printed on its own line, the next one started afresh from ``<s>``);
``--one-sentence`` stops at the first ``</s>``. Text is joined as the model's
tokenizer decodes it: words with spaces, characters and BPE pieces without.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from typing import Any, Callable, Optional, Union

from nextword.model import Generative, Step
from nextword.sampling import SamplingParams
from nextword.tokenizers import Tokenizer

Model = Any  # an NGramLM or a neural model: both are Generative with a vocab


def joiner(tokenizer: Tokenizer) -> str:
    """What goes between a prompt and its continuation: a space for words,
    nothing for characters and byte-level pieces (they carry their own spaces).

    >>> from nextword import CharTokenizer, WordTokenizer
    >>> joiner(CharTokenizer()), joiner(WordTokenizer())
    ('', ' ')
    """
    return "" if tokenizer.kind in ("char", "bpe") else " "


def join_text(tokenizer: Tokenizer, prompt: str, continuation: str) -> str:
    """``prompt`` followed by ``continuation`` as the tokenizer's decode joins tokens.

    >>> from nextword import CharTokenizer
    >>> join_text(CharTokenizer(), "孙悟", "空还有")
    '孙悟空还有'
    """
    if not prompt or not continuation:
        return prompt + continuation
    return prompt + joiner(tokenizer) + continuation


def sentences(
    model: Generative,
    prompt: str,
    max_tokens: int,
    seed: Optional[int],
    params: SamplingParams,
    one_sentence: bool = False,
    explain: int = 0,
) -> Iterator[list[Step]]:
    """Generate ``max_tokens`` tokens in all, sentence after sentence: each list
    holds one sentence's steps (its ``</s>`` last, unless the budget ran out).
    The first sentence continues ``prompt``; each later one starts from ``<s>``
    with a seed drawn from ``seed`` (same seed, same sentences)."""
    draw = random.Random(seed)
    remaining = max_tokens
    start: Union[str, tuple[()]] = prompt
    sentence_seed = seed
    while remaining > 0:
        steps = list(
            model.stream(
                start, max_tokens=remaining, seed=sentence_seed, explain=explain, params=params
            )
        )
        if not steps:
            return
        yield steps
        remaining -= len(steps)
        if steps[-1].token != "</s>" or one_sentence:
            return
        start = ()
        sentence_seed = None if seed is None else draw.getrandbits(64)


def sentence_text(model: Model, steps: list[Step]) -> str:
    """The decoded text of one sentence's steps (``</s>`` left out)."""
    vocab = model.vocab
    ids = [vocab.id(s.token) for s in steps if s.token != "</s>"]
    return str(vocab.decode(ids)) if ids else ""


def _bar(p: float, width: int = 30) -> str:
    filled = p * width
    full = int(filled)
    part = " ▏▎▍▌▋▊▉"[int((filled - full) * 8)]
    return ("█" * full + (part if full < width else "")).ljust(width)


def cmd_generate(args: argparse.Namespace, load_model: Callable[[argparse.Namespace], Any]) -> int:
    """Run ``nextword generate`` (see the module docs)."""
    model = load_model(args)
    params = SamplingParams(
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        min_p=args.min_p,
        repetition_penalty=args.repetition_penalty,
    )
    tokenizer = model.vocab.tokenizer
    explain = args.candidates if args.explain else 0
    for i in range(args.samples):
        if i and (args.explain or not args.one_sentence):  # texts of several lines apart
            print()
        seed = None if args.seed is None else args.seed + i
        if args.explain:
            print(f"prompt: {args.prompt!r}")
        history = tokenizer.tokenize(args.prompt)
        step_number = 0
        lines: list[str] = []
        gen = sentences(
            model, args.prompt, args.max_tokens, seed, params, args.one_sentence, explain
        )
        for n, steps in enumerate(gen):
            for step in steps if args.explain else ():
                step_number += 1
                _print_step(step_number, history, step)
                history.append(step.token)
            text = sentence_text(model, steps)
            line = join_text(tokenizer, args.prompt, text) if n == 0 else text
            if args.explain:
                lines.append(line)  # the text, whole, after the steps
            else:
                print(line)
        if args.explain:
            print("\n" + "\n".join(lines))
    return 0


def _print_step(n: int, history: list[str], step: Step) -> None:
    print(f"\nstep {n}: after ...{' '.join(history[-4:])!r}")
    for word, p in step.candidates:
        mark = "<-" if word == step.token else ""
        print(f"  {word:<16} {p:7.2%} {_bar(p)} {mark}")
    if step.token not in {w for w, _ in step.candidates}:
        print(f"  {step.token:<16} {step.prob:7.2%} {_bar(step.prob)} <- (sampled)")


def add_generate_command(
    sub: Any,
    model_options: Callable[[argparse.ArgumentParser], None],
    load_model: Callable[[argparse.Namespace], Any],
) -> None:
    """Register ``nextword generate``."""
    gen = sub.add_parser("generate", help="generate text, one word-guess at a time")
    model_options(gen)
    gen.add_argument(
        "--prompt", "-p", default="", help="the start of the text (default: none, a new sentence)"
    )
    gen.add_argument(
        "-n",
        "--max-tokens",
        type=int,
        default=50,
        help="tokens to generate in all, each </s> included (sentences go on after it)",
    )
    gen.add_argument(
        "--one-sentence",
        action="store_true",
        help="stop at the first </s> instead of starting another sentence",
    )
    gen.add_argument("--temperature", "-T", type=float, default=1.0, help="0 = greedy")
    gen.add_argument(
        "--top-k", type=int, help="draw among the K most probable tokens only (default: off)"
    )
    gen.add_argument(
        "--top-p", type=float, help="draw among the most probable tokens of mass P (default: off)"
    )
    gen.add_argument(
        "--min-p",
        type=float,
        help="drop tokens below P times the best one's probability (default: off)",
    )
    gen.add_argument(
        "--repetition-penalty",
        type=float,
        help="penalise tokens already in the text (> 1 penalises; default: off)",
    )
    gen.add_argument("--seed", type=int, help="same seed, same text (default: a random one)")
    gen.add_argument("--samples", type=int, default=1, help="how many texts")
    gen.add_argument("--explain", action="store_true", help="show each step's candidates")
    gen.add_argument("--candidates", type=int, default=5, help="candidates shown per step")
    gen.set_defaults(func=lambda args: cmd_generate(args, load_model))
