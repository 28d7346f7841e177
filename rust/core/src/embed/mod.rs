//! Word embeddings: word2vec (Mikolov et al. 2013), skip-gram and CBOW with
//! negative sampling, as the original C tool and gensim train them.
//!
//! The pipeline, one file per stage:
//! - [`vocab`]: the training vocabulary (words reaching `min_count`, by
//!   descending count) and the negative-sampling distribution (counts raised
//!   to 0.75, drawn by binary search in a cumulative table);
//! - [`subsample`]: the keep probability of frequent-word subsampling;
//! - [`shared`]: a matrix that Hogwild threads share soundly (a spin lock per row);
//! - [`step`]: one SGNS or CBOW update on rows of the two matrices;
//! - [`trainer`]: the Hogwild training loop over a streamed corpus;
//! - [`vectors`]: the result, [`WordVectors`], and its checksummed file format;
//! - [`word2vec_format`]: the word2vec text and binary formats.
//!
//! `nextword.reference.word2vec` holds a plain-Python copy of the vocabulary,
//! subsampling and step rules; the tests check that both agree bit for bit.

pub mod shared;
pub mod step;
pub mod subsample;
pub mod trainer;
pub mod vectors;
pub mod vocab;
pub mod word2vec_format;

pub use trainer::{train, Word2VecParams};
pub use vectors::WordVectors;
