//! Check-quorum and leader stickiness: the switch [`super::Features::check_quorum`].
//!
//! # The problem
//!
//! In Figure 2 a leader never doubts itself: cut off in a minority, it keeps sending
//! heartbeats nobody answers and keeps telling clients it leads, while the majority
//! has long elected someone else (the lab's tests tolerate this; clients of a real
//! system would wait on it forever). And a node that only *thinks* the leader is gone
//! (its own link is bad) starts elections with ever higher terms that depose a leader
//! everyone else hears fine.
//!
//! # The cure
//!
//! - **Check-quorum** (Ongaro's dissertation §6.2: "a leader steps down if an election
//!   timeout elapses without a successful round of heartbeats to a majority of its
//!   cluster"): every `election_timeout_min` ticks the leader counts the followers
//!   that answered it since the last check; without a majority (itself included) it
//!   becomes a follower. A stale leader in a minority thus stops leading within one
//!   election timeout, about when the majority elects a new one.
//! - **Leader stickiness** (§4.2.3): a node that heard from a live leader within the
//!   minimum election timeout ignores a request to vote (or pre-vote) in a newer term
//!   entirely: it neither grants it nor adopts the term. A leader ignores them too
//!   while it leads (its quorum check is what tells it otherwise). Only a leadership
//!   transfer ([`super::transfer`]) may bypass this, because the leader itself asked.
//!
//! The two belong together: stickiness is safe only because a leader that lost its
//! majority steps down, so the followers it no longer reaches stop deferring to it.

use super::event::Event;
use super::message::{Envelope, Message};
use super::role::RoleState;
use super::{Node, NodeId};

/// A leader's record for its next quorum check: which followers answered since the
/// last one, and how long ago that was.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct QuorumCheck {
    /// Ticks since the last check (counted only while check-quorum is on).
    elapsed: u64,
    /// The followers that answered a request of this leader since the last check.
    heard_from: std::collections::BTreeSet<NodeId>,
}

impl Node {
    /// Notes that a message of our own term came from `from`: for a leader, an answer
    /// to one of its requests proves the follower is reachable (kept whether or not
    /// the switch is on, so switching it on mid-term starts from the truth).
    pub(super) fn note_heard_from(&mut self, from: NodeId, message: &Message) {
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        match message {
            Message::AppendEntriesReply { .. } | Message::InstallSnapshotReply { .. } => {
                leader.quorum_check.heard_from.insert(from);
            }
            Message::RequestVote { .. }
            | Message::RequestVoteReply { .. }
            | Message::AppendEntries { .. }
            | Message::InstallSnapshot { .. }
            | Message::PreVote { .. }
            | Message::PreVoteReply { .. }
            | Message::TimeoutNow => {}
        }
    }

    /// Starts the leader's next quorum check period from now (when the switch is
    /// turned on).
    pub(super) fn restart_quorum_check(&mut self) {
        if let RoleState::Leader(leader) = &mut self.role {
            leader.quorum_check.elapsed = 0;
        }
    }

    /// Ticks until the leader's next quorum check, if check-quorum is on and this node
    /// leads.
    pub(super) fn ticks_until_quorum_check(&self) -> Option<u64> {
        match &self.role {
            RoleState::Leader(leader) if self.config.features.check_quorum => {
                // At least one: a shortened timeout fires at the next tick.
                Some(
                    self.config
                        .election_timeout_min
                        .saturating_sub(leader.quorum_check.elapsed)
                        .max(1),
                )
            }
            _ => None,
        }
    }

    /// One tick of the leader's quorum check (§6.2): every `election_timeout_min`
    /// ticks, a leader that has not heard from a majority since the last check steps
    /// down.
    pub(super) fn tick_quorum_check(&mut self) {
        if !self.config.features.check_quorum {
            return;
        }
        let RoleState::Leader(leader) = &mut self.role else {
            return;
        };
        leader.quorum_check.elapsed += 1;
        if leader.quorum_check.elapsed < self.config.election_timeout_min {
            return;
        }
        let mut heard_from = std::mem::take(&mut leader.quorum_check.heard_from);
        leader.quorum_check.elapsed = 0;
        // The leader counts itself (if it votes: a leader removing itself does not).
        heard_from.insert(self.id);
        if self.is_voter_quorum(&heard_from) {
            return;
        }
        heard_from.remove(&self.id);
        let term = self.current_term;
        self.record(Event::LostQuorum {
            term,
            heard_from: heard_from.into_iter().collect(),
            quorum: self.quorum_size(),
        });
        self.become_follower(term, None);
    }

    /// Leader stickiness (§4.2.3): true if this node ignores `envelope`, a request to
    /// vote or pre-vote in a newer term, because it believes a live leader exists: it
    /// leads itself, or it heard from its leader less than `election_timeout_min` ticks
    /// ago. A vote asked for by a leadership transfer is never ignored. Always false
    /// while check-quorum is off.
    pub(super) fn ignores_vote_request(&mut self, envelope: &Envelope) -> bool {
        if !self.config.features.check_quorum || envelope.term <= self.current_term {
            return false;
        }
        match envelope.message {
            Message::RequestVote {
                leadership_transfer: false,
                ..
            }
            | Message::PreVote { .. } => {}
            Message::RequestVote {
                leadership_transfer: true,
                ..
            }
            | Message::RequestVoteReply { .. }
            | Message::AppendEntries { .. }
            | Message::AppendEntriesReply { .. }
            | Message::InstallSnapshot { .. }
            | Message::InstallSnapshotReply { .. }
            | Message::PreVoteReply { .. }
            | Message::TimeoutNow => return false,
        }
        let leader = match &self.role {
            RoleState::Leader(_) => self.id,
            RoleState::Follower(follower) => match follower.leader {
                Some(leader) if self.election_elapsed < self.config.election_timeout_min => leader,
                _ => return false,
            },
            RoleState::PreCandidate(_) | RoleState::Candidate(_) => return false,
        };
        self.record(Event::VoteIgnored {
            candidate: envelope.from,
            term: envelope.term,
            leader,
            pre_vote: matches!(envelope.message, Message::PreVote { .. }),
        });
        true
    }
}
