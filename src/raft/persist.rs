//! What a node persists (Figure 2 "persistent state on all servers", plus the latest
//! snapshot): [`HardState`], the log, and how one [`super::Ready`]'s changes are
//! persisted ([`PersistentState::persist`]). A crashed node is rebuilt from exactly
//! this.

use serde::Serialize;

use super::log::{Entries, Log};
use super::message::Snapshot;
use super::ready::Ready;
use super::{Index, NodeId, Term};

/// The part of Figure 2's persistent state that is not the log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HardState {
    /// The latest term this node has seen.
    pub current_term: Term,
    /// The candidate that received this node's vote in `current_term`, if any.
    pub voted_for: Option<NodeId>,
}

/// Log entries to persist: everything from `first` on is replaced by the entries `log`
/// holds from there (none when the log was only truncated).
///
/// `log` is the core's whole log as of this [`Ready`], a clone that shares its
/// storage (see [`Log`]): it costs no copy of any command, and persisting it is
/// keeping it. Entries before `first` are the ones persisted before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSuffix {
    /// The lowest index that changed.
    pub first: Index,
    /// The log as it now stands.
    pub log: Log,
}

impl LogSuffix {
    /// The entries now held from `first` on (entries a snapshot covers are left out).
    pub fn entries(&self) -> Entries {
        let from = self.first.max(self.log.snapshot_index() + 1);
        self.log.entries(from, self.log.last_index())
    }
}

/// Everything a node persists (Figure 2 "persistent state on all servers", plus the
/// latest snapshot of 3D). A crashed node is rebuilt from exactly this.
///
/// The log here is a clone of the core's log as of the last [`Ready`] persisted, and
/// shares the core's storage for every entry the two have in common; entries the core
/// appended since (proposals waiting for the next `Ready`) are in the core's log only,
/// and are lost if the node crashes before then.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PersistentState {
    /// `current_term` and `voted_for`.
    pub hard_state: HardState,
    /// The log after the snapshot base.
    pub log: Log,
    /// The latest snapshot, if any; its index and term equal the log's snapshot base.
    pub snapshot: Option<Snapshot>,
}

impl PersistentState {
    /// Applies one [`Ready`]'s persistence part, in the order that keeps this state
    /// equal to the core's: hard state, then snapshot, then log suffix.
    pub fn persist(&mut self, ready: &Ready) {
        if let Some(hard_state) = ready.hard_state {
            self.hard_state = hard_state;
        }
        if let Some(snapshot) = &ready.snapshot {
            self.log
                .compact(snapshot.last_included_index, snapshot.last_included_term);
            self.snapshot = Some(snapshot.clone());
        }
        if let Some(suffix) = &ready.log {
            // Entries before `first` are the same in both logs (the last `Ready` was
            // persisted, and the core has changed only what follows since), so
            // replacing what follows is keeping the core's log.
            assert!(
                suffix.first <= self.log.snapshot_index() + 1
                    || suffix.first - 1 <= suffix.log.snapshot_index()
                    || self.log.term_at(suffix.first - 1) == suffix.log.term_at(suffix.first - 1),
                "a log suffix follows what was persisted before it"
            );
            self.log = suffix.log.clone();
        }
    }

    /// The size of the persisted Raft state in bytes, not counting the snapshot (the
    /// lab's `RaftStateSize`), in the encoding of [`super::Envelope::encoded_len`].
    pub fn raft_state_size(&self) -> u64 {
        // term, voted_for, snapshot index and term, entry count
        let fixed = 5 * 8;
        fixed
            + self
                .log
                .refs(0, self.log.last_index())
                .map(|entry| 3 * 8 + entry.command.len() as u64 + entry.kind.extra_encoded_len())
                .sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raft::Entry;

    /// A log (no snapshot) whose entry i has term `terms[i - 1]` and command `c{i}`.
    fn log_with_terms(terms: &[u64]) -> Log {
        let mut log = Log::new();
        for (position, &term) in terms.iter().enumerate() {
            let index = position as u64 + 1;
            let command = format!("c{index}").into();
            log.push(Entry::command(index, term, command));
        }
        log
    }

    fn ready_with_suffix(first: u64, log: &Log) -> Ready {
        Ready {
            log: Some(LogSuffix {
                first,
                log: log.clone(),
            }),
            ..Ready::default()
        }
    }

    /// A suffix whose first changed index a snapshot has since covered gives the
    /// entries from just after the snapshot.
    #[test]
    fn a_suffix_below_the_snapshot_starts_after_it() {
        let mut log = log_with_terms(&[1, 1, 2, 2]);
        log.compact(2, 1);
        let suffix = LogSuffix { first: 1, log };
        let indexes: Vec<u64> = suffix.entries().iter().map(|entry| entry.index).collect();
        assert_eq!(indexes, [3, 4]);
    }

    #[test]
    fn persisting_a_suffix_keeps_the_cores_log() {
        let mut state = PersistentState::default();
        let mut core = log_with_terms(&[1, 1, 2]);
        state.persist(&ready_with_suffix(1, &core));
        assert_eq!(state.log, core);
        // Appended after the last Ready: not persisted until the next one.
        core.push(Entry::command(4, 2, "c4".into()));
        assert_eq!(state.log.last_index(), 3);
        let ready = ready_with_suffix(4, &core);
        let new: Vec<u64> = ready
            .log
            .as_ref()
            .unwrap()
            .entries()
            .iter()
            .map(|e| e.index)
            .collect();
        assert_eq!(new, [4], "the suffix's new entries");
        state.persist(&ready);
        assert_eq!(state.log, core);
        // term, vote, snapshot index and term, count; then 3 words and the text per entry.
        assert_eq!(state.raft_state_size(), 5 * 8 + 4 * (3 * 8 + 2));
    }

    #[test]
    #[should_panic(expected = "a log suffix follows what was persisted before it")]
    fn a_suffix_that_does_not_follow_what_was_persisted_is_a_bug() {
        let mut state = PersistentState::default();
        state.persist(&ready_with_suffix(1, &log_with_terms(&[1, 1, 1])));
        // The core claims nothing before index 3 changed, but its entry 2 has term 2.
        state.persist(&ready_with_suffix(3, &log_with_terms(&[1, 2, 2])));
    }
}
