//! The functions of `nextword.sampling` and the one parameter object they all
//! take: the shared sampler over numpy vectors.

use nextword_core::sample::{self, Rng, SamplingParams};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::errors::IntoPyResult;

/// A `nextword.SamplingParams`, read by attribute. The core checks the values
/// (`SamplingParams::validate`) wherever they are used.
#[derive(FromPyObject)]
pub struct SamplingArgs {
    temperature: f64,
    top_k: Option<i64>,
    top_p: Option<f64>,
    min_p: Option<f64>,
    repetition_penalty: Option<f64>,
}

impl SamplingArgs {
    /// The core's parameters (a negative top_k becomes 0, which the core rejects).
    pub fn into_core(self) -> SamplingParams {
        SamplingParams {
            temperature: self.temperature,
            top_k: self.top_k.map(|k| usize::try_from(k).unwrap_or(0)),
            top_p: self.top_p,
            min_p: self.min_p,
            repetition_penalty: self.repetition_penalty,
        }
    }
}

/// Check sampling parameters (ValueError naming the bad one).
#[pyfunction]
pub fn check_sampling(params: SamplingArgs) -> PyResult<()> {
    params.into_core().validate().py()
}

/// Draw one id from probabilities or logits; returns (id, next rng state).
#[pyfunction]
pub fn sample_vector(
    scores: PyReadonlyArray1<'_, f64>,
    logits: bool,
    rng_state: u64,
    params: SamplingArgs,
    history: Vec<u32>,
) -> PyResult<(u32, u64)> {
    let mut rng = Rng::new(rng_state);
    let scores = scores.as_slice()?;
    let id =
        sample::sample_checked(scores, logits, &params.into_core(), &history, &mut rng).py()?;
    Ok((id, rng.state))
}

/// Draw one id per row of a C-contiguous [batch, vocab] matrix, rows in
/// parallel; row `i` uses `Rng::for_sequence(seed, i)`.
#[pyfunction]
pub fn sample_matrix(
    py: Python<'_>,
    scores: PyReadonlyArray2<'_, f64>,
    logits: bool,
    seed: u64,
    params: SamplingArgs,
) -> PyResult<Vec<u32>> {
    let width = scores.as_array().ncols();
    let scores = scores.as_slice()?;
    let params = params.into_core();
    py.detach(|| sample::sample_rows(scores, width, logits, &params, seed))
        .py()
}
