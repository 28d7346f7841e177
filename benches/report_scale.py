"""End to end at scale, side by side with KenLM's ``lmplz`` in one run.

The path a user runs, from one text file to a model file, each tool in a fresh
process, timed by wall clock with the process's peak resident memory:

- ``lmplz -o N -S MEM --text gut.txt --arpa kenlm.arpa``;
- ``nextword train gut.txt --order N --memory MEM -o nextword.arpa`` (the
  memory-bounded pipeline at lmplz's budget; ``--budgets 1G`` adds more rows),
  and whether the two ARPA files are byte-identical;
- ``nextword train gut.txt --order N -o nextword.arpa`` (the same pipeline at
  its default budget, lmplz's default ``-S 80%``);
- ``nextword train gut.txt --order N --in-memory -o nextword.arpa`` (the model
  fitted in memory, then written);
- ``nextword train gut.txt --order N -o nextword.nwlm`` (the binary model);
- ``nextword count gut.txt --order N`` (counting alone).

The input defaults to the shared Gutenberg set decompressed and concatenated
(319 MB, 54.7 M words) into a cache outside the repository
(``~/.cache/nextword-bench``). ``lmplz`` is looked up on PATH (or ``--lmplz``);
where it is absent the table says so. It is not on PyPI as a program: build it
from KenLM's source (cmake, Boost, zlib; ``make lmplz``).

Usage: ``python benches/report_scale.py [--input FILE] [--order 5] [--memory 4G]
[--budgets 1G ...] [--skip-default] [--skip-in-memory] [--skip-binary] [--skip-count] [--lines N]
[--repeat N]`` (``--lines`` keeps the first N lines, for a quick run; ``--repeat`` runs every
row N times, lmplz first in each round, and ends with the medians: the VM's speed drifts
by 10-20% within an hour, so a ratio is taken within a round).
"""

from __future__ import annotations

import argparse
import filecmp
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))
CACHE = Path(os.environ.get("NEXTWORD_BENCH_CACHE", Path.home() / ".cache/nextword-bench"))


