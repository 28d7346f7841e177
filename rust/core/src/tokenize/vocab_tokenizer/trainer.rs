//! Learning a [`VocabTokenizer`]'s word list from a corpus: the words of
//! KenLM's whitespace split with at least `min_count` occurrences, at most
//! `max_size` entries with the specials, by descending count, ties by first
//! appearance (the order of [`Vocab::build`], which does the counting).

use super::VocabTokenizer;
use crate::control::Control;
use crate::corpus::{Corpus, CorpusStats};
use crate::tokenize::{Tokenizer, Vocab};
use crate::Result;

/// Learn a word list from `corpus`.
///
/// ```
/// use nextword_core::control::Control;
/// use nextword_core::corpus::Corpus;
/// use nextword_core::tokenize::vocab_tokenizer::trainer::learn;
/// let corpus = Corpus::from_texts(vec!["a b a".into(), "c a".into()]);
/// let (tok, _) = learn(&corpus, 2, None, &Control::new(), 1).unwrap();
/// assert_eq!(tok.words(), ["<unk>", "<s>", "</s>", "a"]);
/// ```
pub fn learn(
    corpus: &Corpus,
    min_count: u64,
    max_size: Option<usize>,
    control: &Control,
    threads: usize,
) -> Result<(VocabTokenizer, CorpusStats)> {
    let (vocab, stats) = Vocab::build(
        corpus,
        Tokenizer::Whitespace,
        min_count,
        max_size,
        control,
        threads,
    )?;
    Ok((VocabTokenizer::new(vocab.words()), stats))
}
