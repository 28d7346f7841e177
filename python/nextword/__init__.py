"""nextword: language modelling from corpus to next word, with a Rust core.

Collect a corpus, analyse it, count n-grams, train n-gram language models
(Kneser-Ney as KenLM's lmplz, MLE, add-k, Witten-Bell, stupid backoff) and
neural ones (MLP, RNN, LSTM, Transformer, in numpy), score text, ask for the
next word and generate, through one API.

>>> import nextword
>>> counts = nextword.count_ngrams(["to be or not to be"], order=3)
>>> counts["to", "be"]
2
"""

from nextword import distributed  # noqa: F401  (nextword.distributed; imports no Dask)
from nextword._core import __version__
from nextword.bpe import BPETokenizer
from nextword.corpus import Corpus, as_corpus
from nextword.counts import MAX_ORDER, NGramCounts, count_ngrams
from nextword.embeddings import Word2Vec, WordVectors
from nextword.errors import (
    CorpusError,
    EmptyCorpusError,
    ModelFormatError,
    NextwordError,
    NoFilesError,
)
from nextword.filter import dedup_exact, dedup_spans, filter_corpus
from nextword.index import CorpusIndex
from nextword.interpolate import Interpolated
from nextword.lm import NGramLM
from nextword.model import (
    DistributionModel,
    Generation,
    LanguageModel,
    Perplexity,
    Step,
    TokenScore,
    UnknownPromptWarning,
)
from nextword.neural import (
    LSTMLanguageModel,
    MLPLanguageModel,
    RNNLanguageModel,
    TrainingConfig,
    TransformerLanguageModel,
    train,
)
from nextword.sampling import Generator, SamplingParams, sample, sample_batch
from nextword.scale import train_arpa
from nextword.stats import corpus_stats
from nextword.tokenizers import (
    CharTokenizer,
    Tokenizer,
    UnicodeWhitespaceTokenizer,
    VocabTokenizer,
    WhitespaceTokenizer,
    WordTokenizer,
)
from nextword.vocab import Vocab

__all__ = [
    "MAX_ORDER",
    "BPETokenizer",
    "CharTokenizer",
    "Corpus",
    "CorpusIndex",
    "CorpusError",
    "DistributionModel",
    "EmptyCorpusError",
    "ModelFormatError",
    "NGramCounts",
    "NGramLM",
    "Perplexity",
    "Generation",
    "Generator",
    "Interpolated",
    "LanguageModel",
    "LSTMLanguageModel",
    "MLPLanguageModel",
    "RNNLanguageModel",
    "TrainingConfig",
    "TransformerLanguageModel",
    "SamplingParams",
    "Step",
    "sample",
    "sample_batch",
    "TokenScore",
    "NextwordError",
    "NoFilesError",
    "Tokenizer",
    "UnicodeWhitespaceTokenizer",
    "UnknownPromptWarning",
    "VocabTokenizer",
    "Vocab",
    "WhitespaceTokenizer",
    "WordTokenizer",
    "Word2Vec",
    "WordVectors",
    "__version__",
    "as_corpus",
    "corpus_stats",
    "count_ngrams",
    "dedup_exact",
    "dedup_spans",
    "filter_corpus",
    "train",
    "train_arpa",
]
