"""Counting and Kneser-Ney on a real Dask cluster (2 worker processes).

The distributed count must equal the single-process count exactly (n-grams,
counts, vocabulary order, statistics), feed the same Kneser-Ney model (KenLM's
golden file), survive a worker killed mid-job, and report bad input where it is.
"""

from __future__ import annotations

import gzip
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import nextword
import pytest
from conftest import require_module
from hypothesis import given, settings
from hypothesis import strategies as st
from nextword.distributed import Shard, plan_shards, read_shard

distributed = require_module("distributed", "pip install 'nextword[dask]'")


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def table(counts: nextword.NGramCounts) -> dict[int, dict[tuple[str, ...], int]]:
    return {n: dict(counts.items(n)) for n in range(1, counts.order + 1)}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """Three files: a plain one big enough to split, a gzipped one, a small one,
    with blank lines, CRLF and last lines without their newline."""
    root = tmp_path / "corpus"
    root.mkdir()
    words = "the cat sat on a mat and the dog ran off with it again".split()
    lines = []
    for i in range(400):
        n = (i * 7) % 11
        lines.append(" ".join(words[(i + j) % len(words)] for j in range(n)))
    # The split file's last shard ends without a newline: no </s> there, as
    # in one process (lmplz's rule).
    (root / "a.txt").write_text("\n".join(lines), encoding="utf-8")
    with gzip.open(root / "b.txt.gz", "wt", encoding="utf-8") as f:
        f.write("a gzipped line\r\n\r\nthe cat again\n")
    (root / "c.txt").write_text("the end\nno newline here", encoding="utf-8")
    return root


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(st.text(alphabet="ab \n", max_size=12), min_size=1, max_size=30),
    split=st.integers(min_value=1, max_value=40),
)
def test_byte_range_shards_own_every_line_once(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], split: int
) -> None:
    path = tmp_path_factory.mktemp("shards") / "t.txt"
    data = "\n".join(lines).encode()
    path.write_bytes(data)
    if not data:
        return
    shards = plan_shards([path], split_bytes=split)
    pieces = [read_shard(s) if s.end is not None else (0, path.read_bytes()) for s in shards]
    assert b"".join(piece for _, piece in pieces) == data
    # Each piece is whole lines, and says where in the file it starts.
    offset = 0
    for start, piece in pieces:
        if piece:
            assert start == offset
            assert start == 0 or data[start - 1 : start] == b"\n"
        offset += len(piece)


def test_plan_keeps_compressed_files_whole(corpus: Path) -> None:
    shards = plan_shards([corpus], split_bytes=100)
    assert Shard(str(corpus / "b.txt.gz")) in shards
    assert [s.path for s in shards] == sorted(s.path for s in shards)
    assert sum(1 for s in shards if s.path.endswith("a.txt")) > 10


def test_distributed_count_equals_single_process(client: object, corpus: Path) -> None:
    local = nextword.count_ngrams(corpus, order=4, progress=False)
    remote = nextword.distributed.count_ngrams([corpus], order=4, client=client, split_bytes=500)
    assert table(remote) == table(local)
    assert remote.vocab.words() == local.vocab.words()  # ids included
    for key in ("lines", "sentences", "blank_lines"):
        assert remote.stats[key] == local.stats[key], key
    assert (remote.tokens, remote.sentences) == (local.tokens, local.sentences)
    skip = nextword.distributed.count_ngrams(
        [corpus], order=2, client=client, split_bytes=500, skip_blank=True
    )
    assert table(skip) == table(nextword.count_ngrams(corpus, 2, skip_blank=True))


def test_kneser_ney_from_the_cluster_is_kenlms(
    client: object, shared: Path, tmp_path: Path
) -> None:
    golden = shared / "golden/kenlm"
    lm = nextword.NGramLM.fit(
        golden / "tinyshakespeare.train.txt", order=3, client=client, progress=False
    )
    out = tmp_path / "ts3.arpa"
    lm.save(out)
    with gzip.open(golden / "tinyshakespeare.train.o3.arpa.gz", "rb") as f:
        assert out.read_bytes() == f.read()


def test_split_shards_fit_the_same_model(client: object, shared: Path, tmp_path: Path) -> None:
    train = shared / "golden/kenlm/tinyshakespeare.train.txt"
    counts = nextword.distributed.count_ngrams(train, order=5, client=client, split_bytes=100_000)
    remote = nextword.NGramLM.fit(counts, order=5)
    local = nextword.NGramLM.fit(train, order=5, progress=False)
    remote.save(tmp_path / "remote.arpa")
    local.save(tmp_path / "local.arpa")
    assert (tmp_path / "remote.arpa").read_bytes() == (tmp_path / "local.arpa").read_bytes()


def test_a_killed_worker_changes_nothing(client: object, shared: Path) -> None:
    train = shared / "golden/kenlm/tinyshakespeare.train.txt"
    expected = table(nextword.count_ngrams(train, order=3, progress=False))
    pids = client.run(os.getpid)  # type: ignore[attr-defined]
    victim = next(iter(pids.values()))
    shards = plan_shards([train], split_bytes=20_000)
    assert len(shards) > 20
    futures = client.map(  # type: ignore[attr-defined]
        nextword.distributed.count_shard,
        shards,
        order=3,
        tokenizer="whitespace",
        pad=True,
        options={},
        pure=False,
    )
    # Kill one worker once some shards are counted and others are not.
    deadline = time.monotonic() + 60
    while not any(f.done() for f in futures) and time.monotonic() < deadline:
        time.sleep(0.01)
    pending = sum(not f.done() for f in futures)
    os.kill(victim, signal.SIGKILL)
    assert pending > 0, "every shard finished before the worker was killed"
    tables = client.gather(futures)  # type: ignore[attr-defined]
    merged = tables[0]
    for t in tables[1:]:
        merged = nextword.distributed.merge_tables(merged, t)
    assert table(nextword.distributed._table(merged)) == expected
    # The cluster recovers its worker (the nanny restarts it).
    client.wait_for_workers(2, timeout=60)  # type: ignore[attr-defined]


def test_bad_utf8_in_a_split_shard_names_file_line_and_byte(client: object, tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    good = b"fine line\n" * 50
    path.write_bytes(good + b"caf\xe9 au lait\n" + good)
    with pytest.raises(nextword.CorpusError) as local:
        nextword.count_ngrams(path, order=2, progress=False)
    with pytest.raises(nextword.CorpusError) as remote:
        nextword.distributed.count_ngrams(path, order=2, client=client, split_bytes=64)
    assert remote.value.line == local.value.line == 51
    assert remote.value.byte == len(good) + 3 == local.value.byte
    assert str(path) in str(remote.value)
    replaced = nextword.distributed.count_ngrams(
        path, order=1, client=client, split_bytes=64, errors="replace"
    )
    assert replaced["caf\ufffd"] == 1


def test_fit_with_a_client_refuses_texts(client: object) -> None:
    with pytest.raises(ValueError, match="paths"):
        nextword.NGramLM.fit(["a b c"], order=2, client=client)
