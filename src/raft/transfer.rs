//! Leadership transfer (Ongaro's dissertation §3.10): a leader hands its role to a
//! chosen node, for maintenance (it is about to be shut down or removed) or to move
//! leadership somewhere better placed.
//!
//! The steps, as the dissertation gives them:
//!
//! 1. The leader stops accepting client commands ([`super::ProposeError::Transferring`]),
//!    so the target can catch up with a log that no longer grows.
//! 2. It brings the target's log up to date by normal replication.
//! 3. Once the target's `match_index` reaches the leader's last index, it sends the
//!    target [`Message::TimeoutNow`]: "start an election now".
//! 4. The target starts an election at once, skipping pre-vote, and its RequestVote
//!    says it was asked to ([`Message::RequestVote::leadership_transfer`]) so nodes
//!    that still hear the old leader do not ignore it (check-quorum's stickiness).
//!    With the most up-to-date log and a head start on everyone's timers it very
//!    likely wins; its higher term makes the old leader a follower.
//!
//! The transfer is given up after an election timeout (`election_timeout_min` ticks)
//! if the target has not taken over (it may be down or cut off); the leader then
//! takes commands again. It ends too if the leader stops leading for any reason.

use super::event::Event;
use super::message::Message;
use super::role::RoleState;
use super::{Node, NodeId, NotLeader};

/// A leadership transfer under way on the leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Transfer {
    /// The node that should take over.
    pub(super) target: NodeId,
    /// Ticks since the transfer began.
    elapsed: u64,
}

/// Why [`Node::transfer_leadership`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// Only a leader can hand over its leadership.
    #[error(transparent)]
    NotLeader(#[from] NotLeader),
    /// The target already leads.
    #[error("n{0} is the leader already: transfer leadership to another node")]
    AlreadyLeader(NodeId),
    /// The target cannot be elected.
    #[error("n{0} is not a voting member of the cluster")]
    NotAVoter(NodeId),
}

impl Node {
    /// Starts handing leadership to `target` (§3.10; see the module documentation).
    /// Asking again for the same target changes nothing; asking for another one
    /// replaces the transfer under way.
    pub fn transfer_leadership(&mut self, target: NodeId) -> Result<(), TransferError> {
        if self.role() != super::Role::Leader {
            return Err(TransferError::NotLeader(NotLeader {
                leader: self.leader(),
            }));
        }
        if target == self.id {
            return Err(TransferError::AlreadyLeader(target));
        }
        if !self.configuration().is_voter(target) {
            return Err(TransferError::NotAVoter(target));
        }
        let RoleState::Leader(leader) = &mut self.role else {
            unreachable!("checked above that this node leads");
        };
        if leader
            .transfer
            .is_some_and(|transfer| transfer.target == target)
        {
            return Ok(());
        }
        leader.transfer = Some(Transfer { target, elapsed: 0 });
        if let Some(progress) = leader.progress.get_mut(&target) {
            // Step 2 starts now rather than at the next heartbeat.
            progress.heartbeat();
        }
        let term = self.current_term;
        self.record(Event::TransferStarted { target, term });
        self.send_timeout_now_if_caught_up(target);
        Ok(())
    }

    /// The node this leader is handing its leadership to, if a transfer is under way.
    pub fn transferring_to(&self) -> Option<NodeId> {
        match &self.role {
            RoleState::Leader(leader) => leader.transfer.map(|transfer| transfer.target),
            RoleState::Follower(_) | RoleState::PreCandidate(_) | RoleState::Candidate(_) => None,
        }
    }

    /// Ticks until a transfer under way is given up, if one is.
    pub(super) fn ticks_until_transfer_deadline(&self) -> Option<u64> {
        match &self.role {
            RoleState::Leader(leader) => leader
                .transfer
                // At least one: a shortened timeout fires at the next tick.
                .map(|transfer| {
                    self.config
                        .election_timeout_min
                        .saturating_sub(transfer.elapsed)
                        .max(1)
                }),
            RoleState::Follower(_) | RoleState::PreCandidate(_) | RoleState::Candidate(_) => None,
        }
    }

    /// One tick of a transfer under way: after an election timeout without a new
    /// leader it is given up, and the leader takes commands again.
    pub(super) fn tick_transfer(&mut self) {
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        let Some(transfer) = &mut leader.transfer else {
            return;
        };
        transfer.elapsed += 1;
        if transfer.elapsed < self.config.election_timeout_min {
            return;
        }
        let target = transfer.target;
        leader.transfer = None;
        let term = self.current_term;
        self.record(Event::TransferAborted { target, term });
    }

    /// Step 3: if `peer` is the transfer's target and holds the leader's whole log,
    /// tells it to start an election now. Called whenever a follower's log is known
    /// to match further.
    pub(super) fn send_timeout_now_if_caught_up(&mut self, peer: NodeId) {
        let RoleState::Leader(leader) = &self.role else {
            return;
        };
        let Some(transfer) = leader.transfer.filter(|transfer| transfer.target == peer) else {
            return;
        };
        let caught_up = leader
            .progress
            .get(&transfer.target)
            .is_some_and(|progress| progress.match_index() == self.log.last_index());
        if caught_up {
            self.send(transfer.target, Message::TimeoutNow);
        }
    }

    /// TimeoutNow receiver (step 4): the leader of our term asks us to take over, so
    /// we start an election at once (without pre-vote, and marked as a transfer).
    pub(super) fn handle_timeout_now(&mut self, leader: NodeId) {
        if self.role() == super::Role::Leader || !self.may_campaign() {
            return;
        }
        let term = self.current_term;
        self.record(Event::TimeoutNowReceived { leader, term });
        self.start_election(true);
    }
}
