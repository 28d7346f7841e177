"""Type stubs of the compiled core, ``nextword._core`` (see rust/python)."""

from typing import Any, Optional

import numpy as np
import numpy.typing as npt

__version__: str
MAX_ORDER: int

class Tokenizer:
    def __init__(self, spec: str) -> None: ...
    @staticmethod
    def vocab(words: list[str]) -> Tokenizer: ...
    @staticmethod
    def learn_vocab(
        corpus: dict[str, Any],
        min_count: int,
        max_size: Optional[int],
        threads: int,
        progress: Optional[bool],
    ) -> tuple[Tokenizer, dict[str, int]]: ...
    @property
    def spec(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def fixed_vocab(self) -> Optional[list[str]]: ...
    def encode_ids(self, text: str) -> Optional[list[int]]: ...
    def tokenize(self, text: str) -> list[str]: ...
    def tokenize_batch(self, texts: list[str]) -> list[list[str]]: ...

class Vocab:
    def __init__(self, words: list[str], tokenizer: str = "whitespace") -> None: ...
    @staticmethod
    def build(
        corpus: dict[str, Any],
        tokenizer: str,
        min_count: int,
        max_size: Optional[int],
        threads: int,
        progress: Optional[bool],
    ) -> tuple[Vocab, dict[str, int]]: ...
    def __len__(self) -> int: ...
    def __contains__(self, word: str) -> bool: ...
    @property
    def tokenizer(self) -> str: ...
    def get(self, word: str) -> Optional[int]: ...
    def id(self, word: str) -> int: ...
    def word(self, id: int) -> str: ...
    def words(self) -> list[str]: ...
    def counts(self) -> npt.NDArray[np.uint64]: ...
    def encode(self, text: str, bos: bool = False, eos: bool = False) -> npt.NDArray[np.uint32]: ...
    def decode(self, ids: npt.NDArray[np.uint32]) -> str: ...
    def encode_corpus(
        self,
        corpus: dict[str, Any],
        bos: bool,
        eos: bool,
        threads: int,
        progress: Optional[bool],
    ) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint64], dict[str, int]]: ...
    def save(self, path: str) -> None: ...
    @staticmethod
    def load(path: str) -> Vocab: ...

class NGramCounts:
    @property
    def order(self) -> int: ...
    @property
    def padded(self) -> bool: ...
    @property
    def tokens(self) -> int: ...
    @property
    def tokenizer(self) -> str: ...
    @property
    def stats(self) -> dict[str, int]: ...
    @property
    def vocab(self) -> Vocab: ...
    def __getitem__(self, key: str | tuple[str, ...]) -> int: ...
    def __contains__(self, key: str | tuple[str, ...]) -> bool: ...
    def __len__(self) -> int: ...
    def total(self, n: int) -> int: ...
    def num_unique(self, n: int) -> int: ...
    def most_common(self, k: int, n: int) -> list[tuple[tuple[str, ...], int]]: ...
    def count_of_counts(self, n: int) -> dict[int, int]: ...
    def to_numpy(self, n: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint64]]: ...
    def items_slice(self, n: int, start: int, limit: int) -> list[tuple[tuple[str, ...], int]]: ...
    def merge(self, other: NGramCounts) -> NGramCounts: ...
    def save(self, path: str) -> None: ...
    @staticmethod
    def load(path: str) -> NGramCounts: ...
    def count_ids(self, ids: list[int]) -> int: ...

def count_ngrams(
    corpus: dict[str, Any],
    order: int,
    tokenizer: str,
    pad: bool,
    threads: int,
    progress: Optional[bool],
) -> NGramCounts: ...

