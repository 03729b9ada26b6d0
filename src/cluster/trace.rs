//! The trace: what happened in the cluster, tick by tick.
//!
//! The most recent events are kept for the `events` view; every event ever recorded
//! is also folded into a running digest, so two runs can be compared in full without
//! keeping their whole history. A receiver's decisions (`Event::is_decision`) are
//! kept but not folded: they explain a delivery that the digest already holds, and
//! leaving them out keeps digests comparable with runs recorded before they existed
//! (the behaviour fingerprint).

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};

use serde::Serialize;

use super::router::DropReason;
use crate::digest::Folder;
use crate::raft::{Event, Index, MessageInfo, NodeId, Term};

/// One thing that happened to one node.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TraceKind {
    /// Something the Raft core reported.
    Raft {
        /// The core's event.
        #[serde(flatten)]
        event: Event,
    },
    /// The state machine applied entries `from..=to`.
    Applied {
        /// First index applied.
        from: Index,
        /// Last index applied.
        to: Index,
    },
    /// The state machine loaded a snapshot through `index`.
    SnapshotLoaded {
        /// The snapshot's last included index.
        index: Index,
    },
    /// The node crashed: its volatile state and messages in flight are gone.
    Crashed,
    /// The node restarted from what it persisted.
    Restarted,
    /// The node was cut from every other node.
    Disconnected,
    /// The node's links were restored.
    Connected,
    /// This node sent message `id` to `to` (a copy made by duplication is sent again
    /// under its own id, with `copy` set).
    Sent {
        /// The message's id (as `messages` and `deliver` show it).
        id: u64,
        /// The recipient.
        to: NodeId,
        /// The sender's term in the envelope.
        term: Term,
        /// What the message says, without its payload.
        message: MessageInfo,
        /// True for the extra copy the network's duplication made.
        copy: bool,
    },
    /// Message `id` from `from` reached this node.
    Delivered {
        /// The message's id.
        id: u64,
        /// The sender.
        from: NodeId,
    },
    /// Message `id` from this node was dropped: when sent (lost, link cut) or later
    /// (link cut or recipient down by the time it was due, the sender crashed, or by
    /// hand).
    Dropped {
        /// The message's id.
        id: u64,
        /// The recipient.
        to: NodeId,
        /// The message type.
        message: &'static str,
        /// Why.
        reason: DropReason,
    },
    /// The network was split: this node can now reach only the nodes of `group`
    /// (itself included; a node named in no group is alone).
    Partitioned {
        /// The nodes of its group, in id order.
        group: Vec<NodeId>,
    },
    /// The network was healed: every node can reach every other again.
    Healed,
    /// The checker found a broken invariant.
    Violation {
        /// Which invariant, by its stable name.
        invariant: &'static str,
        /// What was broken.
        text: String,
    },
    /// A rule of the paper was broken on purpose (`broken`), or restored, on every
    /// node (recorded at node 1, for the whole cluster).
    Rule {
        /// The rule's name.
        rule: &'static str,
        /// True if broken from now on, false if restored.
        broken: bool,
    },
    // What only membership changes cause comes last, so the events above keep their
    // place (and the history digest of runs without them stays the same).
    /// A new, empty node was started, to join the cluster as a learner.
    Added,
    /// The node was left out of the configuration committed at `index`: it is out of
    /// the cluster for good (its id is never used again).
    Removed {
        /// The configuration entry's index.
        index: u64,
    },
}

/// A trace event: a tick, a node, and what happened.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct TraceEvent {
    /// The virtual time.
    pub tick: u64,
    /// The node it happened to (for drops: the sender).
    pub node: NodeId,
    /// What happened.
    #[serde(flatten)]
    pub kind: TraceKind,
}

/// The recent events and a digest of all of them.
#[derive(Clone, Debug)]
pub struct Trace {
    /// The most recent events, oldest first.
    recent: VecDeque<TraceEvent>,
    /// How many recent events to keep.
    capacity: usize,
    /// A hash of every event ever recorded, in order.
    digest: u64,
    /// How many events were ever recorded.
    total: u64,
}

impl Trace {
    /// An empty trace keeping the last `capacity` events.
    pub fn new(capacity: usize) -> Trace {
        Trace {
            recent: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            digest: 0,
            total: 0,
        }
    }

    /// Records an event.
    pub fn record(&mut self, tick: u64, node: NodeId, kind: TraceKind) {
        let event = TraceEvent { tick, node, kind };
        let explains = matches!(&event.kind, TraceKind::Raft { event } if event.is_decision());
        if !explains {
            let mut folder = Folder::continuing(self.digest);
            event.hash(&mut folder);
            self.digest = folder.finish();
        }
        self.total += 1;
        if self.recent.len() == self.capacity {
            self.recent.pop_front();
        }
        self.recent.push_back(event);
    }

    /// The last `count` events, oldest first.
    pub fn last(&self, count: usize) -> impl Iterator<Item = &TraceEvent> {
        self.recent
            .iter()
            .skip(self.recent.len().saturating_sub(count))
    }

    /// A digest of every event recorded so far.
    pub fn digest(&self) -> u64 {
        self.digest
    }

    /// How many events were recorded so far.
    pub fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_recent_events_and_digests_all() {
        let mut a = Trace::new(2);
        let mut b = Trace::new(100);
        for tick in 0..5 {
            a.record(tick, 1, TraceKind::Crashed);
            b.record(tick, 1, TraceKind::Crashed);
        }
        assert_eq!(a.last(10).map(|e| e.tick).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(a.digest(), b.digest());
        assert_eq!(a.total(), 5);
        b.record(5, 2, TraceKind::Restarted);
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn a_receivers_decision_is_kept_but_not_digested() {
        let mut a = Trace::new(10);
        let mut b = Trace::new(10);
        a.record(1, 1, TraceKind::Crashed);
        b.record(1, 1, TraceKind::Crashed);
        let decision = Event::VoteCounted {
            from: 2,
            granted: true,
            votes: 2,
            quorum: 2,
        };
        b.record(2, 1, TraceKind::Raft { event: decision });
        assert_eq!(a.digest(), b.digest());
        assert_eq!(b.total(), 2);
        assert_eq!(b.last(1).count(), 1);
        // Any other core event is digested.
        b.record(
            3,
            1,
            TraceKind::Raft {
                event: Event::BecameLeader { term: 1 },
            },
        );
        assert_ne!(a.digest(), b.digest());
    }
}
