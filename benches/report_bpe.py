"""BPE benchmarks, side by side in one run (medians of repeats), as a table:

- encoding one whole document on one thread, MB/s: nextword vs ``tiktoken``
  built from our ranks vs HF ``tokenizers`` loading our ``tokenizer.json``,
  with a check that all three give the same ids;
- batch encoding (documents of 500 lines, 4 MB and 16 MB) on 1 and 2 threads,
  wall and CPU time, each thread count in its own process
  (``RAYON_NUM_THREADS``), the two alternated over 5 rounds (medians);
- adversarial inputs (1 MB of one letter, of random bytes, of one emoji): time
  per MB against the ordinary document's;
- training a byte-level BPE (GPT-2 pattern, min_frequency 2) on at least
  ``--train-mb`` MB of the shared Gutenberg set, nextword vs HF ``tokenizers``,
  each in its own process, with its peak memory (max RSS).

The encoding tokenizer is trained here on the English corpora (``corpora/en``).
Peers that are not installed are reported as such (``pip install tokenizers tiktoken``).
Usage: ``python benches/report_bpe.py [--vocab-size N] [--train-mb MB] [--skip-train]``.
"""

from __future__ import annotations

import argparse
import base64
import functools
import gzip
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Optional

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("NEXTWORD_SHARED", ROOT.parent / "shared"))
EN = sorted((SHARED / "corpora/en").glob("*.txt"))
GUTENBERG = sorted((SHARED / "corpora/gutenberg").glob("*.txt.gz"))


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def tiktoken_encoding(tok: Any, ranks_path: Path) -> Optional[Any]:
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


def gutenberg_text(first: int, megabytes: float) -> str:
    """At least `megabytes` MB of Gutenberg text, from the `first`-th file on."""
    parts: list[str] = []
    size = 0
    for path in GUTENBERG[first:]:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            text = f.read()
        parts.append(text)
        size += len(text.encode())
        if size >= megabytes * 1e6:
            break
    joined = "".join(parts)
    return joined.encode()[: int(megabytes * 1e6)].decode("utf-8", errors="ignore")


def row(name: str, *cells: str) -> None:
    print(f"| {name} | " + " | ".join(cells) + " |")


# ---------------------------------------------------------------- child processes


def thread_cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) of each thread of this process, by thread id."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[task.name] = (int(fields[11]) + int(fields[12])) / tick
    return out


def child_batch(spec_path: str, docs_path: str, repeat: int) -> None:
    """Encode the documents in batch; print wall and CPU seconds (medians) and
    how the CPU time of all repeats split over the threads: total over the
    busiest thread's is the speed-up the split allows on idle cores, whatever
    the machine's load."""
    from nextword import BPETokenizer

    tok = BPETokenizer.from_spec(Path(spec_path).read_text())
    docs = json.loads(Path(docs_path).read_text())
    tok.encode_batch(docs[:4])
    walls, cpus = [], []
    before = thread_cpu_seconds()
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        tok.encode_batch(docs)
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    after = thread_cpu_seconds()
    used = [after[t] - before.get(t, 0.0) for t in after]
    print(
        json.dumps(
            {
                "wall": statistics.median(walls),
                "cpu": statistics.median(cpus),
                "split": sum(used) / max(max(used), 1e-9),
            }
        )
    )


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss it starts
    afresh at exec, so the parent's size does not leak into the child's)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_train(who: str, paths: list[str], vocab_size: int) -> None:
    """Train once; print wall seconds, peak RSS after the imports and at the end, in MB."""
    if who == "nextword":
        from nextword import BPETokenizer, Corpus
    else:
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    imports_mb = peak_rss_mb()
    start = time.perf_counter()
    if who == "nextword":
        tok = BPETokenizer.train(Corpus(paths=paths), vocab_size=vocab_size, progress=False)
        size = tok.vocab_size
    else:
        hf = Tokenizer(models.BPE())
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=2,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        hf.train(paths, trainer)
        size = hf.get_vocab_size()
    wall = time.perf_counter() - start
    peak = peak_rss_mb()
    print(json.dumps({"wall": wall, "rss_mb": peak, "imports_mb": imports_mb, "vocab": size}))


