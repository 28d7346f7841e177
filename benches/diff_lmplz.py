"""Random differential against lmplz: generated corpora, byte-compared ARPA files.

Each trial writes a corpus (a Zipf-like vocabulary of 5 to 3,000 words plus a
few Unicode ones, lines of 0 to 30 words, blank lines, and one corpus in five
without a final newline), picks an order from 2 to 6 and, for some, lmplz's
``--prune`` thresholds, runs ``lmplz --discount_fallback`` and ``nextword
train`` both in memory and streaming, and compares the files byte for byte.
A failing corpus is kept as ``fail<trial>.txt`` in the work directory.

Usage: ``python benches/diff_lmplz.py [--trials 0 100] [--work DIR]
[--lmplz PATH]`` (lmplz built from KenLM's source, on PATH or given).
"""

from __future__ import annotations

import argparse
import filecmp
import random
import shutil
import subprocess
import sys
from pathlib import Path


def corpus(rng: random.Random) -> str:
    size = rng.choice([5, 30, 300, 3000])
    words = [f"w{i}" for i in range(size)] + ["é", "日本", "a'b", "--", "x\u00a0y"]
    lines = []
    for _ in range(rng.choice([50, 400, 3000])):
        n = rng.choice([0, 1, 2, 5, 12, 30])
        picks = (min(int(rng.paretovariate(1.1)) - 1, len(words) - 1) for _ in range(n))
        lines.append(" ".join(words[i] for i in picks))
    return "\n".join(lines) + ("\n" if rng.random() < 0.8 else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", nargs=2, type=int, default=[0, 100], metavar=("FIRST", "END"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/nextword-diff-lmplz"))
    ap.add_argument("--lmplz", default=shutil.which("lmplz") or "/tmp/kenlm/build/bin/lmplz")
    args = ap.parse_args()
    if not Path(args.lmplz).exists():
        sys.exit(f"lmplz not found at {args.lmplz}: build it from KenLM's source")
    args.work.mkdir(parents=True, exist_ok=True)
    text, theirs, ours = args.work / "c.txt", args.work / "k.arpa", args.work / "n.arpa"
    bad = 0
    for trial in range(*args.trials):
        rng = random.Random(trial)
        text.write_text(corpus(rng), encoding="utf-8")
        order = rng.choice([2, 3, 4, 5, 6])
        prune: list[str] = []
        if rng.random() < 0.3 and order >= 3:
            prune = ["0", *sorted((str(rng.choice([0, 1, 2])) for _ in range(order - 1)), key=int)]
        extra = ["--prune", *prune] if prune else []
        lmplz = [args.lmplz, "-o", str(order), "--discount_fallback", "-S", "100M"]
        run = subprocess.run(
            [*lmplz, "--text", str(text), "--arpa", str(theirs), *extra], capture_output=True
        )
        if run.returncode:
            print(f"trial {trial}: lmplz failed: {run.stderr[-300:]!r}")
            continue
        for mode in (["--in-memory"], []):
            cmd = [sys.executable, "-m", "nextword", "train", str(text), "--order", str(order)]
            cmd += ["--tokenizer", "whitespace", "-o", str(ours), "--quiet", *mode, *extra]
            run = subprocess.run(cmd, capture_output=True)
            same = run.returncode == 0 and filecmp.cmp(theirs, ours, shallow=False)
            if not same:
                bad += 1
                shutil.copy(text, args.work / f"fail{trial}.txt")
                how = mode[0] if mode else "streaming"
                print(f"trial {trial} {how}: differs (order {order}, prune {prune})")
    print(f"{bad} differing files in trials {args.trials[0]}..{args.trials[1] - 1}")


if __name__ == "__main__":
    main()
