"""Reading an ARPA file, side by side with KenLM's ``build_binary`` (issues 12/14).

    python benches/report_arpa_read.py [--arpa m.arpa | --corpus text.txt] [--work DIR] [--rounds N]

Each reader runs in its own process, timed from outside (wall time, CPU time
of the process and its threads, peak resident memory from ``wait4``):

- ``build_binary probing m.arpa out`` and ``build_binary trie m.arpa out``
  (KenLM; found on ``PATH``, reported as absent when it is not there);
- ``NGramLM.load("m.arpa")`` in Python (reading only, nothing written);
- ``nextword convert m.arpa m.nwlm`` (read, then write the hash layout) and
  ``nextword convert m.arpa m.nwlm --layout trie``.

Without ``--arpa``, lmplz (on ``PATH``) makes the 5-gram ARPA of ``--corpus``
(default /work/data/gut32.txt, the 32 MB Gutenberg slice: 12.65 M n-grams,
508 MB of ARPA) in ``--work``. The rounds are interleaved (every reader once
per round) and the table shows medians; the machine load (``uptime``) is
printed before and after, since other work on the machine slows every reader.
The files written are deleted at the end (the ARPA too, when made here).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    """One process's figures."""

    wall: float
    cpu: float
    max_rss_mb: float


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def timed(cmd: list[str]) -> Run:
    """Run `cmd` to its end, output discarded; its wall time, CPU time and peak RSS."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err}")
    # ru_maxrss is in KiB on Linux.
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def make_arpa(corpus: Path, work: Path) -> Path:
    lmplz = shutil.which("lmplz")
    if lmplz is None:
        raise SystemExit("lmplz is not on PATH: pass --arpa, or put KenLM's bin on PATH")
    arpa = work / (corpus.stem + ".5.arpa")
    print(f"$ lmplz -o 5 -S 2G --text {corpus} --arpa {arpa}", flush=True)
    subprocess.run(
        [lmplz, "-o", "5", "-S", "2G", "--text", str(corpus), "--arpa", str(arpa)],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    return arpa


def readers(arpa: Path, work: Path) -> dict[str, tuple[list[str], Path | None]]:
    """The command of every reader to time and the file it writes, by the
    name the table gives it."""
    py = sys.executable
    load = f"import nextword; nextword.NGramLM.load({str(arpa)!r})"
    cmds: dict[str, tuple[list[str], Path | None]] = {}
    build_binary = shutil.which("build_binary")
    if build_binary is not None:
        for kind in ("probing", "trie"):
            out = work / f"kenlm.{kind}"
            cmds[f"KenLM build_binary {kind}"] = ([build_binary, kind, str(arpa), str(out)], out)
    cmds["nextword NGramLM.load (read only)"] = ([py, "-c", load], None)
    convert = [py, "-m", "nextword", "convert", "-q", str(arpa)]
    out = work / "nw.hash.nwlm"
    cmds["nextword convert (hash layout)"] = ([*convert, str(out)], out)
    out = work / "nw.trie.nwlm"
    cmds["nextword convert --layout trie"] = ([*convert, str(out), "--layout", "trie"], out)
    return cmds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--arpa", type=Path, help="the ARPA file to read (default: make one)")
    parser.add_argument("--corpus", type=Path, default=Path("/work/data/gut32.txt"))
    parser.add_argument(
        "--work", type=Path, default=None, help="scratch folder (default: a temporary one)"
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", default="", help="run only the readers whose name contains this")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="arpa_read_", dir=args.work))
    try:
        arpa = args.arpa if args.arpa is not None else make_arpa(args.corpus, work)
        with arpa.open(errors="replace") as f:
            header = f.read(4000)
        ngrams = sum(
            int(line.split("=")[1]) for line in header.splitlines() if line.startswith("ngram ")
        )
        print(f"{arpa}: {arpa.stat().st_size / 1e6:,.1f} MB, {ngrams / 1e6:,.2f} M n-grams")
        cmds = {name: cmd for name, cmd in readers(arpa, work).items() if args.only in name}
        if shutil.which("build_binary") is None:
            print("build_binary is not on PATH: KenLM's rows are absent")
        print("load before:", uptime(), flush=True)
        runs: dict[str, list[Run]] = {name: [] for name in cmds}
        sizes: dict[str, int] = {}
        for r in range(args.rounds):
            for name, (cmd, out) in cmds.items():
                run = timed(cmd)
                runs[name].append(run)
                if out is not None and out.exists():
                    sizes[name] = out.stat().st_size
                    out.unlink()
                print(
                    f"  round {r + 1}: {name}: {run.wall:.1f} s wall, {run.cpu:.1f} s CPU",
                    flush=True,
                )
        print("load after: ", uptime())
        print()
        print(f"| reader (median of {args.rounds}) | wall | CPU | peak RSS | output |")
        print("|---|---:|---:|---:|---:|")
        for name, rs in runs.items():
            wall = statistics.median(r.wall for r in rs)
            cpu = statistics.median(r.cpu for r in rs)
            rss = max(r.max_rss_mb for r in rs)
            size = f"{sizes[name] / 1e6:,.1f} MB" if name in sizes else ""
            print(f"| {name} | {wall:,.1f} s | {cpu:,.1f} s | {rss:,.0f} MB | {size} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
