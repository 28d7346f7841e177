//! PyO3 bindings of `nextword-core`: type conversion, GIL release and error
//! mapping only. Every algorithm lives in `rust/core`.

mod bpe;
mod corpus_index;
mod counts;
mod errors;
mod filter;
mod generation;
mod job;
mod ngram_lm;
mod sampling;
mod source;
mod stream_train;
mod tokenizer;
mod vocab;
mod word_vectors;

use pyo3::prelude::*;

/// Large blocks get transparent huge pages: far fewer page faults when counting
/// builds gigabytes of tables (see `nextword_core::alloc`).
#[global_allocator]
static ALLOC: nextword_core::alloc::HugePageAlloc = nextword_core::alloc::HugePageAlloc;

/// The compiled core of nextword (`nextword._core`).
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_ORDER", nextword_core::count::MAX_ORDER)?;
    m.add("CHUNK_BYTES", nextword_core::corpus::read::CHUNK_BYTES)?;
    m.add("INDEX_ABSENT", nextword_core::index::ABSENT)?;
    m.add_class::<tokenizer::Tokenizer>()?;
    m.add_class::<bpe::BpeTokenizer>()?;
    m.add_class::<vocab::Vocab>()?;
    m.add_class::<counts::NGramCounts>()?;
    m.add_class::<ngram_lm::NGramLM>()?;
    m.add_class::<generation::Generation>()?;
    m.add_class::<corpus_index::CorpusIndex>()?;
    m.add_function(wrap_pyfunction!(counts::count_ngrams, m)?)?;
    m.add_function(wrap_pyfunction!(stream_train::train_arpa, m)?)?;
    m.add_function(wrap_pyfunction!(stream_train::parse_memory, m)?)?;
    m.add_function(wrap_pyfunction!(source::set_chunk_bytes, m)?)?;
    m.add_function(wrap_pyfunction!(filter::filter_by_perplexity, m)?)?;
    m.add_function(wrap_pyfunction!(filter::document_perplexities, m)?)?;
    m.add_function(wrap_pyfunction!(filter::percentile_cutoffs, m)?)?;
    m.add_function(wrap_pyfunction!(filter::dedup_exact, m)?)?;
    m.add_function(wrap_pyfunction!(filter::dedup_spans, m)?)?;
    m.add_function(wrap_pyfunction!(sampling::sample_vector, m)?)?;
    m.add_function(wrap_pyfunction!(sampling::check_sampling, m)?)?;
    m.add_function(wrap_pyfunction!(sampling::sample_matrix, m)?)?;
    m.add_function(wrap_pyfunction!(word_vectors::train_word2vec, m)?)?;
    m.add_function(wrap_pyfunction!(word_vectors::load_word_vectors, m)?)?;
    m.add_function(wrap_pyfunction!(word_vectors::save_word_vectors, m)?)?;
    m.add_function(wrap_pyfunction!(word_vectors::word2vec_step, m)?)?;
    m.add_function(wrap_pyfunction!(word_vectors::word2vec_rules, m)?)?;
    Ok(())
}