def run_child(args: list[str], env: Optional[dict[str, str]] = None) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- sections


def encode_section(tok: Any, tmp: Path, repeat: int) -> float:
    """Returns nextword's seconds per MB on the ordinary documents."""
    tok.save(tmp / "tokenizer.json")
    tok.save_tiktoken(tmp / "ranks.tiktoken")
    try:
        import tokenizers

        hf = tokenizers.Tokenizer.from_file(str(tmp / "tokenizer.json"))
    except ImportError:
        hf = None
    enc = tiktoken_encoding(tok, tmp / "ranks.tiktoken")
    docs = {
        "tinyshakespeare": (SHARED / "corpora/en/tinyshakespeare.txt").read_text(encoding="utf-8"),
        "gutenberg 4 MB": gutenberg_text(len(GUTENBERG) // 2, 4),
    }
    print("\n### Encoding one document on one thread (MB/s, higher is better)\n")
    row("document", "MB", "nextword", "tiktoken", "tokenizers", "nextword/tiktoken", "same ids")
    row("---", "---:", "---:", "---:", "---:", "---:", "---")
    per_mb = []
    for name, text in docs.items():
        mb = len(text.encode()) / 1e6
        ids = tok.encode(text).tolist()
        ours = mb / median_time(functools.partial(tok.encode, text), repeat)
        per_mb.append(1 / ours)
        same = []
        tt = hf_mbs = float("nan")
        if enc is not None:
            tt = mb / median_time(functools.partial(enc.encode_ordinary, text), repeat)
            same.append(enc.encode_ordinary(text) == ids)
        if hf is not None:
            hf_mbs = mb / median_time(
                functools.partial(hf.encode, text, add_special_tokens=False), repeat
            )
            same.append(hf.encode(text, add_special_tokens=False).ids == ids)
        row(
            name,
            f"{mb:.1f}",
            f"{ours:.2f}",
            f"{tt:.2f}",
            f"{hf_mbs:.2f}",
            f"{ours / tt:.2f}x",
            str(all(same)),
        )
    return statistics.median(per_mb)


def batch_section(tok: Any, tmp: Path, repeat: int) -> None:
    """Batch encoding on 1 and 2 threads, for a small batch (4 MB: fixed costs
    such as copying the Python strings and waking the thread pool show) and a
    larger one (16 MB)."""
    (tmp / "spec").write_text(tok.spec)
    for megabytes in (4, 16):
        text = gutenberg_text(len(GUTENBERG) // 2, megabytes)
        lines = text.splitlines()
        docs = ["\n".join(lines[i : i + 500]) for i in range(0, len(lines), 500)]
        (tmp / "docs.json").write_text(json.dumps(docs))
        mb = len(text.encode()) / 1e6
        print(f"\n### Batch encoding, {len(docs)} documents of 500 lines ({mb:.1f} MB)\n")
        row("threads", "wall s", "CPU s", "MB/s", "speed-up (wall)", "CPU total / busiest thread")
        row("---", "---:", "---:", "---:", "---:", "---:")
        # The thread counts alternate over rounds, so that a slow spell of a
        # shared machine falls on both; medians over the rounds.
        rounds: dict[int, list[dict[str, float]]] = {1: [], 2: []}
        for _ in range(5):
            for threads in (1, 2):
                rounds[threads].append(
                    run_child(
                        [
                            "--child-batch",
                            str(tmp / "spec"),
                            str(tmp / "docs.json"),
                            str(4 * repeat),
                        ],
                        {"RAYON_NUM_THREADS": str(threads)},
                    )
                )
        base = statistics.median(r["wall"] for r in rounds[1])
        for threads, runs in rounds.items():
            wall = statistics.median(r["wall"] for r in runs)
            row(
                str(threads),
                f"{wall:.3f}",
                f"{statistics.median(r['cpu'] for r in runs):.3f}",
                f"{mb / wall:.2f}",
                f"{base / wall:.2f}x",
                f"{statistics.median(r['split'] for r in runs):.2f}",
            )


def adversarial_section(tok: Any, ordinary_s_per_mb: float, repeat: int) -> None:
    rng = random.Random(7)
    cases = {
        "1 MB of one letter": "a" * (1 << 20),
        "1 MB of random bytes": bytes(rng.randrange(256) for _ in range(1 << 20)).decode("latin-1"),
        "1 MB of one emoji": "😀" * (1 << 18),
    }
    print("\n### Adversarial inputs, one thread (time per MB against ordinary text)\n")
    row("input", "MB (UTF-8)", "s per MB", "x ordinary")
    row("---", "---:", "---:", "---:")
    row("ordinary (median of the documents above)", "", f"{ordinary_s_per_mb:.4f}", "1.00x")
    for name, text in cases.items():
        mb = len(text.encode()) / 1e6
        s_per_mb = median_time(functools.partial(tok.encode, text), repeat) / mb
        assert tok.decode(tok.encode(text)) == text
        row(name, f"{mb:.2f}", f"{s_per_mb:.4f}", f"{s_per_mb / ordinary_s_per_mb:.2f}x")


def train_section(train_mb: float, vocab_size: int, tmp: Path) -> None:
    # HF reads plain files only: both read the same decompressed copies.
    paths, size = [], 0
    for i, path in enumerate(GUTENBERG):
        with gzip.open(path, "rb") as f:
            data = f.read()
        if size + len(data) > train_mb * 1e6:  # cut the last file at a line end
            data = data[: data.rfind(b"\n", 0, int(train_mb * 1e6) - size) + 1]
        plain = tmp / f"gutenberg{i}.txt"
        plain.write_bytes(data)
        paths.append(str(plain))
        size += len(data)
        if size >= train_mb * 1e6:
            break
    print(
        f"\n### Training to {vocab_size} tokens on {size / 1e6:.1f} MB of Gutenberg "
        f"({len(paths)} files), one process each\n"
    )
    row("trainer", "wall s", "peak RSS MB", "of which imports", "vocab", "wall / tokenizers")
    row("---", "---:", "---:", "---:", "---:", "---:")
    results = {}
    for who in ("nextword", "tokenizers"):
        try:
            results[who] = run_child(["--child-train", who, str(vocab_size), *paths])
        except subprocess.CalledProcessError as e:
            row(who, f"failed: {e.stderr.strip().splitlines()[-1]}", "", "", "", "")
    hf = results.get("tokenizers")
    for who, r in results.items():
        ratio = f"{r['wall'] / hf['wall']:.2f}x" if hf else "n/a"
        rss, imports = f"{r['rss_mb']:.0f}", f"{r['imports_mb']:.0f}"
        row(who, f"{r['wall']:.1f}", rss, imports, str(r["vocab"]), ratio)


def main() -> None:
    if sys.argv[1:2] == ["--child-batch"]:
        child_batch(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    if sys.argv[1:2] == ["--child-train"]:
        child_train(sys.argv[2], sys.argv[4:], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-size", type=int, default=32000, help="of the encoding tokenizer")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--train-mb", type=float, default=50)
    parser.add_argument("--train-vocab-size", type=int, default=32000)
    parser.add_argument("--skip-train", action="store_true")
    args = parser.parse_args()

    from nextword import BPETokenizer, Corpus

    load = os.getloadavg()
    print(f"cores: {os.cpu_count()}; load average at start: {load[0]:.2f} {load[1]:.2f}")
    tok = BPETokenizer.train(
        Corpus(paths=[str(p) for p in EN]), vocab_size=args.vocab_size, progress=False
    )
    names = ", ".join(p.name for p in EN)
    print(f"encoding tokenizer: {args.vocab_size} tokens trained on {names}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ordinary = encode_section(tok, tmp, args.repeat)
        batch_section(tok, tmp, args.repeat)
        adversarial_section(tok, ordinary, args.repeat)
        if not args.skip_train:
            train_section(args.train_mb, args.train_vocab_size, tmp)
    load = os.getloadavg()
    print(f"\nload average at end: {load[0]:.2f} {load[1]:.2f}")


if __name__ == "__main__":
    main()
