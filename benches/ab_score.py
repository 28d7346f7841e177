"""Scoring speed of one nextword model against the kenlm module, as a ratio.

    python benches/ab_score.py MODEL.nwlm KENLM_MODEL [--text ptb.test.txt] [--rounds 15]

Both models are loaded once and warmed by one untimed pass; then nextword's
``perplexity`` (one thread) and the kenlm module's ``Model.score`` per
sentence take turns, ``--rounds`` times, each timed in CPU seconds of this
process. Printed: the median CPU time of each and the median of the per-round
ratios (kenlm's time over ours: above 1 means nextword is faster). To compare
two builds of nextword, run it with each build in place, alternating: the
ratio cancels most of the machine's drift between runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import nextword

SHARED = Path(os.environ.get("NEXTWORD_SHARED", Path(__file__).parents[1] / ".." / "shared"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("kenlm_model")
    ap.add_argument("--text", default=str(SHARED / "corpora/en/ptb.test.txt"))
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    import kenlm

    sents = Path(args.text).read_text(encoding="utf-8").splitlines()
    ours = nextword.NGramLM.load(args.model)
    peer = kenlm.Model(args.kenlm_model)
    ours.perplexity(args.text, threads=1, progress=False)
    ratios, mine, theirs = [], [], []
    for _ in range(args.rounds):
        c = time.process_time()
        ours.perplexity(args.text, threads=1, progress=False)
        t_ours = time.process_time() - c
        c = time.process_time()
        for s in sents:
            peer.score(s)
        t_peer = time.process_time() - c
        mine.append(t_ours)
        theirs.append(t_peer)
        ratios.append(t_peer / t_ours)
    print(
        f"{args.model}: nextword {statistics.median(mine):.4f} s, "
        f"kenlm {statistics.median(theirs):.4f} s, "
        f"kenlm/nextword median {statistics.median(ratios):.3f}"
    )


if __name__ == "__main__":
    main()
