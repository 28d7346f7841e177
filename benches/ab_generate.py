"""Generation speed of two builds of nextword side by side (an A/B run).

Each build is a ``python/`` directory holding the ``nextword`` package with its
compiled extension (e.g. a copy of ``python/`` with the extension built from
``main``, and the work tree's). The PTB 5-gram is fitted once, by the first
build, and saved in the hash layout; each build then writes the trie layout of
it itself (a build may read a newer trie format than the other); then, in
alternating fresh processes, each build times on each layout (``--layout``:
hash, trie or both) what ``report_lm.py`` times:

- ``generate_ids("", max_tokens=200, seed=i, stop=None)`` for i < 50, with
  top-p 0.9 and untruncated, in tokens per CPU-second of the process;
- ``predict(context, k=10)`` over the first 3,000 ptb.test contexts, queries
  per CPU-second.

It also checks that both builds generate the same ids from the same seeds.

Reported: the median over the rounds per build and the ratio, with the load
average before and after (the machine is shared). Usage:
``python benches/ab_generate.py OLD_PYTHON_DIR NEW_PYTHON_DIR [--rounds 5]
[--layout both]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))

CHILD = r"""
import hashlib, json, sys, time
import nextword
path, ptb_test = sys.argv[1], sys.argv[2]
m = nextword.NGramLM.load(path)
out = {}
for label, kw in (("top-p 0.9", {"top_p": 0.9}), ("untruncated", {})):
    c = time.process_time()
    runs = [m.generate_ids("", max_tokens=200, seed=i, stop=None, **kw) for i in range(50)]
    out[label] = sum(map(len, runs)) / (time.process_time() - c)
    out[label + " output"] = int(hashlib.sha256(str(runs).encode()).hexdigest()[:12], 16)
contexts = []
for line in open(ptb_test, encoding="utf-8").read().splitlines()[:3000]:
    w = line.replace("<unk>", "UNK").split()
    if len(w) > 4:
        contexts.append(w[:4])
c = time.process_time()
for ctx in contexts:
    m.predict(ctx, k=10)
out["predict(k=10)"] = len(contexts) / (time.process_time() - c)
print(json.dumps(out))
"""


def run(python_dir: Path, model: Path) -> dict[str, float]:
    """One fresh process of one build on one model file."""
    env = dict(os.environ, PYTHONPATH=str(python_dir.resolve()))
    ptb_test = SHARED / "corpora/en/ptb.test.txt"
    cmd = [sys.executable, "-c", CHILD, str(model), str(ptb_test)]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="python/ directory of build A")
    parser.add_argument("new", type=Path, help="python/ directory of build B")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--layout", choices=["hash", "trie", "both"], default="both")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        train = tmp / "ptb.train.txt"
        text = (SHARED / "corpora/en/ptb.train.txt").read_text(encoding="utf-8")
        train.write_text(text.replace("<unk>", "UNK"), encoding="utf-8")
        fit = (
            "import sys, nextword\n"
            "m = nextword.NGramLM.fit(sys.argv[1], order=5, progress=False)\n"
            "m.save(sys.argv[2], progress=False)\n"
        )
        hashed = tmp / "ptb5.nwlm"
        env = dict(os.environ, PYTHONPATH=str(args.old.resolve()))
        subprocess.run([sys.executable, "-c", fit, str(train), str(hashed)], env=env, check=True)
        to_trie = (
            "import sys, nextword\n"
            "nextword.NGramLM.load(sys.argv[1]).save(sys.argv[2], progress=False, layout='trie')\n"
        )
        files: dict[tuple[str, str], Path] = {}
        for build, directory in (("A", args.old), ("B", args.new)):
            files[("hash", build)] = hashed
            files[("trie", build)] = tmp / f"ptb5.trie.{build}.nwlm"
            if args.layout != "hash":
                env = dict(os.environ, PYTHONPATH=str(directory.resolve()))
                cmd = [sys.executable, "-c", to_trie, str(hashed), str(files[("trie", build)])]
                subprocess.run(cmd, env=env, check=True)
        layouts = ["hash", "trie"] if args.layout == "both" else [args.layout]
        for build in ("A", "B"):
            if args.layout != "hash":
                size = files[("trie", build)].stat().st_size / 1e6
                print(f"trie file of build {build}: {size:.2f} MB")
        rates: dict[tuple[str, str, str], list[float]] = {}
        outputs: dict[tuple[str, str], set[float]] = {}
        for r in range(args.rounds):
            for layout in layouts:
                # Alternate which build goes first, so drifts in load hit both.
                order = (("A", args.old), ("B", args.new))
                for build, directory in order if r % 2 == 0 else order[::-1]:
                    for what, rate in run(directory, files[(layout, build)]).items():
                        if what.endswith(" output"):
                            outputs.setdefault((layout, what), set()).add(rate)
                        else:
                            rates.setdefault((layout, what, build), []).append(rate)
        print(f"load average after: {os.getloadavg()}")
        for (layout, what), digests in outputs.items():
            same = "the same in both builds" if len(digests) == 1 else "DIFFERENT between builds"
            print(f"{layout}, {what.removesuffix(' output')}: seeded outputs {same}")
        print(f"A = {args.old}, B = {args.new}; medians of {args.rounds} rounds, per CPU-second")
        print("| layout | measure | A | B | B / A |")
        print("|---|---|---|---|---|")
        for layout in layouts:
            for what in ("top-p 0.9", "untruncated", "predict(k=10)"):
                a = statistics.median(rates[(layout, what, "A")])
                b = statistics.median(rates[(layout, what, "B")])
                unit = "queries" if what.startswith("predict") else "tokens"
                print(f"| {layout} | {what} ({unit}) | {a:,.0f} | {b:,.0f} | {b / a:.2f}x |")


if __name__ == "__main__":
    main()
