"""Each figure of nextword.plots renders to a valid PNG (or SVG) of plausible
size, from Python and from ``nextword plot``; ``nextword demo --plots`` saves them."""

from __future__ import annotations

import struct
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import nextword
import numpy as np
import pytest
from conftest import require_module

require_module("matplotlib", "pip install 'nextword[plots]'")

from nextword import plots  # noqa: E402
from nextword.cli import main  # noqa: E402

TEXT = [
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat and a dog met on the mat",
    "the bird sang to the cat",
] * 30


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, after checking its signature and IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data.endswith(b"IEND\xaeB`\x82"), f"{path} is truncated"
    return width, height


def assert_plausible_png(path: Path) -> None:
    width, height = png_size(path)
    assert 300 <= width <= 2000 and 200 <= height <= 2000, (width, height)
    assert path.stat().st_size > 5_000  # more than an empty canvas


@pytest.fixture(scope="module")
def counts() -> nextword.NGramCounts:
    return nextword.count_ngrams(TEXT, order=3, progress=False)


def test_zipf_png_and_svg(counts: nextword.NGramCounts, tmp_path: Path) -> None:
    assert_plausible_png(plots.zipf(counts, tmp_path / "z.png"))
    svg = plots.zipf(counts, tmp_path / "z.svg")
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert "slope" in svg.read_text()


def test_zipf_slope_of_a_power_law() -> None:
    assert plots.zipf_slope([1000 / r**1.5 for r in range(1, 200)]) == pytest.approx(-1.5)
    with pytest.raises(ValueError, match="two ranks"):
        plots.zipf_slope([3])


def test_count_of_counts(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(50)]
    text = [" ".join(rng.choice(words, size=8)) for _ in range(200)]
    varied = nextword.count_ngrams(text, order=3, progress=False)
    assert varied.count_of_counts(3).get(1, 0) > 0
    assert_plausible_png(plots.count_of_counts(varied, tmp_path / "c.png"))
    # Every n-gram of the repeated text occurs 30 times or more: nothing in 1..10.
    with pytest.raises(ValueError, match="nothing to draw"):
        plots.count_of_counts(
            nextword.count_ngrams(TEXT, order=2, progress=False), tmp_path / "x.png"
        )


def test_perplexity_by_order(tmp_path: Path) -> None:
    assert_plausible_png(
        plots.perplexity_by_order({1: 300.0, 2: 180.5, 3: 150.0}, tmp_path / "p.png")
    )
    with pytest.raises(ValueError, match="positive and finite"):
        plots.perplexity_by_order({1: float("nan")}, tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


def test_loss_curves_of_a_real_training_run(tmp_path: Path) -> None:
    vocab = nextword.Vocab.from_corpus(TEXT, progress=False)
    model = nextword.LSTMLanguageModel(vocab, embed_dim=8, hidden_dim=8, seed=0)
    config = nextword.TrainingConfig(steps=30, batch_size=4, seq_len=8, eval_every=10)
    history = nextword.train(model, TEXT, config, valid=TEXT[:8], progress=False)
    assert history.valid_losses
    assert_plausible_png(plots.loss_curves(history, tmp_path / "loss.png"))
    with pytest.raises(ValueError, match="no training step"):
        plots.loss_curves({"losses": []}, tmp_path / "none.png")


def test_word_vectors_pca(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(12)]
    wv = nextword.WordVectors(words, rng.normal(size=(12, 5)))
    assert_plausible_png(plots.word_vectors(wv, tmp_path / "v.png"))
    with pytest.raises(KeyError):
        plots.word_vectors(wv, tmp_path / "v2.png", words=["w1", "nope"])


def test_pca_finds_the_direction_of_most_variance() -> None:
    x = np.array([[10.0, 0, 0], [-10.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0]])
    p = plots.pca_2d(x)
    assert np.allclose(np.abs(p[:, 0]), [10, 10, 0, 0])
    assert np.allclose(np.abs(p[:, 1]), [0, 0, 1, 1])


def test_next_word_distribution(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lm = nextword.NGramLM.fit(TEXT, order=3, progress=False)
    assert_plausible_png(plots.next_word(lm, "the cat", tmp_path / "n.png", k=5))


def test_a_figure_is_png_or_svg(counts: nextword.NGramCounts, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        plots.zipf(counts, tmp_path / "z.jpg")
    assert list(tmp_path.iterdir()) == []


def test_plot_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(1)
    varied = [
        " ".join(rng.choice(["the", "cat", "dog", "sat", "ran", "on", "mat"], 6)) for _ in range(80)
    ]
    (tmp_path / "t.txt").write_text("\n".join(TEXT + varied) + "\n", encoding="utf-8")
    (tmp_path / "h.txt").write_text("the cat sat on the log\n", encoding="utf-8")
    assert main(["count", str(tmp_path / "t.txt"), "-o", str(tmp_path / "c.bin"), "-q"]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nextword.NGramLM.fit(tmp_path / "t.txt", order=3, progress=False).save(tmp_path / "m.nwlm")
    held_out = ["--held-out", str(tmp_path / "h.txt"), "--max-order", "3"]
    runs = [
        ["zipf", str(tmp_path / "t.txt")],
        ["count-of-counts", str(tmp_path / "c.bin")],
        ["perplexity", str(tmp_path / "t.txt"), *held_out],
        ["next", str(tmp_path / "m.nwlm"), "the cat"],
    ]
    for i, args in enumerate(runs):
        out = tmp_path / f"fig{i}.png"
        assert main(["plot", *args, "-o", str(out)]) == 0, args
        assert_plausible_png(out)
    assert "wrote" in capsys.readouterr().out


def test_demo_saves_its_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--plots", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "the explainer's experiment" in out
    names = sorted(p.name for p in tmp_path.iterdir())
    for name in ("zipf.png", "count_of_counts.png", "perplexity_by_order.png", "word_vectors.png"):
        assert name in names
    assert any(n.startswith("loss_") for n in names)
    for path in tmp_path.iterdir():
        assert_plausible_png(path)
