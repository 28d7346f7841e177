"""Run mutmut 2's mutants of one file one at a time, without mutmut's cache.

mutmut 2.5.1 loses lines of some files in its database (``Attribute
Mutant.line is required``) and stops; this loop uses its mutation operators
(``list_mutations``, ``mutate``) and nothing else. A dev tool, not a test:

    python tests/mutmut_loop.py FILE "RUNNER COMMAND" RESULTS.jsonl

Each mutant is written over FILE, RUNNER runs (a non-zero exit kills the
mutant), and FILE is restored; one JSON line per mutant goes to RESULTS, and
a second run skips the mutants already there. Run it in a copy of the tree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mutmut import ALL, Context, list_mutations, mutate  # type: ignore[import-untyped]


def main(path: Path, runner: str, out: Path) -> None:
    original = path.read_text(encoding="utf-8")
    ids = list_mutations(Context(source=original, filename=str(path), mutation_id=ALL))
    done = set()
    if out.exists():
        done = {json.loads(line)["n"] for line in out.read_text().splitlines()}
    print(f"{len(ids)} mutants, {len(done)} done", flush=True)
    for n, mid in enumerate(ids, 1):
        if n in done:
            continue
        mutated, count = mutate(Context(source=original, filename=str(path), mutation_id=mid))
        now = mutated.splitlines()[mid.line_number] if count else ""
        try:
            path.write_text(mutated, encoding="utf-8")
            try:
                rc = subprocess.run(runner, shell=True, capture_output=True, timeout=600).returncode
                status = "killed" if rc else "survived"
            except subprocess.TimeoutExpired:
                status = "timeout"
        finally:
            path.write_text(original, encoding="utf-8")
        record = {"n": n, "line": mid.line_number + 1, "was": mid.line.strip(), "now": now.strip()}
        record["status"] = status
        with out.open("a") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(n, status, record["line"], record["now"], flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
