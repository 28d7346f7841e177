"""Language-model benchmarks, side by side in one run, medians of repeats:

- Kneser-Ney fit, nextword vs NLTK's KneserNeyInterpolated (tinyshakespeare);
- scoring (perplexity) tokens/s, nextword vs the `kenlm` Python module on the same model;
- next-word top-10 queries/s and binary model opening time (PTB 5-gram);
- generation tokens/s (PTB 5-gram), untruncated and top-p 0.9;
- Kneser-Ney order 5 over the Gutenberg set: wall time and peak memory (fresh
  process), beside ``lmplz -o 5`` run on the same text in the same run when
  ``lmplz`` is on PATH (or given with ``--lmplz``); the row says when it is not.

Scoring is reported whole (nextword uses every core, ``threads=0``; the kenlm
module scores one sentence at a time in one Python thread) and per thread:
nextword's figure divided by the threads it used, and nextword again with
``threads=1``.

Peers that are not installed are reported as such (`pip install kenlm nltk`).
Usage: ``python benches/report_lm.py [--quick] [--lmplz PATH]`` (``--quick``
skips Gutenberg and NLTK).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))
GOLDEN = SHARED / "golden/kenlm"


def median_time(fn: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def lines_of(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def gutenberg_case() -> None:
    import nextword

    start = time.perf_counter()
    lm = nextword.NGramLM.fit(SHARED / "corpora/gutenberg", order=5, progress=False)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss, "sizes": lm.sizes()}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--lmplz", default=shutil.which("lmplz"), help="path to lmplz")
    parser.add_argument("--gutenberg-case", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.gutenberg_case:
        gutenberg_case()
        return
    import nextword

    print(f"machine: {os.cpu_count()} cores; medians of 5 runs unless said\n")
    train = GOLDEN / "tinyshakespeare.train.txt"
    test = GOLDEN / "tinyshakespeare.test.txt"
    tmp = Path(tempfile.mkdtemp())

    print("| task | nextword | peer | ratio |")
    print("|---|---:|---:|---:|")
    # Fit: nextword vs NLTK.
    for order in (3, 5):
        fit = median_time(lambda o=order: nextword.NGramLM.fit(train, order=o, progress=False))
        peer, ratio = "not installed", ""
        if not args.quick:
            try:
                from nltk.lm import KneserNeyInterpolated
                from nltk.lm.preprocessing import padded_everygram_pipeline

                sents = [s.split() for s in lines_of(train)]

                def nltk_fit(o: int = order, sents: list[list[str]] = sents) -> Any:
                    data, vocab = padded_everygram_pipeline(o, sents)
                    model = KneserNeyInterpolated(o)
                    model.fit(data, vocab)
                    return model

                start = time.perf_counter()
                model = nltk_fit()
                nltk_seconds = time.perf_counter() - start
                words = lines_of(test)[0].split()[:20]
                start = time.perf_counter()
                for i, w in enumerate(words):
                    model.score(w, (["<s>"] * (order - 1) + words)[i : i + order - 1])
                per_token = (time.perf_counter() - start) / len(words)
                peer = f"NLTK {nltk_seconds:.1f} s fit, {per_token * 1e3:.0f} ms/token"
                ratio = f"{nltk_seconds / fit:.0f}x fit"
            except ImportError:
                pass
        print(
            f"| Kneser-Ney fit, order {order}, tinyshakespeare "
            f"| {fit * 1e3:.0f} ms | {peer} | {ratio} |"
        )

    # Scoring: nextword vs kenlm on the same ARPA model.
    lm = nextword.NGramLM.fit(train, order=5, progress=False)
    arpa, binary = tmp / "ts5.arpa", tmp / "ts5.nwlm"
    lm.save(arpa)
    lm.save(binary)
    big = tmp / "score.txt"
    big.write_text("\n".join(lines_of(train) * 4) + "\n", encoding="utf-8")
    model = nextword.NGramLM.load(binary)
    ppl = model.perplexity(big, progress=False)
    ours = ppl.tokens / median_time(lambda: model.perplexity(big, progress=False))
    one = ppl.tokens / median_time(lambda: model.perplexity(big, threads=1, progress=False))
    peer, ratio = "not installed", ""
    kenlm_rate: float | None = None
    threads = os.cpu_count() or 1
    try:
        import kenlm

        km = kenlm.Model(str(arpa))
        sents = lines_of(big)
        theirs = ppl.tokens / median_time(lambda: sum(km.score(s) for s in sents))
        kenlm_rate = theirs
        peer = f"kenlm {theirs / 1e6:.2f} M tokens/s"
        ratio = f"{ours / theirs:.2f}x"
    except ImportError:
        pass
    print(
        f"| perplexity, 5-gram, 4x tinyshakespeare train ({ppl.tokens:,} tokens), "
        f"{threads} threads vs kenlm's one | {ours / 1e6:.2f} M tokens/s | {peer} | {ratio} |"
    )
    print(per_thread_row("4x tinyshakespeare train", ours, one, kenlm_rate))
    test_tokens = model.perplexity(test, progress=False).tokens
    ours_test = test_tokens / median_time(lambda: model.perplexity(test, progress=False))
    one_test = test_tokens / median_time(lambda: model.perplexity(test, threads=1, progress=False))
    peer, ratio = "not installed", ""
    try:
        import kenlm

        km = kenlm.Model(str(arpa))
        sents = lines_of(test)
        theirs = test_tokens / median_time(lambda: sum(km.score(s) for s in sents))
        kenlm_rate = theirs
        peer = f"kenlm {theirs / 1e6:.2f} M tokens/s"
        ratio = f"{ours_test / theirs:.2f}x"
    except ImportError:
        kenlm_rate = None
    print(
        f"| perplexity, 5-gram, tinyshakespeare test ({test_tokens:,} tokens), "
        f"{threads} threads vs kenlm's one | {ours_test / 1e6:.2f} M tokens/s | {peer} | {ratio} |"
    )
    print(per_thread_row("tinyshakespeare test", ours_test, one_test, kenlm_rate))

    # PTB 5-gram: predict, open, generate.
    ptb_train = tmp / "ptb.train.txt"
    ptb_train.write_text(
        (SHARED / "corpora/en/ptb.train.txt").read_text().replace("<unk>", "UNK"), encoding="utf-8"
    )
    ptb = nextword.NGramLM.fit(ptb_train, order=5, progress=False)
    ptb_path = tmp / "ptb5.nwlm"
    ptb.save(ptb_path)
    open_s = median_time(lambda: nextword.NGramLM.load(ptb_path, verify=True))
    open_fast = median_time(lambda: nextword.NGramLM.load(ptb_path, verify=False))
    size_mb = ptb_path.stat().st_size / 1e6
    print(
        f"| open PTB 5-gram binary ({size_mb:.0f} MB), checksums verified / not "
        f"| {open_s * 1e3:.1f} ms / {open_fast * 1e3:.1f} ms | | |"
    )
    m = nextword.NGramLM.load(ptb_path)
    contexts = []
    for line in lines_of(SHARED / "corpora/en/ptb.test.txt")[:3000]:
        w = line.replace("<unk>", "UNK").split()
        if len(w) > 4:
            contexts.append(w[:4])
    qps = len(contexts) / median_time(lambda: [m.predict(c, k=10) for c in contexts])
    print(f"| predict(k=10), PTB 5-gram, one thread | {qps:,.0f} queries/s | | |")
    for label, kw in (("untruncated", {}), ("top-p 0.9", {"top_p": 0.9})):

        def gen(kw: dict[str, float] = kw) -> int:
            return sum(
                len(m.generate_ids("", max_tokens=200, seed=i, stop=None, **kw)) for i in range(50)
            )

        tps = gen() / median_time(gen, repeat=3)
        print(f"| generate, PTB 5-gram, {label}, one thread | {tps:,.0f} tokens/s | | |")

    if not args.quick:
        cmd = [sys.executable, __file__, "--gutenberg-case"]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        g = json.loads(out.strip().splitlines()[-1])
        peer, ratio = "lmplz not on PATH (give --lmplz; build it from KenLM's source)", ""
        if args.lmplz:
            seconds, gb = lmplz_gutenberg(args.lmplz, tmp)
            peer = f"lmplz -o 5 -S 4G: {seconds:.0f} s, {gb:.2f} GB, this run"
            ratio = f"{seconds / g['seconds']:.2f}x time"
        print(
            f"| Kneser-Ney order 5, Gutenberg (55 M tokens), 1 run | {g['seconds']:.0f} s, "
            f"{g['rss_mb'] / 1024:.1f} GB peak | {peer} | {ratio} |"
        )


def per_thread_row(corpus: str, ours: float, one: float, kenlm_rate: float | None) -> str:
    """Scoring per thread: ours over the threads it used, ours on one thread, kenlm's."""
    threads = os.cpu_count() or 1
    peer = f"kenlm {kenlm_rate / 1e6:.2f} M tokens/s (one thread)" if kenlm_rate else ""
    ratio = f"{one / kenlm_rate:.2f}x (threads=1)" if kenlm_rate else ""
    return (
        f"| perplexity per thread, {corpus} | {ours / threads / 1e6:.2f} M tokens/s "
        f"({threads} threads), {one / 1e6:.2f} M tokens/s (threads=1) | {peer} | {ratio} |"
    )


def lmplz_gutenberg(lmplz: str, tmp: Path) -> tuple[float, float]:
    """``lmplz -o 5 -S 4G`` over the Gutenberg set: wall seconds and peak GB."""
    from report_scale import gutenberg_text, run

    arpa = tmp / "gutenberg.kenlm.arpa"
    cmd = [lmplz, "-o", "5", "-S", "4G", "-T", str(tmp)]
    seconds, gb = run(cmd + ["--text", str(gutenberg_text(0)), "--arpa", str(arpa)])
    arpa.unlink()
    return seconds, gb


if __name__ == "__main__":
    main()
