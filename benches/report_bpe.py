"""BPE benchmarks, side by side in one run (medians of repeats):

- training an 8000-token byte-level BPE, nextword vs HF ``tokenizers``
  (both GPT-2 pre-tokenization, min_frequency 2) on the English corpora;
- encoding throughput in MB/s, one text, nextword vs HF ``tokenizers`` loading
  our ``tokenizer.json`` vs ``tiktoken`` built from our ranks, with a check that
  all three give the same ids;
- batch encoding (lines, in parallel), nextword vs HF ``encode_batch`` vs
  tiktoken ``encode_ordinary_batch``.

Peers that are not installed are reported as such (``pip install tokenizers tiktoken``).
Usage: ``python benches/report_bpe.py [--vocab-size N]``.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

from nextword import BPETokenizer, Corpus

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))
CORPUS = sorted((SHARED / "corpora/en").glob("*.txt"))


def median_time(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def hf_tokenizer(path: Path) -> Optional[Any]:
    try:
        import tokenizers
    except ImportError:
        return None
    return tokenizers.Tokenizer.from_file(str(path))


def tiktoken_encoding(tok: BPETokenizer, ranks_path: Path) -> Optional[Any]:
    try:
        import tiktoken
    except ImportError:
        return None
    ranks = {}
    for line in ranks_path.read_text().splitlines():
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(
        name="nextword-bench",
        pat_str=tok.pattern,
        mergeable_ranks=ranks,
        special_tokens=tok.special_tokens,
    )


def hf_train_seconds(vocab_size: int) -> Optional[float]:
    try:
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    except ImportError:
        return None

    def run() -> None:
        hf = Tokenizer(models.BPE())
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=2,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        hf.train([str(p) for p in CORPUS], trainer)

    return median_time(run)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-size", type=int, default=8000)
    args = parser.parse_args()
    size_mb = sum(p.stat().st_size for p in CORPUS) / 1e6
    print(
        f"corpus: {', '.join(p.name for p in CORPUS)} ({size_mb:.1f} MB); cores: {os.cpu_count()}"
    )

    def ours_train() -> BPETokenizer:
        return BPETokenizer.train(
            Corpus(paths=[str(p) for p in CORPUS]), vocab_size=args.vocab_size, progress=False
        )

    tok = ours_train()
    print(f"\ntrain to {args.vocab_size} tokens")
    print(f"  nextword    {median_time(ours_train):8.2f} s")
    hf_s = hf_train_seconds(args.vocab_size)
    print(f"  tokenizers  {hf_s:8.2f} s" if hf_s is not None else "  tokenizers  not installed")

    text = CORPUS[-1].read_text(encoding="utf-8")
    mb = len(text.encode()) / 1e6
    lines = text.splitlines()
    with tempfile.TemporaryDirectory() as tmp:
        tok.save(Path(tmp) / "tokenizer.json")
        tok.save_tiktoken(Path(tmp) / "ranks.tiktoken")
        hf = hf_tokenizer(Path(tmp) / "tokenizer.json")
        enc = tiktoken_encoding(tok, Path(tmp) / "ranks.tiktoken")
    ids = tok.encode(text).tolist()
    print(f"\nencode {CORPUS[-1].name} ({mb:.1f} MB, {len(ids):,} tokens), MB/s")
    print(f"  nextword    {mb / median_time(lambda: tok.encode(text)):8.2f}")
    if hf is not None:
        same = hf.encode(text, add_special_tokens=False).ids == ids
        hf_mbs = mb / median_time(lambda: hf.encode(text, add_special_tokens=False))
        print(f"  tokenizers  {hf_mbs:8.2f}   same ids: {same}")
    else:
        print("  tokenizers  not installed")
    if enc is not None:
        same = enc.encode_ordinary(text) == ids
        tt_mbs = mb / median_time(lambda: enc.encode_ordinary(text))
        print(f"  tiktoken    {tt_mbs:8.2f}   same ids: {same}")
    else:
        print("  tiktoken    not installed")

    print(f"\nbatch encode {len(lines):,} lines, MB/s")
    print(f"  nextword    {mb / median_time(lambda: tok.encode_batch(lines)):8.2f}")
    if hf is not None:
        hf_batch = mb / median_time(lambda: hf.encode_batch(lines, add_special_tokens=False))
        print(f"  tokenizers  {hf_batch:8.2f}")
    if enc is not None:
        print(f"  tiktoken    {mb / median_time(lambda: enc.encode_ordinary_batch(lines)):8.2f}")


if __name__ == "__main__":
    main()
