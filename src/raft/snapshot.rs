//! Log compaction (§7) and InstallSnapshot (Figure 13).
//!
//! The state machine periodically captures its state through some applied index and
//! hands it to [`Node::snapshot`]; the log before that index is dropped. A leader whose
//! follower needs an entry that is gone sends the whole snapshot instead. The state
//! machine never moves backwards: a snapshot older than what a node has committed is
//! acknowledged and ignored.

use std::sync::Arc;

use super::event::Event;
use super::message::{Message, Snapshot};
use super::role::RoleState;
use super::rules::Rule;
use super::{Index, Node, NodeId};

/// Why [`Node::snapshot`] refused a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The state machine cannot have captured an entry it was not given yet.
    #[error("index {index} is not applied yet (last applied: {last_applied})")]
    NotApplied {
        /// The requested snapshot index.
        index: Index,
        /// The node's last applied index.
        last_applied: Index,
    },
    /// The log is already compacted through this index.
    #[error("the log is already compacted through {snapshot_index}")]
    AlreadyCompacted {
        /// The current snapshot index.
        snapshot_index: Index,
    },
    /// The log no longer holds the entry: only a rule broken on purpose truncates an
    /// applied entry.
    #[error("the log no longer holds applied entry {index}")]
    NotInLog {
        /// The requested snapshot index.
        index: Index,
    },
}

impl Node {
    /// The state machine captured every entry through `index` in `data`: keep that as
    /// the snapshot and drop the log up to it (§7). The new snapshot is persisted with
    /// the next [`super::Ready`].
    pub fn snapshot(&mut self, index: Index, data: Arc<[u8]>) -> Result<(), SnapshotError> {
        if index > self.last_applied {
            return Err(SnapshotError::NotApplied {
                index,
                last_applied: self.last_applied,
            });
        }
        if index <= self.log.snapshot_index() {
            return Err(SnapshotError::AlreadyCompacted {
                snapshot_index: self.log.snapshot_index(),
            });
        }
        let Some(term) = self.log.term_at(index) else {
            // While every rule holds, an applied entry after the snapshot is in the log.
            assert!(
                !self.rules_hold(),
                "an applied entry after the snapshot is in the log"
            );
            return Err(SnapshotError::NotInLog { index });
        };
        self.log.compact(index, term);
        let configuration = self.configurations.at(index).clone();
        self.configurations.compacted_through(index);
        self.snapshot = Some(Snapshot {
            last_included_index: index,
            last_included_term: term,
            configuration,
            data,
        });
        self.snapshot_changed = true;
        self.record(Event::SnapshotTaken { index });
        Ok(())
    }

    /// InstallSnapshot receiver (Figure 13), for a request in our current term.
    pub(super) fn handle_install_snapshot(&mut self, leader: NodeId, snapshot: Snapshot) {
        self.follow_leader_of_current_term(leader);
        let index = snapshot.last_included_index;
        // Already committed through there: our log (or a newer snapshot) holds it all,
        // and the state machine must not move backwards. Installing it anyway
        // (`snapshot-backwards`) rolls the state machine and the commit index back.
        if index > self.commit_index || self.breaks(Rule::SnapshotBackwards) {
            // Steps 6–7: keep the log suffix after the snapshot if it matches,
            // otherwise discard the entire log; then load the snapshot.
            let kept_suffix = self.log.compact(index, snapshot.last_included_term);
            // The snapshot brings the configuration in force at its index (§4.1);
            // configuration entries of a kept suffix still follow it.
            let after = if kept_suffix {
                self.configurations.after(index)
            } else {
                Default::default()
            };
            let before = self.configuration().clone();
            self.configurations
                .installed(index, snapshot.configuration.clone(), after);
            if self.configuration() != &before {
                self.configuration_changed();
            }
            self.snapshot = Some(snapshot);
            self.snapshot_changed = true;
            self.snapshot_to_apply = true;
            self.commit_index = index;
            self.last_applied = index;
            self.record(Event::SnapshotInstalled { index });
        }
        self.send(
            leader,
            Message::InstallSnapshotReply {
                installed_index: Some(index),
            },
        );
    }

    /// The leader learns that a follower holds everything through `installed_index`
    /// (Figure 13): its log now matches the leader's there, as if it had accepted an
    /// AppendEntries.
    pub(super) fn handle_install_snapshot_reply(
        &mut self,
        from: NodeId,
        installed_index: Option<Index>,
    ) {
        // A reply that reaches a node that no longer leads is ignored.
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        // None answers a request from an older term and says nothing about this one.
        let Some(index) = installed_index else {
            return;
        };
        let Some(progress) = leader.progress.get_mut(&from) else {
            return;
        };
        let before = progress.view();
        progress.accepted(index);
        let after = progress.view();
        self.record_progress_change(from, before, after);
        self.maybe_advance_commit_index();
        self.send_timeout_now_if_caught_up(from);
        self.promote_caught_up_learner();
    }
}
