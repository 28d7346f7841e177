"""The examples in docstrings run and print what they say."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "nextword",
    "nextword.bpe",
    "nextword.corpus",
    "nextword.counts",
    "nextword.index",
    "nextword.interpolate",
    "nextword.model",
    "nextword.sampling",
    "nextword.tokenizers",
    "nextword.vocab",
    "nextword.reference.bpe",
    "nextword.reference.corpus",
    "nextword.reference.count",
    "nextword.reference.ngram_model",
    "nextword.reference.suffix_array",
    "nextword.reference.tokenize",
    "nextword.embeddings",
    "nextword.embedding_eval",
    "nextword.cli_messages",
    "nextword.explainer_demo",
    "nextword.generate_cli",
    "nextword.plots",
    "nextword.reference.word2vec",
    "nextword.neural.compare",
    "nextword.neural.language_model",
    "nextword.neural.scoring",
    "nextword.neural.training",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