class NGramLM:
    @staticmethod
    def fit(
        counts: NGramCounts,
        order: int,
        smoothing: str,
        k: float,
        alpha: float,
        interpolate_unigrams: bool,
        discounts: Optional[list[tuple[float, float, float]]],
    ) -> NGramLM: ...
    @staticmethod
    def fit_corpus(
        corpus: dict[str, Any],
        order: int,
        tokenizer: str,
        threads: int,
        progress: Optional[bool],
        smoothing: str,
        k: float,
        alpha: float,
        interpolate_unigrams: bool,
        discounts: Optional[list[tuple[float, float, float]]],
    ) -> NGramLM: ...
    @staticmethod
    def load_arpa(path: str, tokenizer: Optional[str] = None) -> tuple[NGramLM, list[str]]: ...
    def save_arpa(self, path: str) -> None: ...
    @staticmethod
    def load_binary(
        path: str, verify: bool, tokenizer: Optional[str] = None
    ) -> tuple[NGramLM, list[str]]: ...
    def save_binary(self, path: str) -> None: ...
    @property
    def order(self) -> int: ...
    @property
    def smoothing(self) -> str: ...
    @property
    def normalized(self) -> bool: ...
    @property
    def discounts(self) -> list[list[float]]: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def vocab(self) -> Vocab: ...
    def sizes(self) -> list[int]: ...
    def logprob(self, word: str, context: list[str], bos: bool) -> tuple[float, int, bool]: ...
    def full_scores(
        self, tokens: list[str], bos: bool, eos: bool
    ) -> list[tuple[float, int, bool]]: ...
    def predict(self, context: list[str], k: int, bos: bool) -> list[tuple[str, float]]: ...
    def next_logprobs(self, context: list[str], bos: bool) -> npt.NDArray[np.float64]: ...
    def generate(
        self,
        prompt: list[str],
        bos: bool,
        max_tokens: int,
        stop: list[str],
        rng_state: int,
        temperature: float,
        top_k: Optional[int],
        top_p: Optional[float],
        min_p: Optional[float],
        repetition_penalty: Optional[float],
    ) -> tuple[list[int], int]: ...
    def generate_batch(
        self,
        prompts: list[list[str]],
        bos: bool,
        max_tokens: int,
        stop: list[str],
        seed: int,
        temperature: float,
        top_k: Optional[int],
        top_p: Optional[float],
        min_p: Optional[float],
        repetition_penalty: Optional[float],
    ) -> list[list[int]]: ...
    def step(
        self,
        context: list[str],
        bos: bool,
        rng_state: int,
        explain: int,
        temperature: float,
        top_k: Optional[int],
        top_p: Optional[float],
        min_p: Optional[float],
        repetition_penalty: Optional[float],
    ) -> Optional[tuple[str, float, int, list[tuple[str, float]]]]: ...
    def tokens_of(self, ids: list[int]) -> list[str]: ...
    def evaluate(
        self,
        corpus: dict[str, Any],
        threads: int,
        progress: Optional[bool],
    ) -> dict[str, float]: ...
    def score_sentences(
        self,
        corpus: dict[str, Any],
        bos: bool,
        eos: bool,
        threads: int,
        progress: Optional[bool],
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.uint64], npt.NDArray[np.uint64]]: ...
    def annotate_jsonl(
        self,
        paths: list[str],
        output: Optional[str],
        text_field: str,
        out_field: str,
        errors: str,
        threads: int,
        progress: Optional[bool],
    ) -> int: ...

def sample_vector(
    scores: npt.NDArray[np.float64],
    logits: bool,
    rng_state: int,
    temperature: float = 1.0,
    top_k: Optional[int] = None,
    top_p: Optional[float] = None,
    min_p: Optional[float] = None,
    repetition_penalty: Optional[float] = None,
    history: list[int] = ...,
) -> tuple[int, int]: ...
def sample_matrix(
    scores: npt.NDArray[np.float64],
    logits: bool,
    seed: int,
    temperature: float = 1.0,
    top_k: Optional[int] = None,
    top_p: Optional[float] = None,
    min_p: Optional[float] = None,
    repetition_penalty: Optional[float] = None,
) -> list[int]: ...
def check_sampling(
    temperature: float = 1.0,
    top_k: Optional[int] = None,
    top_p: Optional[float] = None,
    min_p: Optional[float] = None,
    repetition_penalty: Optional[float] = None,
) -> None: ...
