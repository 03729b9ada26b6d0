//! Membership changes at the cluster's level (dissertation §4.1–§4.2): the node set
//! grows when a node is added and shrinks when a committed configuration leaves one
//! out.
//!
//! - [`Action::AddNode`] gives a new, empty node the next unused id (at most
//!   [`MAX_NODES`](super::MAX_NODES) ever), starts it beside the leader in the network,
//!   and has the leader append the configuration entry that makes it a learner. The
//!   leader promotes it to voter itself once it has caught up (the core's rule).
//! - [`Action::RemoveNode`] has the leader append the entry without the node. The
//!   node is not stopped then: a leader removing itself must keep leading until the
//!   entry commits (§4.2.2). The engine sees the entry committed (some node applies
//!   it) and *retires* every node it leaves out: no more work, no more messages to it,
//!   and [`Cluster::nodes`] no longer lists it. Its thread is stopped after the action
//!   that retired it; a removed id is never used again.
//!
//! Every node, added or founding, is built with the founding configuration; what
//! changed since is in its log (or its snapshot), where the core finds it.

use super::engine::Slot;
use super::protocol::{Answer, Request};
use super::{Action, Cluster, ClusterError, Outcome};
use crate::raft::{ConfChange, Index, MembershipError, NodeId};

impl Cluster {
    /// Adds a node through `leader` ([`Action::AddNode`]); returns its id.
    pub fn add_node(&mut self, leader: NodeId) -> Result<NodeId, ClusterError> {
        match self.apply(&Action::AddNode { leader })? {
            Outcome::NodeAdded { node, .. } => Ok(node),
            other => unreachable!("adding a node ends in NodeAdded, not {other:?}"),
        }
    }

    /// Removes `node` through `leader` ([`Action::RemoveNode`]); returns the index of
    /// the configuration entry (the node leaves once it commits).
    pub fn remove_node(&mut self, leader: NodeId, node: NodeId) -> Result<Index, ClusterError> {
        match self.apply(&Action::RemoveNode { leader, node })? {
            Outcome::NodeRemoving { index, .. } => Ok(index),
            other => unreachable!("removing a node ends in NodeRemoving, not {other:?}"),
        }
    }

    /// Has `leader` hand its leadership to `target` ([`Action::Transfer`]).
    pub fn transfer(&mut self, leader: NodeId, target: NodeId) -> Result<(), ClusterError> {
        self.apply(&Action::Transfer { leader, target }).map(drop)
    }

    /// Checks that `leader` is an up leader that may change the membership now (from
    /// its last report: the same rule the core applies, see `Node::change_refusal`).
    pub(super) fn check_leader(&self, leader: NodeId) -> Result<(), ClusterError> {
        self.check_up(leader)?;
        let status = &self.slot(leader).status;
        match status.change_refusal {
            None => Ok(()),
            Some(MembershipError::NotLeader { leader: known }) => Err(ClusterError::NotLeader {
                node: leader,
                leader: known,
            }),
            Some(reason) => Err(ClusterError::ChangeRefused {
                node: leader,
                reason,
            }),
        }
    }

    /// Makes room for a new node with the next id, next to `leader` in the network;
    /// returns its id.
    pub(super) fn add_slot(&mut self, leader: NodeId) -> NodeId {
        let founding = self.founding();
        let node = self.size() + 1;
        let engine = self.engine_mut();
        engine.slots.push(Slot::new(node, &founding));
        engine.router.add_node(node, leader);
        engine.checker.add_node(node);
        self.shared.add_node(node);
        self.threads.push(None);
        self.lives.push(0);
        node
    }

    /// Proposes a checked membership change to `leader`; returns its entry's index
    /// (an error only if the leader's thread panicked on it).
    pub(super) fn propose_change(
        &mut self,
        leader: NodeId,
        change: ConfChange,
    ) -> Result<Index, ClusterError> {
        let now = self.now();
        match self.request(leader, Request::ProposeChange { now, change })? {
            Answer::ChangeProposed(Ok(proposal)) => Ok(proposal.index),
            Answer::ChangeProposed(Err(refusal)) => unreachable!(
                "n{leader} refused a change the cluster checked from its report ({change}): {refusal}"
            ),
            other => unreachable!("a change is answered with ChangeProposed, not {other:?}"),
        }
    }

    /// Stops the threads of nodes a committed configuration removed (they get no work
    /// since; stopping them changes nothing else, so when it happens does not matter).
    pub(super) fn reap_removed(&mut self) {
        for node in 1..=self.size() {
            let slot = self.slot(node);
            if slot.removed && slot.up {
                let _ = self.request(node, Request::Crash);
                self.shared.set_sender(node, None);
                if let Some(thread) = self.threads[node - 1].take() {
                    thread.join().expect("a removed node's thread ends cleanly");
                }
                self.engine_mut().slots[node - 1].up = false;
            }
        }
    }
}
