"""Plain-Python reference implementations of nextword's core algorithms.

Everything here is written to be read: slow, simple, standard library only. It
is the specification that the Rust core is tested against (same inputs, same
outputs) and the baseline that the benchmarks compare with. It is never called
by the fast path.

* ``corpus``: texts to lines to sentences (``split_lines``, ``sentences``);
* ``tokenize``: sentences to tokens (KenLM's whitespace split, Unicode
  whitespace, Unicode words, characters);
* ``word_bounds``: the Unicode word-boundary rules (UAX #29) behind ``word_tokenize``;
* ``count``: tokens to n-gram counts (``count_ngrams``, ``count_of_counts``);
* ``ngram_model``, ``lm``, ``lm_kneser_ney``: n-gram models in backoff form and
  their estimators (MLE, add-k, Witten-Bell, stupid backoff; Kneser-Ney in
  lmplz's stages);
* ``sample``: the seeded sampler every model generates through;
* ``arpa``: ARPA files read and scored by their recursive definition
  (``load_arpa``, ``arpa_scores``, ``arpa_lengths``), KenLM's rules for files
  from other tools included;
* ``word2vec``: skip-gram and CBOW updates, noise table, subsampling and the
  one-thread training loop, in the core's float32 order.

Example:
    >>> from nextword.reference import count_ngrams, word_tokenize
    >>> unigrams, bigrams = count_ngrams(["Hello, world!"], order=2, tokenize=word_tokenize)
    >>> bigrams[("Hello", ",")]
    1
"""

from .arpa import ArpaModel, arpa_lengths, arpa_logprob, arpa_scores, load_arpa, read_arpa
from .corpus import KENLM_SEPARATORS, WHITESPACE, is_blank, sentences, split_lines
from .count import BOS, EOS, count_ngrams, count_of_counts
from .tokenize import (
    CJK_SPLIT_RANGES,
    CharTokenizer,
    UnicodeWhitespaceTokenizer,
    WhitespaceTokenizer,
    WordTokenizer,
    char_tokenize,
    unicode_whitespace_tokenize,
    whitespace_tokenize,
    word_tokenize,
)
from .word_bounds import (
    ALPHABET_RANGES,
    is_extended_pictographic,
    split_word_bounds,
    word_break_property,
)

__all__ = [
    "ALPHABET_RANGES",
    "ArpaModel",
    "arpa_lengths",
    "arpa_logprob",
    "arpa_scores",
    "load_arpa",
    "read_arpa",
    "BOS",
    "CJK_SPLIT_RANGES",
    "EOS",
    "KENLM_SEPARATORS",
    "WHITESPACE",
    "CharTokenizer",
    "UnicodeWhitespaceTokenizer",
    "WhitespaceTokenizer",
    "WordTokenizer",
    "char_tokenize",
    "count_ngrams",
    "count_of_counts",
    "is_blank",
    "is_extended_pictographic",
    "sentences",
    "split_lines",
    "split_word_bounds",
    "unicode_whitespace_tokenize",
    "whitespace_tokenize",
    "word_break_property",
    "word_tokenize",
]
