"""Garbage in, garbage out: what filtering and deduplication do to a model.

A "web-like" training set is made from the shared corpora: clean Gutenberg
paragraphs mixed with garbage made here (documented in ``make_web``), each
record tagged with its ``source``. Kneser-Ney 5-gram models are trained on

(a) everything;
(b) what CCNet-style filtering keeps: perplexity under a KN 5-gram of a small
    clean sample (one book the training set does not hold), cutoffs at the 30th
    and 60th percentiles of 10,000 documents, the tail dropped;
(c) (b) after exact deduplication (documents, then lines) and removal of
    repeated spans of 50 tokens or more;

and evaluated on clean held-out paragraphs (two other books, never seen by
the filter). Printed: per source, the documents each step keeps; per model,
perplexity (with and without OOVs), n-grams, file size, training time, and a
sample generated with seed 0. Machine load beside the figures.

    python benches/filter_experiment.py [--clean 25000] [--out DIR]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import random
import tempfile
import time
from pathlib import Path

import nextword

SHARED = Path(os.environ.get("NEXTWORD_SHARED", Path(__file__).resolve().parents[2] / "shared"))
GUT = SHARED / "corpora" / "gutenberg"
ZH = SHARED / "corpora" / "zh" / "xiyouji.txt"
BOILERPLATE = [
    "Click here to subscribe to our newsletter and never miss an update!",
    "Copyright 2024 All rights reserved. Terms of use | Privacy policy | Cookies",
    "Share this article on Facebook Twitter LinkedIn WhatsApp Email",
    "We use cookies to improve your experience. By continuing you accept our cookie policy.",
    "Home | About us | Contact | Blog | Shop | FAQ | Login | Register",
    "Sponsored content: you won't believe what happened next, read more >>",
]


def paragraphs(path: Path, limit: int = 10**9) -> list[str]:
    out: list[str] = []
    block: list[str] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                block.append(line.strip())
            elif block:
                out.append("\n".join(block))
                block = []
                if len(out) >= limit:
                    break
    return out


def make_web(files: list[Path], clean_docs: int, rng: random.Random) -> list[dict[str, str]]:
    """The training set: clean paragraphs of books files[2:10] (``clean``) and
    - ``shuffled``: 4,000 paragraphs of files[13] with their words shuffled;
    - ``random``: 2,000 documents of 20-80 random "words" of letters, digits, punctuation;
    - ``boilerplate``: 6 web boilerplate lines, 1,000 documents of each;
    - ``chinese``: 3,000 non-blank lines of Journey to the West (corpora/zh);
    - ``duplicated``: the first 1,500 paragraphs of files[12], ten times over.
    """
    docs: list[dict[str, str]] = []
    clean: list[str] = []
    for f in files[2:10]:
        clean += paragraphs(f, clean_docs // 8)
    docs += [{"source": "clean", "text": t} for t in clean]
    for t in paragraphs(files[13], 4000):
        words = t.split()
        rng.shuffle(words)
        docs.append({"source": "shuffled", "text": " ".join(words)})
    chars = "abcdefghijklmnopqrstuvwxyz0123456789.,;:!?-'"
    for _ in range(2000):
        n = rng.randint(20, 80)
        docs.append(
            {
                "source": "random",
                "text": " ".join(
                    "".join(rng.choice(chars) for _ in range(rng.randint(1, 9))) for _ in range(n)
                ),
            }
        )
    docs += [{"source": "boilerplate", "text": b} for b in BOILERPLATE for _ in range(1000)]
    zh = [x.strip() for x in ZH.read_text(encoding="utf-8").splitlines() if x.strip()]
    docs += [{"source": "chinese", "text": t} for t in zh[:3000]]
    book = paragraphs(files[12], 1500)
    docs += [{"source": "duplicated", "text": t} for _ in range(10) for t in book]
    rng.shuffle(docs)
    return [{"id": str(i), **d} for i, d in enumerate(docs)]


def sources(path: Path) -> collections.Counter[str]:
    with path.open(encoding="utf-8") as f:
        return collections.Counter(json.loads(x)["source"] for x in f)


def train(name: str, path: Path, out: Path, held_out: list[str]) -> dict[str, object]:
    start = time.perf_counter()
    lm = nextword.NGramLM.fit(nextword.Corpus(paths=[str(path)]), order=5, progress=False)
    seconds = time.perf_counter() - start
    model = out / f"{name}.nwlm"
    lm.save(model, progress=False)
    p = lm.perplexity(held_out)
    return {
        "name": name,
        "seconds": seconds,
        "ngrams": sum(lm.sizes()),
        "mb": model.stat().st_size / 1e6,
        "ppl": p.perplexity,
        "ppl_no_oov": p.perplexity_excluding_oovs,
        "oovs": p.oovs,
        "tokens": p.tokens,
        "sample": lm.generate("", max_tokens=30, seed=0),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clean", type=int, default=25_000, help="clean paragraphs in the mix")
    ap.add_argument("--out", help="keep the files here (default: a temporary directory)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="filterexp"))
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    files = sorted(GUT.glob("*.txt.gz"))
    web = make_web(files, args.clean, rng)
    web_path = out / "web.jsonl"
    web_path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in web))
    held_out = paragraphs(files[10], 1500) + paragraphs(files[11], 1500)
    sample = paragraphs(files[0], 3000)
    print(
        f"web.jsonl: {len(web):,} documents, {web_path.stat().st_size / 1e6:.1f} MB; "
        f"held-out: {len(held_out):,} paragraphs of {files[10].name}, {files[11].name}; "
        f"filter model: KN 5-gram of {len(sample):,} paragraphs of {files[0].name}; "
        f"load {os.getloadavg()}"
    )

    filt = nextword.NGramLM.fit(sample, order=5, progress=False)
    b_path = out / "b.jsonl"
    fs = nextword.filter_corpus(
        filt, web_path, b_path, keep=("head", "middle"), threads=args.threads, progress=False
    )
    print(fs.format())
    c1 = out / "c1.jsonl"
    d1 = nextword.dedup_exact(b_path, c1, threads=args.threads, progress=False)
    print(d1.format())
    c2 = out / "c2.jsonl"
    d2 = nextword.dedup_exact(c1, c2, unit="lines", threads=args.threads, progress=False)
    print(d2.format())
    c_path = out / "c.jsonl"
    sp = nextword.dedup_spans(c2, c_path, min_tokens=50, threads=args.threads, progress=False)
    print(sp.format())

    counts = {k: sources(p) for k, p in (("a", web_path), ("b", b_path), ("c", c_path))}
    print("\n| source | (a) documents | (b) kept | (c) kept |\n|---|---:|---:|---:|")
    for src in ["clean", "duplicated", "shuffled", "random", "boilerplate", "chinese"]:
        print(f"| {src} | {counts['a'][src]:,} | {counts['b'][src]:,} | {counts['c'][src]:,} |")

    rows = [train(n, p, out, held_out) for n, p in (("a", web_path), ("b", b_path), ("c", c_path))]
    print(f"\nheld-out: {rows[0]['tokens']:,} tokens; load {os.getloadavg()}")
    print("| model | held-out ppl | ppl without OOVs | OOVs | n-grams | file MB | training s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| ({r['name']}) | {r['ppl']:.1f} | {r['ppl_no_oov']:.1f} | {r['oovs']:,} | "
            f"{r['ngrams']:,} | {r['mb']:.1f} | {r['seconds']:.1f} |"
        )
    for r in rows:
        print(f"({r['name']}) seed 0: {r['sample']}")


if __name__ == "__main__":
    main()
