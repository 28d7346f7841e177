//! `_core.Generation`: the one generation loop of every model
//! (`nextword_core::generate`), driven from Python one step at a time or run
//! to the end.

use nextword_core::generate::{Decoder, DistributionDecoder, Generation as CoreGeneration};
use nextword_core::sample::Rng;
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::errors::IntoPyResult;
use crate::sampling::SamplingArgs;

/// A decoder of any model: the n-gram one, or a model written in Python.
pub type AnyDecoder = Box<dyn Decoder + Send + Sync>;

/// A generation in progress: the model's state, the random state, the history.
#[pyclass(module = "nextword._core")]
pub struct Generation {
    inner: CoreGeneration<AnyDecoder>,
}

/// A step: token, probability, candidates (id, probability).
type StepTuple = (u32, f64, Vec<(u32, f64)>);

impl Generation {
    /// Wrap a core generation.
    pub fn new(inner: CoreGeneration<AnyDecoder>) -> Self {
        Self { inner }
    }
}

/// What `model.initial_state(ids)` and `model.advance(state, id)` return:
/// (state, float64 probabilities).
fn state_and_probs(out: Bound<'_, PyAny>) -> PyResult<(Py<PyAny>, Vec<f64>)> {
    let (state, probs): (Py<PyAny>, PyReadonlyArray1<'_, f64>) = out.extract()?;
    Ok((state, probs.as_slice()?.to_vec()))
}

#[pymethods]
impl Generation {
    /// Generate from a model written in Python: `model.initial_state(prompt)`
    /// and `model.advance(state, id)` each return (state, float64 probabilities).
    #[staticmethod]
    fn over(
        py: Python<'_>,
        model: Py<PyAny>,
        prompt: Vec<u32>,
        params: SamplingArgs,
        stop: Vec<u32>,
        max_tokens: usize,
        rng_state: u64,
    ) -> PyResult<Self> {
        let first = model
            .bind(py)
            .call_method1("initial_state", (prompt.clone(),))?;
        let (mut state, probs) = state_and_probs(first)?;
        let next = move |token: u32| {
            Python::attach(|py| {
                let out = model
                    .bind(py)
                    .call_method1("advance", (state.bind(py), token))?;
                let (s, probs) = state_and_probs(out)?;
                state = s;
                Ok(probs)
            })
            .map_err(|e: PyErr| nextword_core::Error::External(Box::new(e)))
        };
        let decoder: AnyDecoder = Box::new(DistributionDecoder::new(probs, next));
        let rng = Rng::new(rng_state);
        let inner =
            CoreGeneration::new(decoder, &prompt, params.into_core(), stop, max_tokens, rng)
                .py()?;
        Ok(Self::new(inner))
    }

    /// The next token explained with the `explain` most probable candidates,
    /// or None when generation is over.
    fn next_step(&mut self, explain: usize) -> PyResult<Option<StepTuple>> {
        let step = self.inner.next_step(explain).py()?;
        Ok(step.map(|s| (s.token, s.prob, s.candidates)))
    }

    /// Every token left to generate.
    fn rest<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<u32>>> {
        let ids = py.detach(|| self.inner.rest()).py()?;
        Ok(PyArray1::from_vec(py, ids))
    }

    /// The random generator's state now.
    #[getter]
    fn rng_state(&self) -> u64 {
        self.inner.rng().state
    }
}
