"""Model size against held-out perplexity, for count and entropy pruning.

For each data set, one Kneser-Ney model is fitted unpruned; then

- count pruning (``NGramLM.fit(prune=...)``, as ``lmplz --prune``) at several
  threshold lists, each a fresh fit; with ``--lmplz`` (or ``lmplz`` on PATH) the
  ARPA file is compared byte for byte with lmplz's for the same thresholds;
- entropy pruning (``lm.prune_entropy(theta)``, Stolcke 1998 as SRILM's
  ``-prune``) of the unpruned model at several thresholds;

and each model's n-gram count, binary file size (``.nwlm``) and perplexity on
held-out text (KenLM's ``query`` definition, ``</s>`` counted, OOVs included)
are tabulated. The two curves are then compared at equal size: for each
count-pruned model, the entropy-pruned perplexity at the same number of n-grams,
interpolated linearly in log(size) between the two nearest entropy-pruned models.

Data sets: PTB (``../shared/corpora/en/ptb.{train,test}.txt``, ``<unk>`` as
``UNK``); Gutenberg (``--gutenberg FILE``, default ``/work/data/gut32.txt``, the
first 32 MB of the shared set: Alcott and Alger), held out on the first 20,000
lines of another author's book (Dickens, from the shared set).

Usage: ``python benches/report_prune.py [--only ptb|gutenberg] [--order 5]
[--plot benches/prune.png]`` (the plot needs matplotlib, the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Optional

from nextword import NGramLM

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))

COUNT_PRUNES = [[0, 1], [0, 1, 1, 2], [0, 1, 2, 3], [0, 2, 3, 4], [0, 3, 5, 7], [0, 5, 10, 20]]
ENTROPY = [3e-9, 1e-8, 3e-8, 1e-7, 3e-7, 1e-6, 1e-5]


def prepare(work: Path, gutenberg: Path, heldout_lines: int) -> dict[str, tuple[Path, Path]]:
    """The (train, held-out) files of each data set."""
    sets = {}
    en = SHARED / "corpora/en"
    for split in ("train", "test"):
        text = (en / f"ptb.{split}.txt").read_text(encoding="utf-8").replace("<unk>", "UNK")
        (work / f"ptb.{split}.txt").write_text(text, encoding="utf-8")
    sets["ptb"] = (work / "ptb.train.txt", work / "ptb.test.txt")
    held = work / "dickens.heldout.txt"
    with gzip.open(SHARED / "corpora/gutenberg/dickens.txt.gz", "rt", encoding="utf-8") as f:
        lines = [line for _, line in zip(range(heldout_lines), f)]
    held.write_text("".join(lines), encoding="utf-8")
    sets["gutenberg"] = (gutenberg, held)
    return sets


def measure(lm: NGramLM, heldout: Path, work: Path) -> dict[str, Any]:
    path = work / "model.nwlm"
    lm.save(path, progress=False)
    size = path.stat().st_size
    path.unlink()
    ppl = lm.perplexity(heldout, progress=False)
    return {"ngrams": sum(lm.sizes()), "sizes": lm.sizes(), "bytes": size, "ppl": ppl.perplexity}


def lmplz_digest(lmplz: str, train: Path, order: int, prune: list[int], work: Path) -> str:
    with train.open("rb") as stdin:
        out = subprocess.run(
            [lmplz, "-S", "20%", "-T", str(work), "-o", str(order), "--prune", *map(str, prune)],
            stdin=stdin,
            capture_output=True,
            check=True,
        ).stdout
    return hashlib.sha256(out).hexdigest()


def arpa_digest(lm: NGramLM, work: Path) -> str:
    path = work / "model.arpa"
    lm.save(path, progress=False)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    path.unlink()
    return digest


def interpolate(points: list[tuple[int, float]], size: int) -> Optional[float]:
    """Perplexity at ``size`` n-grams on the curve ``points`` (linear in log size)."""
    pts = sorted(points)
    for (s0, p0), (s1, p1) in zip(pts, pts[1:]):
        if s0 <= size <= s1:
            if s1 == s0:
                return p0
            t = (math.log(size) - math.log(s0)) / (math.log(s1) - math.log(s0))
            return p0 + t * (p1 - p0)
    return None


def run_set(
    name: str, train: Path, heldout: Path, order: int, lmplz: Optional[str], work: Path
) -> dict[str, Any]:
    print(f"\n## {name}: {train.name} -> {heldout.name}, order {order}", flush=True)
    print(f"load average at start: {os.getloadavg()[0]:.1f} (2 cores, shared)", flush=True)
    rows: dict[str, Any] = {"count": [], "entropy": []}
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = NGramLM.fit(train, order=order, progress=False)
    rows["full"] = measure(full, heldout, work)
    rows["full"]["seconds"] = time.perf_counter() - start
    for prune in COUNT_PRUNES:
        start = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lm = NGramLM.fit(train, order=order, prune=prune, progress=False)
        except ValueError as e:  # thresholds that empty an order
            print(f"  count {prune}: {e}")
            continue
        row = measure(lm, heldout, work)
        row["seconds"] = time.perf_counter() - start
        row["setting"] = " ".join(map(str, prune))
        if lmplz:
            row["lmplz_identical"] = arpa_digest(lm, work) == lmplz_digest(
                lmplz, train, order, prune, work
            )
        rows["count"].append(row)
        print(f"  count {row['setting']:<12} {row['ngrams']:>10,} n-grams  ppl {row['ppl']:.2f}")
    for theta in ENTROPY:
        start = time.perf_counter()
        try:
            lm = full.prune_entropy(theta)
        except ValueError as e:  # a threshold that empties an order
            print(f"  entropy {theta:g}: {e}")
            continue
        seconds = time.perf_counter() - start
        row = measure(lm, heldout, work)
        row["seconds"] = seconds
        row["setting"] = f"{theta:g}"
        rows["entropy"].append(row)
        print(f"  entropy {row['setting']:<10} {row['ngrams']:>10,} n-grams  ppl {row['ppl']:.2f}")
    print(f"load average at end: {os.getloadavg()[0]:.1f}", flush=True)
    return rows


def table(name: str, order: int, rows: dict[str, Any]) -> str:
    full = rows["full"]
    out = [
        f"\n### {name}, order {order}: unpruned {full['ngrams']:,} n-grams, "
        f"{full['bytes'] / 1e6:.1f} MB, held-out perplexity {full['ppl']:.2f}\n",
        "| pruning | setting | n-grams | .nwlm MB | held-out ppl | entropy-pruned ppl "
        "at the same size | lmplz ARPA identical |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    curve = [(r["ngrams"], r["ppl"]) for r in rows["entropy"]]
    for r in rows["count"]:
        same = interpolate(curve, r["ngrams"])
        same_s = "outside the entropy curve" if same is None else f"{same:.2f}"
        ident = {True: "yes", False: "NO", None: "not run"}[r.get("lmplz_identical")]
        out.append(
            f"| count | `--prune {r['setting']}` | {r['ngrams']:,} | {r['bytes'] / 1e6:.1f} | "
            f"{r['ppl']:.2f} | {same_s} | {ident} |"
        )
    for r in rows["entropy"]:
        out.append(
            f"| entropy | {r['setting']} | {r['ngrams']:,} | {r['bytes'] / 1e6:.1f} | "
            f"{r['ppl']:.2f} | | |"
        )
    return "\n".join(out)


def plot(results: dict[str, Any], order: int, path: Path) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 4.5), squeeze=False)
    for ax, (name, rows) in zip(axes[0], results.items()):
        for kind, marker in (("count", "o-"), ("entropy", "s-")):
            pts = sorted((r["ngrams"], r["ppl"]) for r in rows[kind])
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker, label=f"{kind} pruning")
        ax.plot([rows["full"]["ngrams"]], [rows["full"]["ppl"]], "k*", ms=12, label="unpruned")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("n-grams in the model")
        ax.set_ylabel("held-out perplexity")
        ax.set_title(f"{name}, Kneser-Ney order {order}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    tmp.replace(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["ptb", "gutenberg"])
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--gutenberg", type=Path, default=Path("/work/data/gut32.txt"))
    parser.add_argument("--heldout-lines", type=int, default=20000)
    parser.add_argument("--lmplz", default=shutil.which("lmplz"), help="compare ARPA bytes")
    parser.add_argument("--plot", type=Path, help="write the figure here (PNG)")
    args = parser.parse_args()
    print(f"uptime: {os.getloadavg()} (load averages 1/5/15 min; 2 cores shared)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sets = prepare(work, args.gutenberg, args.heldout_lines)
        results = {}
        for name, (train, heldout) in sets.items():
            if args.only and name != args.only:
                continue
            if not train.exists():
                print(f"{name}: {train} not found, skipped", file=sys.stderr)
                continue
            results[name] = run_set(name, train, heldout, args.order, args.lmplz, work)
    for name, rows in results.items():
        print(table(name, args.order, rows))
    if args.plot:
        plot(results, args.order, args.plot)
        print(f"\nplot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
