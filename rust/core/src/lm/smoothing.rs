//! Choosing an estimator by name, as `NGramLM.fit(smoothing=...)` and
//! `nextword fit --smoothing` do: `"kneser-ney".parse::<Smoothing>()`, or
//! [`Smoothing::from_name`] with the parameters of the estimators.

use super::kneser_ney::KneserNeyOptions;
use super::Smoothing;
use crate::{Error, Result};

/// The parameters of every estimator; each reads only its own.
#[derive(Debug, Clone, PartialEq)]
pub struct SmoothingParams {
    /// Add-k's k (Laplace is 1).
    pub k: f64,
    /// Stupid backoff's alpha.
    pub alpha: f64,
    /// Kneser-Ney's options.
    pub kneser_ney: KneserNeyOptions,
}

impl Default for SmoothingParams {
    fn default() -> Self {
        Self {
            k: 1.0,
            alpha: 0.4,
            kneser_ney: KneserNeyOptions::default(),
        }
    }
}

impl Smoothing {
    /// The estimator called `name` (with its usual aliases), parameterised from `params`.
    pub fn from_name(name: &str, params: SmoothingParams) -> Result<Self> {
        let kneser_ney = matches!(name, "kneser-ney" | "kn" | "modified-kneser-ney");
        if params.kneser_ney.prune.is_some() && !kneser_ney {
            return Err(Error::InvalidArgument(format!(
                "prune (count pruning, as lmplz --prune) applies to kneser-ney, not {name:?}; \
                 entropy pruning (prune_entropy) applies to any normalised model"
            )));
        }
        Ok(match name {
            "kneser-ney" | "kn" | "modified-kneser-ney" => Smoothing::KneserNey(params.kneser_ney),
            "mle" => Smoothing::Mle,
            "add-k" | "addk" => Smoothing::AddK(params.k),
            "laplace" | "add-one" => Smoothing::AddK(1.0),
            "witten-bell" | "wb" => Smoothing::WittenBell,
            "stupid-backoff" | "sb" => Smoothing::StupidBackoff(params.alpha),
            other => {
                return Err(Error::InvalidArgument(format!(
                    "unknown smoothing {other:?}: use 'kneser-ney', 'mle', 'add-k', \
                     'witten-bell' or 'stupid-backoff'"
                )))
            }
        })
    }
}

impl std::str::FromStr for Smoothing {
    type Err = Error;

    /// The estimator called `s`, with default parameters.
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s, SmoothingParams::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_parameters() {
        assert_eq!("mle".parse::<Smoothing>().ok(), Some(Smoothing::Mle));
        assert_eq!(
            "laplace".parse::<Smoothing>().ok(),
            Some(Smoothing::AddK(1.0))
        );
        let params = SmoothingParams {
            alpha: 0.3,
            ..Default::default()
        };
        assert_eq!(
            Smoothing::from_name("sb", params).ok(),
            Some(Smoothing::StupidBackoff(0.3))
        );
        let err = "kneser".parse::<Smoothing>().unwrap_err();
        assert!(err.to_string().contains("unknown smoothing"));
    }
}
