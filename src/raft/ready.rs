//! What the core hands to its caller: [`Ready`] (persist, send, apply) and the
//! [`Event`]s that explain what happened, plus the [`PersistentState`] a node is
//! rebuilt from after a crash.

use serde::Serialize;

use super::log::{Entries, Log};
use super::message::{Envelope, Snapshot};
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
    /// lab's `RaftStateSize`), in the encoding of [`Envelope::encoded_len`].
    pub fn raft_state_size(&self) -> u64 {
        // term, voted_for, snapshot index and term, entry count
        let fixed = 5 * 8;
        fixed
            + self
                .log
                .refs(0, self.log.last_index())
                .map(|entry| 3 * 8 + entry.command.len() as u64)
                .sum::<u64>()
    }
}

/// Something that happened inside a node, for traces and for the safety checker.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The election timer fired and the node became a candidate in `term` (§5.2).
    ElectionTimeout {
        /// The new term.
        term: Term,
    },
    /// The node voted for `candidate` in `term`.
    VoteGranted {
        /// Who received the vote.
        candidate: NodeId,
        /// The election's term.
        term: Term,
    },
    /// The node refused its vote to `candidate`.
    VoteDenied {
        /// Who asked.
        candidate: NodeId,
        /// The election's term.
        term: Term,
        /// Why, in words: "already voted for n2" or "candidate's log is behind".
        reason: String,
    },
    /// The node won the election for `term` (§5.2).
    BecameLeader {
        /// The term it leads.
        term: Term,
    },
    /// The node stopped being leader or candidate.
    SteppedDown {
        /// The term it is now a follower in.
        term: Term,
        /// The role it left, for the trace.
        was: &'static str,
    },
    /// A follower stored entries `from..=to` sent by its leader.
    Appended {
        /// First new index.
        from: Index,
        /// Last new index.
        to: Index,
    },
    /// A follower discarded its entries from `from` on because they conflicted with
    /// the leader's (§5.3).
    Truncated {
        /// The first discarded index.
        from: Index,
    },
    /// The commit index advanced to `index`.
    Committed {
        /// The new commit index.
        index: Index,
    },
    /// The node compacted its log into a snapshot through `index` (§7).
    SnapshotTaken {
        /// The snapshot's last included index.
        index: Index,
    },
    /// The node installed a snapshot through `index` from its leader (Figure 13).
    SnapshotInstalled {
        /// The snapshot's last included index.
        index: Index,
    },
}

/// The output of a node since the previous `ready()`, in the spirit of etcd raft's
/// `Ready`. The caller must handle it in this order:
///
/// 1. persist `hard_state`, `snapshot` and `log` ([`PersistentState::persist`]);
/// 2. only then send `messages` (they may depend on what was just persisted);
/// 3. apply `apply_snapshot`, if any, to the state machine, then `committed`.
#[derive(Debug, Default)]
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
            log.push(Entry {
                index,
                term,
                command,
            });
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

    #[test]
    fn persisting_a_suffix_keeps_the_cores_log() {
        let mut state = PersistentState::default();
        let mut core = log_with_terms(&[1, 1, 2]);
        state.persist(&ready_with_suffix(1, &core));
        assert_eq!(state.log, core);
        // Appended after the last Ready: not persisted until the next one.
        core.push(Entry {
            index: 4,
            term: 2,
            command: "c4".into(),
        });
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
