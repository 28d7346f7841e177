"""Compact layouts and query speed, side by side with KenLM (issue 14).

    python benches/report_trie.py [--work DIR] [--corpus gut32.txt] [--skip-sizes] [--skip-speed]

Sizes: one 5-gram (lmplz's ARPA of ``--corpus``, by default the 32 MB
Gutenberg slice /work/data/gut32.txt) saved by nextword in the hash layout,
the trie, and the trie quantized to 8 bits, beside KenLM's ``build_binary``
probing, trie and ``-q 8 -b 8`` trie of the same ARPA; and the perplexity of
a held-out book (the last 20,000 lines of /work/data/gut.txt, by an author the
slice does not reach) under each, to show what quantization costs.

Speed: the PTB 5-gram (fitted by nextword on ptb.train, written as ARPA for
kenlm) scoring ptb.test: nextword's ``perplexity`` on 1 and 2 threads in both
layouts (and the hash layout once more without its huge-page copy,
``NEXTWORD_HUGE_PAGES=0``) against the ``kenlm`` module's ``Model.score`` per
sentence, on the ARPA file (KenLM's probing layout) and on ``build_binary
trie`` of it (one process, and two processes each scoring half); loading
times; top-p 0.9 generation tokens/s. Medians of interleaved runs. Needs lmplz / build_binary
(``--kenlm-bin``, default /tmp/kenlm/build/bin) and ``pip install kenlm``.
The machine load (``uptime``) is printed beside the figures.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any, Callable

import nextword

SHARED = Path(os.environ.get("NEXTWORD_SHARED", Path(__file__).parents[1] / ".." / "shared"))


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def median_time(fn: Callable[[], Any], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def mb(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:,.1f} MB"


def run(cmd: list[str], **kw: Any) -> None:
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kw)


def sizes(args: argparse.Namespace) -> None:
    work: Path = args.work
    bins = Path(args.kenlm_bin)
    arpa = work / "g5.arpa"
    if not arpa.exists():
        with open(args.corpus, "rb") as text, open(work / "g5.arpa.tmp", "wb") as out:
            run(
                [str(bins / "lmplz"), "-o", "5", "-S", "30%", "-T", str(work)],
                stdin=text,
                stdout=out,
            )
        (work / "g5.arpa.tmp").rename(arpa)
    held = work / "heldout.txt"
    if not held.exists():
        lines = Path(args.heldout_from).read_text(encoding="utf-8", errors="replace").splitlines()
        held.write_text("\n".join(lines[-20000:]) + "\n", encoding="utf-8")
    kenlm_files = {
        "probing": work / "g5.probing",
        "trie": work / "g5.trie",
        "trie -q 8 -b 8": work / "g5.trie.q8",
    }
    for label, path in kenlm_files.items():
        if not path.exists():
            flags = ["-q", "8", "-b", "8"] if "-q" in label else []
            kind = "probing" if label == "probing" else "trie"
            run([str(bins / "build_binary"), "-s", *flags, kind, str(arpa), str(path)])
    ours = {
        "hash": (work / "g5.hash.nwlm", {}),
        "trie": (work / "g5.trie.nwlm", {"layout": "trie"}),
        "trie quantize=8": (work / "g5.trie8.nwlm", {"layout": "trie", "quantize": 8}),
    }
    lm = None
    for label, (path, kw) in ours.items():
        if not path.exists():
            if lm is None:
                t = time.perf_counter()
                lm = nextword.NGramLM.load(arpa)
                print(f"read ARPA in {time.perf_counter() - t:.1f} s", flush=True)
            t = time.perf_counter()
            lm.save(path, progress=False, **kw)
            print(f"saved {label} in {time.perf_counter() - t:.1f} s", flush=True)
    del lm
    print(f"\n## Sizes: 5-gram of {args.corpus} ({uptime()})\n")
    sizes_of = nextword.NGramLM.load(ours["hash"][0], verify=False).sizes()
    print(f"n-grams per order: {sizes_of} (total {sum(sizes_of):,})\n")
    print("| layout | nextword | KenLM | held-out ppl nextword | held-out ppl KenLM |")
    print("|---|---|---|---|---|")
    ppl_ours = {}
    for label, (path, _) in ours.items():
        m = nextword.NGramLM.load(path, verify=False)
        ppl_ours[label] = m.perplexity(held, progress=False).perplexity
    ppl_theirs = {}
    try:
        import kenlm

        sents = held.read_text(encoding="utf-8").splitlines()
        for label, path in kenlm_files.items():
            km = kenlm.Model(str(path))
            total = sum(km.score(s) for s in sents)
            tokens = sum(len(s.split()) + 1 for s in sents)
            ppl_theirs[label] = 10 ** (-total / tokens)
    except ImportError:
        pass
    rows = [
        ("ARPA text", arpa, None, "", ""),
        ("hash / probing", ours["hash"][0], kenlm_files["probing"], "hash", "probing"),
        ("trie", ours["trie"][0], kenlm_files["trie"], "trie", "trie"),
        (
            "trie, 8-bit quantized",
            ours["trie quantize=8"][0],
            kenlm_files["trie -q 8 -b 8"],
            "trie quantize=8",
            "trie -q 8 -b 8",
        ),
    ]
    for name, p_ours, p_theirs, k_ours, k_theirs in rows:
        ours_ppl = f"{ppl_ours[k_ours]:.4f}" if k_ours else ""
        theirs_ppl = f"{ppl_theirs[k_theirs]:.4f}" if k_theirs in ppl_theirs else ""
        theirs_size = mb(p_theirs) if p_theirs else ""
        print(f"| {name} | {mb(p_ours)} | {theirs_size} | {ours_ppl} | {theirs_ppl} |")
    change = ppl_ours["trie quantize=8"] / ppl_ours["hash"] - 1
    print(
        f"\nquantization to 8 bits changes nextword's held-out perplexity by {change:+.3%}", end=""
    )
    if ppl_theirs:
        k = ppl_theirs["trie -q 8 -b 8"] / ppl_theirs["trie"] - 1
        print(f", KenLM's by {k:+.3%}")
    else:
        print()


def kenlm_score(args: tuple[str, list[str]]) -> float:
    """Score the sentences with the kenlm module; returns the CPU seconds taken."""
    import kenlm

    path, sents = args
    km = _KENLM.get(path) or kenlm.Model(path)
    _KENLM[path] = km
    t = time.process_time()
    sum(km.score(s) for s in sents)
    return time.process_time() - t


_KENLM: dict[str, Any] = {}


def speed(args: argparse.Namespace) -> None:
    work: Path = args.work
    train = work / "ptb.train.txt"
    test = work / "ptb.test.txt"
    for src, dst in (("ptb.train.txt", train), ("ptb.test.txt", test)):
        if not dst.exists():
            text = (SHARED / "corpora/en" / src).read_text(encoding="utf-8")
            dst.write_text(text.replace("<unk>", "UNK"), encoding="utf-8")
    arpa, hashed, trie = work / "ptb5.arpa", work / "ptb5.nwlm", work / "ptb5.trie.nwlm"
    if not trie.exists():
        lm = nextword.NGramLM.fit(train, order=5, progress=False)
        lm.save(arpa, progress=False)
        lm.save(hashed, progress=False)
        lm.save(trie, progress=False, layout="trie")
    # KenLM's trie of the same model, for the layout-to-layout comparison.
    kenlm_trie = work / "ptb5.kenlm.trie"
    if not kenlm_trie.exists() and (Path(args.kenlm_bin) / "build_binary").exists():
        run([str(Path(args.kenlm_bin) / "build_binary"), "-s", "trie", str(arpa), str(kenlm_trie)])
    sents = test.read_text(encoding="utf-8").splitlines()
    print(f"\n## Speed: PTB 5-gram on ptb.test ({uptime()})\n")
    print(f"files: hash {mb(hashed)}, trie {mb(trie)}, ARPA {mb(arpa)}\n")
    for label, path in (("hash", hashed), ("trie", trie)):
        verified = median_time(lambda p=path: nextword.NGramLM.load(p, verify=True), 7)
        fast = median_time(lambda p=path: nextword.NGramLM.load(p, verify=False), 7)
        # The trie's hot arrays are copied onto huge pages at load, the hash
        # index by the first scoring call (Array::on_huge_pages);
        # NEXTWORD_HUGE_PAGES=0 keeps them in the file's pages.
        os.environ["NEXTWORD_HUGE_PAGES"] = "0"
        plain = median_time(lambda p=path: nextword.NGramLM.load(p, verify=False), 7)
        del os.environ["NEXTWORD_HUGE_PAGES"]
        print(
            f"load {label}: {verified * 1e3:.1f} ms verified, {fast * 1e3:.1f} ms unverified, "
            f"{plain * 1e3:.1f} ms unverified without the huge-page copy"
        )
    models = {label: nextword.NGramLM.load(p) for label, p in (("hash", hashed), ("trie", trie))}
    models["hash, file pages"] = nextword.NGramLM.load(hashed)
    peers = {"probing": str(arpa)}
    if kenlm_trie.exists():
        peers["trie"] = str(kenlm_trie)
    t = time.perf_counter()
    tokens = models["hash"].perplexity(test, progress=False).tokens
    first = time.perf_counter() - t
    print(f"first scoring call, hash layout (makes the huge-page copy): {first:.3f} s")
    rounds: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    half = len(sents) // 2
    kenlm_ok = True
    try:
        import kenlm

        for peer in peers.values():
            _KENLM[peer] = kenlm.Model(peer)
        ctx = mp.get_context("fork")
        pool = ctx.Pool(2)
        for peer in peers.values():
            pool.map(kenlm_score, [(peer, sents[:10]), (peer, sents[:10])])
    except ImportError:
        kenlm_ok = False
    for _ in range(args.rounds):
        # Interleaved, so load changes hit every contender alike.
        for label, m in models.items():
            for threads in (1, 2):
                key = f"nextword {label}, {threads} thread(s)"
                # The huge-page copy is made by a model's first scoring call.
                if "file pages" in label:
                    os.environ["NEXTWORD_HUGE_PAGES"] = "0"
                t, c = time.perf_counter(), time.process_time()
                m.perplexity(test, threads=threads, progress=False)
                rounds.setdefault(key, []).append(time.perf_counter() - t)
                cpu.setdefault(key, []).append(time.process_time() - c)
                os.environ.pop("NEXTWORD_HUGE_PAGES", None)
        for kind, peer in peers.items() if kenlm_ok else ():
            key = f"kenlm module {kind}, 1 process"
            t = time.perf_counter()
            c = kenlm_score((peer, sents))
            rounds.setdefault(key, []).append(time.perf_counter() - t)
            cpu.setdefault(key, []).append(c)
            key = f"kenlm module {kind}, 2 processes"
            t = time.perf_counter()
            cs = pool.map(kenlm_score, [(peer, sents[:half]), (peer, sents[half:])])
            rounds.setdefault(key, []).append(time.perf_counter() - t)
            cpu.setdefault(key, []).append(sum(cs))
    print(f"\nscoring {tokens:,} tokens, median of {args.rounds} interleaved rounds.")
    print("Wall-clock rates suffer whatever else the machine runs; CPU-second rates")
    print("(tokens per second of CPU the scorer itself used, all its threads or")
    print("processes summed) are what a quiet core would give per thread.\n")
    print("Ratios are against KenLM's layout of the same kind (hash: probing, trie: trie).\n")
    print("| scorer | wall tokens/s | vs kenlm | tokens per CPU-s (per thread) | vs kenlm |")
    print("|---|---|---|---|---|")
    rate = {k: tokens / statistics.median(v) for k, v in rounds.items()}
    cpu_rate = {k: tokens / statistics.median(v) for k, v in cpu.items()}
    for k, r in rate.items():
        workers = 2 if "2" in k.split(",")[-1] else 1
        kind = "trie" if "trie" in k.split(",")[0] else "probing"
        peer_key = f"kenlm module {kind}, {workers} process" + ("es" if workers == 2 else "")
        peer, peer_cpu = rate.get(peer_key), cpu_rate.get(peer_key)
        mine = not k.startswith("kenlm")
        ratio = f"{r / peer:.2f}x" if peer and mine else ""
        ratio_cpu = f"{cpu_rate[k] / peer_cpu:.2f}x" if peer_cpu and mine else ""
        # Per thread: CPU-second rates are already per thread (all threads summed).
        print(f"| {k} | {r / 1e6:.2f} M | {ratio} | {cpu_rate[k] / 1e6:.2f} M | {ratio_cpu} |")
    print()
    for label, m in models.items():
        if label not in ("hash", "trie"):
            continue

        def gen(m: nextword.NGramLM = m) -> int:
            return sum(
                len(m.generate_ids("", max_tokens=200, seed=i, stop=None, top_p=0.9))
                for i in range(50)
            )

        c = time.process_time()
        count = gen()
        per_cpu = count / (time.process_time() - c)
        tps = count / median_time(gen, repeat=3)
        print(
            f"top-p 0.9 generation, {label}, one thread: {tps:,.0f} tokens/s wall, "
            f"{per_cpu:,.0f} tokens per CPU-second"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/nextword-trie-bench"))
    ap.add_argument("--corpus", default="/work/data/gut32.txt")
    ap.add_argument("--heldout-from", default="/work/data/gut.txt")
    ap.add_argument("--kenlm-bin", default="/tmp/kenlm/build/bin")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--skip-sizes", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.skip_speed:
        speed(args)
    if not args.skip_sizes:
        sizes(args)


if __name__ == "__main__":
    main()
