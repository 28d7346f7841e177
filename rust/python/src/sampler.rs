//! `_core.sample` / `_core.sample_batch`: the shared sampler over numpy vectors.

use nextword_core::sample::{self, Rng, SamplingParams};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Sampling parameters from Python values, validated.
pub fn params(
    temperature: f64,
    top_k: Option<usize>,
    top_p: Option<f64>,
    min_p: Option<f64>,
    repetition_penalty: Option<f64>,
) -> PyResult<SamplingParams> {
    let p = SamplingParams {
        temperature,
        top_k,
        top_p,
        min_p,
        repetition_penalty,
    };
    p.validate().map_err(PyValueError::new_err)?;
    Ok(p)
}

/// Check sampling parameters (ValueError naming the bad one).
#[pyfunction]
#[pyo3(signature = (temperature = 1.0, top_k = None, top_p = None, min_p = None, repetition_penalty = None))]
pub fn check_sampling(
    temperature: f64,
    top_k: Option<i64>,
    top_p: Option<f64>,
    min_p: Option<f64>,
    repetition_penalty: Option<f64>,
) -> PyResult<()> {
    if top_k.is_some_and(|k| k < 1) {
        return Err(PyValueError::new_err("top_k must be >= 1"));
    }
    params(
        temperature,
        top_k.map(|k| k as usize),
        top_p,
        min_p,
        repetition_penalty,
    )
    .map(|_| ())
}

/// Draw one id from probabilities or logits; returns (id, next rng state).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (scores, logits, rng_state, temperature = 1.0, top_k = None, top_p = None, min_p = None, repetition_penalty = None, history = Vec::new()))]
pub fn sample_vector(
    scores: PyReadonlyArray1<'_, f64>,
    logits: bool,
    rng_state: u64,
    temperature: f64,
    top_k: Option<usize>,
    top_p: Option<f64>,
    min_p: Option<f64>,
    repetition_penalty: Option<f64>,
    history: Vec<u32>,
) -> PyResult<(u32, u64)> {
    let p = params(temperature, top_k, top_p, min_p, repetition_penalty)?;
    let mut rng = Rng::new(rng_state);
    let id = sample::sample(scores.as_slice()?, logits, &p, &history, &mut rng)
        .ok_or_else(|| PyValueError::new_err("nothing to sample: every probability is 0"))?;
    Ok((id, rng.state))
}

/// Draw one id per row of a [batch, vocab] matrix, rows in parallel; row `i`
/// uses `Rng::for_sequence(seed, i)`.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (scores, logits, seed, temperature = 1.0, top_k = None, top_p = None, min_p = None, repetition_penalty = None))]
pub fn sample_matrix(
    py: Python<'_>,
    scores: PyReadonlyArray2<'_, f64>,
    logits: bool,
    seed: u64,
    temperature: f64,
    top_k: Option<usize>,
    top_p: Option<f64>,
    min_p: Option<f64>,
    repetition_penalty: Option<f64>,
) -> PyResult<Vec<i64>> {
    let p = params(temperature, top_k, top_p, min_p, repetition_penalty)?;
    let view = scores.as_array();
    let rows: Vec<Vec<f64>> = view.rows().into_iter().map(|r| r.to_vec()).collect();
    Ok(py.detach(|| {
        use rayon::prelude::*;
        rows.par_iter()
            .enumerate()
            .map(|(i, row)| {
                let mut rng = Rng::for_sequence(seed, i as u64);
                sample::sample(row, logits, &p, &[], &mut rng).map_or(-1, i64::from)
            })
            .collect()
    }))
}
