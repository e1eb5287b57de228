//! 1:1 decisions: a similarity held against a threshold.
//!
//! Below both [`Protector`](crate::Protector) (which checks that the
//! reference is its own first) and [`Gallery`](crate::Gallery) (which holds
//! search thresholds to the same range).

use crate::error::{Error, Result};
use crate::template::ProtectedTemplate;

/// The outcome of a 1:1 comparison: accept iff `score >= threshold`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Decision {
    /// Similarity in [0, 1].
    pub score: f64,
    /// The threshold the score was held against.
    pub threshold: f64,
    /// `score >= threshold`.
    pub matched: bool,
}

/// Checks a decision or search threshold: a number in [0, 1].
pub(crate) fn check_threshold(threshold: f64) -> Result<()> {
    if (0.0..=1.0).contains(&threshold) {
        Ok(())
    } else {
        Err(Error::param("threshold", "must be a number in [0, 1]"))
    }
}

/// 1:1 verification of a probe against a reference template.
pub fn verify(
    reference: &ProtectedTemplate,
    probe: &ProtectedTemplate,
    threshold: f64,
) -> Result<Decision> {
    check_threshold(threshold)?;
    let score = reference.similarity(probe)?;
    Ok(Decision {
        score,
        threshold,
        matched: score >= threshold,
    })
}
