//! What a node persisted, kept outside its thread so that it survives a crash.

use std::sync::{Arc, Mutex, MutexGuard};

#[cfg(doc)]
use crate::raft::Log;
use crate::raft::PersistentState;

/// What a node persisted: it outlives the node's thread and is where a restart starts.
/// Shared with the cluster, which reads it between ticks (when the node is idle).
///
/// Its log is a clone of the core's as of the last `Ready` persisted: the two share
/// every entry they have in common (see [`Log`]), so a node's entries exist once in
/// memory, and what the core holds beyond it (proposals waiting for the next round)
/// is lost in a crash.
#[derive(Clone, Debug, Default)]
pub struct Storage(Arc<Mutex<PersistentState>>);

impl Storage {
    /// A storage of its own holding a copy of this one's state (a clone of `Storage`
    /// shares the state instead).
    pub fn copy(&self) -> Storage {
        Storage(Arc::new(Mutex::new(self.lock().clone())))
    }

    /// Locks the persisted state.
    pub fn lock(&self) -> MutexGuard<'_, PersistentState> {
        // A node thread that panicked holding the lock left a consistent state behind
        // (persisting is a single call), so a poisoned lock is still readable.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
