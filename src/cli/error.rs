//! What can go wrong with a command: [`ExecError`], shared by the executor, the
//! views, the expectations and target resolution.

use crate::cluster::ClusterError;

/// Why a command did not succeed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The input cannot be carried out (a node that does not exist, no leader to send
    /// to, ...). Nothing changed.
    #[error("{0}")]
    Invalid(String),
    /// A `wait` or `expect` saw something else than expected.
    #[error("{0}")]
    Failed(String),
    /// Ctrl-C stopped a `tick` or `wait` part way.
    #[error("interrupted at tick {0}")]
    Interrupted(u64),
}

impl From<ClusterError> for ExecError {
    fn from(error: ClusterError) -> ExecError {
        ExecError::Invalid(error.to_string())
    }
}