def gutenberg_text(lines: int) -> Path:
    """The Gutenberg set as one text file (its first ``lines`` lines when > 0)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    whole = CACHE / "gutenberg.txt"
    if not whole.exists():
        tmp = whole.with_suffix(".tmp")
        with open(tmp, "wb") as out:
            for path in sorted((SHARED / "corpora/gutenberg").glob("*.txt.gz")):
                with gzip.open(path) as f:
                    shutil.copyfileobj(f, out)
        tmp.rename(whole)
    if lines <= 0:
        return whole
    part = CACHE / f"gutenberg-{lines}.txt"
    if not part.exists():
        with open(whole, "rb") as f, open(part, "wb") as out:
            for i, line in enumerate(f):
                if i >= lines:
                    break
                out.write(line)
    return part


def run(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd``; return its wall seconds and peak resident memory in GB.

    Dirty pages of the runs before (lmplz returns before its 4.5 GB ARPA is
    on disk; nextword flushes its file before it returns) are written out
    first, untimed, so that no run pays for another's writeback.
    """
    os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if status != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({status}):\n{stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input", type=Path, help="a text file (default: Gutenberg)")
    parser.add_argument("--lines", type=int, default=0, help="first N lines of Gutenberg only")
    parser.add_argument("--order", type=int, default=5)
    parser.add_argument("--memory", default="4G", help="lmplz -S")
    parser.add_argument("--lmplz", default=shutil.which("lmplz"), help="path to lmplz")
    parser.add_argument("--skip-count", action="store_true")
    parser.add_argument("--skip-in-memory", action="store_true", help="no --in-memory ARPA row")
    parser.add_argument(
        "--skip-default", action="store_true", help="no row for train's default budget (80%%)"
    )
    parser.add_argument("--skip-binary", action="store_true", help="no binary-model row")
    parser.add_argument(
        "--budgets", nargs="*", default=[], help="more nextword --memory rows (e.g. 1G)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="rounds, each running every row once (lmplz first); with more than one, "
        "a last table gives the medians of the walls and of the per-round ratios",
    )
    args = parser.parse_args()

    text = args.input or gutenberg_text(args.lines)
    size_mb = text.stat().st_size / 1e6
    rounds: list[list[Row]] = []
    for i in range(max(1, args.repeat)):
        rows, arpa_mb = one_round(args, text)
        rounds.append(rows)
        title = f"round {i + 1} of {args.repeat}" if args.repeat > 1 else ""
        print(f"\n{text} ({size_mb:,.0f} MB), order {args.order}, ARPA {arpa_mb:,.0f} MB {title}")
        print(f"load average after the round: {os.getloadavg()[0]:.1f} (2 cores)")
        if not args.lmplz:
            print("lmplz: not found on PATH (build it from KenLM's source; see the docstring)")
        print_table(rows, [ratio_to_lmplz(rows, r) for r in rows])
    if len(rounds) > 1:
        print(f"\nmedians over {len(rounds)} rounds (ratio: the median of the rounds' ratios)")
        names = [r[0] for r in rounds[0]]
        medians: list[Row] = []
        ratios: list[float | None] = []
        for j, name in enumerate(names):
            runs = [rows[j] for rows in rounds]
            wall = statistics.median(r[1] for r in runs)
            peak = max(r[2] for r in runs)
            notes = sorted({r[3] for r in runs if r[3]})
            medians.append((name, wall, peak, "; ".join(notes)))
            per_round = [ratio_to_lmplz(rows, rows[j]) for rows in rounds]
            known = [x for x in per_round if x is not None]
            ratios.append(statistics.median(known) if known else None)
        print_table(medians, ratios)


Row = tuple[str, float, float, str]


def ratio_to_lmplz(rows: list[Row], row: Row) -> float | None:
    """``row``'s wall over the lmplz row's of the same round."""
    base = next((r[1] for r in rows if r[0].startswith("lmplz")), None)
    return row[1] / base if base else None


def print_table(rows: list[Row], ratios: list[float | None]) -> None:
    print(f"\n| {'run':<30} | {'wall s':>8} | {'vs lmplz':>8} | {'peak GB':>7} | note")
    print(f"|{'-' * 32}|{'-' * 10}|{'-' * 10}|{'-' * 9}|------")
    for (name, seconds, gb, note), ratio in zip(rows, ratios):
        shown = f"{ratio:.2f}x" if ratio is not None else "-"
        print(f"| {name:<30} | {seconds:>8.1f} | {shown:>8} | {gb:>7.2f} | {note}", flush=True)


def one_round(args: argparse.Namespace, text: Path) -> tuple[list[Row], float]:
    """Every row once: lmplz (when found), then nextword's; the rows and the ARPA's MB."""
    nextword = [sys.executable, "-m", "nextword"]
    rows: list[Row] = []
    arpa_mb = 0.0
    with tempfile.TemporaryDirectory(dir=CACHE if CACHE.exists() else None) as tmp:
        work = Path(tmp)
        kenlm_arpa = work / "kenlm.arpa"
        if args.lmplz:
            cmd = [args.lmplz, "-o", str(args.order), "-S", args.memory, "-T", tmp]
            cmd += ["--text", str(text), "--arpa", str(kenlm_arpa)]
            seconds, gb = run(cmd)
            rows.append(("lmplz text -> ARPA", seconds, gb, ""))
        ours_arpa = work / "nextword.arpa"
        cmd = nextword + ["train", str(text), "--order", str(args.order), "-q"]

        def same_as_lmplz() -> str:
            if not kenlm_arpa.exists():
                return ""
            identical = filecmp.cmp(kenlm_arpa, ours_arpa, shallow=False)
            return "identical to lmplz's" if identical else "DIFFERS from lmplz's"

        for budget in [args.memory, *args.budgets]:
            bounded = cmd + ["--memory", budget, "--temp-dir", tmp, "-o", str(ours_arpa)]
            seconds, gb = run(bounded)
            rows.append((f"nextword --memory {budget} -> ARPA", seconds, gb, same_as_lmplz()))
            arpa_mb = ours_arpa.stat().st_size / 1e6
            ours_arpa.unlink()
        if not args.skip_default:
            seconds, gb = run(cmd + ["--temp-dir", tmp, "-o", str(ours_arpa)])
            rows.append(("nextword -> ARPA (default 80%)", seconds, gb, same_as_lmplz()))
            ours_arpa.unlink()
        if not args.skip_in_memory:
            seconds, gb = run(cmd + ["--in-memory", "-o", str(ours_arpa)])
            rows.append(("nextword --in-memory -> ARPA", seconds, gb, same_as_lmplz()))
            ours_arpa.unlink()
        if not args.skip_binary:
            binary = work / "nextword.nwlm"
            seconds, gb = run(cmd + ["-o", str(binary)])
            size = f"{binary.stat().st_size / 1e6:,.0f} MB"
            rows.append(("nextword text -> binary", seconds, gb, size))
            binary.unlink()
        if not args.skip_count:
            count = nextword + ["count", str(text), "--order", str(args.order), "-q", "-k", "0"]
            seconds, gb = run(count)
            rows.append((f"nextword count 1..{args.order}", seconds, gb, ""))
    return rows, arpa_mb


if __name__ == "__main__":
    main()
