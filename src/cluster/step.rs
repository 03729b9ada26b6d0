//! Stepping by hand and setting the scene, as scenario scripts do: delivering one
//! message in flight and saying what came of it, making a node send at once (a
//! heartbeat fired by hand, a flush), a leader's view of its followers, and a
//! cluster whose nodes start with committed entries (`cluster N log K`).

use std::collections::BTreeMap;

use super::protocol::{Answer, Request};
use super::router::{DropReason, InFlight};
use super::{Cluster, ClusterError, Fate, Outcome};
use crate::kv::KvStore;
use crate::raft::{Entry, HardState, Log, NodeId, ProgressView, Role, Snapshot};

impl Cluster {
    /// Gives every node the same `entries` committed entries before it starts: a
    /// snapshot through index `entries` in term 1, whose state is what applying
    /// `init 1` .. `init K` gives (commands that change no key). The checker learns
    /// them as applied, so it can check the snapshots the nodes load against them.
    pub(super) fn start_with_log(&mut self, entries: u64) {
        let commands: Vec<Entry> = (1..=entries)
            .map(|index| Entry {
                index,
                term: 1,
                command: format!("init {index}").as_str().into(),
                kind: Default::default(),
            })
            .collect();
        let mut state = KvStore::new();
        for entry in &commands {
            state.apply(entry.index, &entry.command);
        }
        let snapshot = Snapshot {
            last_included_index: entries,
            last_included_term: 1,
            // Every node starts from the founding configuration.
            configuration: std::sync::Arc::new(crate::raft::Configuration::with_voters(
                1..=self.config.nodes,
            )),
            data: state.snapshot().into(),
        };
        let engine = self.engine_mut();
        engine.checker.start_with(&commands);
        for slot in &mut engine.slots {
            let mut persisted = slot.storage.lock();
            persisted.hard_state = HardState {
                current_term: 1,
                voted_for: None,
            };
            persisted.log = Log::after_snapshot(entries, 1);
            persisted.snapshot = Some(snapshot.clone());
        }
    }

    /// True if `node` holds entries it will send with its next round (`flush` sends
    /// them now).
    pub fn has_pending(&self, node: NodeId) -> bool {
        let slot = self.existing_slot(node);
        slot.up && slot.pending
    }

    /// The id of the newest message in flight (0 if none): whatever a node sends
    /// next has a higher id.
    fn newest_in_flight(&self) -> u64 {
        self.engine()
            .router
            .in_flight()
            .map(|other| other.id)
            .max()
            .unwrap_or(0)
    }

    /// The messages in flight sent after the one with id `newest`.
    fn sent_after(&self, newest: u64) -> Vec<InFlight> {
        self.engine()
            .router
            .in_flight()
            .filter(|other| other.id > newest)
            .cloned()
            .collect()
    }

    /// Sends a checked request that makes `node` send messages now, and says which.
    pub(super) fn sending(&mut self, node: NodeId, request: Request) -> Outcome {
        let newest = self.newest_in_flight();
        // If the node panicked on it, it is down now, and the checker reported the
        // panic: what it sent before is still what it sent.
        let _ = self.request(node, request);
        Outcome::Sent {
            node,
            messages: self.sent_after(newest),
        }
    }

    /// A leader's view of each follower (`next_index`, `match_index`, replication
    /// state), in id order; `None` unless `node` is an up leader.
    pub fn progress(
        &mut self,
        node: NodeId,
    ) -> Result<Option<BTreeMap<NodeId, ProgressView>>, ClusterError> {
        self.check_node(node)?;
        if !self.slot(node).up || self.slot(node).status.role != Role::Leader {
            return Ok(None);
        }
        match self.request(node, Request::Progress)? {
            Answer::Progress(progress) => Ok(progress),
            other => unreachable!("a progress request is answered with Progress, not {other:?}"),
        }
    }

    /// Hands a checked in-flight message to its recipient now, if its link and
    /// recipient are up; otherwise it is dropped, as it would have been.
    pub(super) fn deliver(&mut self, id: u64) -> Outcome {
        // Message ids grow, so whatever the recipient sends has a higher id than
        // anything in flight now.
        let newest = self.newest_in_flight();
        let message = self.take_in_flight(id);
        let now = self.now();
        let fate = match self.engine_mut().admit(message.clone()) {
            Some(envelope) => {
                // If the recipient panicked on it, it is down now, and the checker
                // reported the panic: the message was still delivered.
                let _ = self.request(envelope.to, Request::Deliver { now, envelope });
                Fate::Delivered
            }
            None => {
                let envelope = &message.envelope;
                let reason = if self.slot(envelope.to).up {
                    DropReason::Cut
                } else {
                    DropReason::Down
                };
                Fate::Dropped(reason)
            }
        };
        let sent = self.sent_after(newest);
        Outcome::Delivered {
            message,
            fate,
            sent,
        }
    }
}
