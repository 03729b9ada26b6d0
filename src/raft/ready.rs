//! What the core hands to its caller after any number of inputs: a [`Ready`] says
//! what to persist, which messages to send (only after persisting), and what to
//! apply, in the spirit of etcd raft's `Ready`.

use super::event::Event;
use super::log::Entries;
use super::message::{Envelope, Snapshot};
use super::persist::{HardState, LogSuffix};

/// The output of a node since the previous `ready()`, in the spirit of etcd raft's
/// `Ready`. The caller must handle it in this order:
///
/// 1. persist `hard_state`, `snapshot` and `log` ([`super::PersistentState::persist`]);
/// 2. only then send `messages` (they may depend on what was just persisted);
/// 3. apply `apply_snapshot`, if any, to the state machine, then `committed`.
#[derive(Clone, Debug, Default)]
pub struct Ready {
    /// A changed `current_term`/`voted_for` to persist.
    pub hard_state: Option<HardState>,
    /// A new snapshot to persist (compacting the persisted log behind it).
    pub snapshot: Option<Snapshot>,
    /// Log changes to persist.
    pub log: Option<LogSuffix>,
    /// Messages to send once the above is persisted.
    pub messages: Vec<Envelope>,
    /// A snapshot the state machine must load (installed from a leader, or found in
    /// storage at restart) before applying `committed`.
    pub apply_snapshot: Option<Snapshot>,
    /// Newly committed entries to apply, in index order, without gaps (sharing the
    /// core's storage: no command is copied).
    pub committed: Entries,
    /// What happened, in order.
    pub events: Vec<Event>,
}

impl Ready {
    /// True if there is nothing to persist, send, apply or report.
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.snapshot.is_none()
            && self.log.is_none()
            && self.messages.is_empty()
            && self.apply_snapshot.is_none()
            && self.committed.is_empty()
            && self.events.is_empty()
    }
}
