//! Mapping core errors onto the Python exception hierarchy of `nextword.errors`.

use nextword_core::Error;
use pyo3::exceptions::{
    PyFileNotFoundError, PyKeyboardInterrupt, PyOSError, PyRuntimeError, PyValueError,
};
use pyo3::prelude::*;

/// Raise `nextword.errors.<class>(message)` and set `attrs` on it.
fn raise(py: Python<'_>, class: &str, message: String, attrs: &[(&str, Py<PyAny>)]) -> PyErr {
    let made = (|| -> PyResult<PyErr> {
        let cls = py.import("nextword.errors")?.getattr(class)?;
        let exc = cls.call1((message.clone(),))?;
        for (name, value) in attrs {
            exc.setattr(*name, value)?;
        }
        Ok(PyErr::from_value(exc))
    })();
    made.unwrap_or_else(|_| PyValueError::new_err(message))
}

/// Convert a core error into the matching Python exception.
pub fn to_py(err: Error) -> PyErr {
    Python::attach(|py| match err {
        Error::Corpus { location, message } => {
            let text = format!("{location}: {message}");
            let attrs = [
                (
                    "source",
                    location
                        .source
                        .into_pyobject(py)
                        .map(|o| o.into_any().unbind()),
                ),
                (
                    "line",
                    location
                        .line
                        .into_pyobject(py)
                        .map(|o| o.into_any().unbind()),
                ),
                (
                    "byte",
                    location
                        .byte
                        .into_pyobject(py)
                        .map(|o| o.into_any().unbind()),
                ),
            ];
            let attrs: Vec<(&str, Py<PyAny>)> = attrs
                .into_iter()
                .filter_map(|(k, v)| v.ok().map(|v| (k, v)))
                .collect();
            raise(py, "CorpusError", text, &attrs)
        }
        Error::EmptyCorpus(m) => raise(py, "EmptyCorpusError", m, &[]),
        Error::NoFiles(m) => raise(py, "NoFilesError", m, &[]),
        Error::NotFound(path) => PyFileNotFoundError::new_err((
            2,
            "No such file or directory",
            path.display().to_string(),
        )),
        Error::Io { path, source } if source.kind() == std::io::ErrorKind::InvalidData => raise(
            py,
            "CorpusError",
            format!("{}: cannot decompress or read: {source}", path.display()),
            &[],
        ),
        e @ Error::Io { .. } => PyOSError::new_err(e.to_string()),
        e @ Error::Format { .. } => raise(py, "ModelFormatError", e.to_string(), &[]),
        Error::InvalidArgument(m) => PyValueError::new_err(m),
        Error::Cancelled => PyKeyboardInterrupt::new_err("interrupted"),
        // Raised by a Python model the generation loop called: as it was raised.
        Error::External(e) => match e.downcast::<PyErr>() {
            Ok(raised) => *raised,
            Err(other) => PyRuntimeError::new_err(other.to_string()),
        },
    })
}

/// `Result<T, Error>` -> `PyResult<T>`.
pub trait IntoPyResult<T> {
    /// Map the error.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for Result<T, Error> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
