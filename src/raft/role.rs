//! What a node holds only while it has one role (Figure 2's followers, candidates
//! and leaders), so no handler has to clear another role's leftovers by hand: the
//! state is created when the role is entered and dropped when it is left.
//!
//! - A follower remembers the leader it last heard from in its term.
//! - A pre-candidate counts the pre-votes it was granted (§9.6, when pre-vote is on),
//!   and a candidate the votes of its election (§5.2); both remember who answered
//!   and when they last asked, so they can ask again (§5.1).
//! - A leader keeps a [`Progress`] per follower (Figure 2 `nextIndex[]` and
//!   `matchIndex[]`, reinitialized after each election), its heartbeat timer, what
//!   its quorum check has heard (check-quorum) and a leadership transfer under way.
//!
//! The election timer is not here: followers and candidates both run it (a
//! candidate whose election times out starts another), and a leader ignores it.

use std::collections::{BTreeMap, BTreeSet};

use super::check_quorum::QuorumCheck;
use super::progress::Progress;
use super::transfer::Transfer;
use super::{Index, NodeId, Role};

/// The role-specific state of a node; the variant is its [`Role`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum RoleState {
    /// Answers leaders and candidates.
    Follower(Follower),
    /// Asks whether it could win an election, before starting one (pre-vote, §9.6).
    /// Shown as a candidate; its term has not moved yet.
    PreCandidate(Candidate),
    /// Asks for votes.
    Candidate(Candidate),
    /// Replicates its log.
    Leader(Leader),
}

impl RoleState {
    /// Which role this is.
    pub(super) fn role(&self) -> Role {
        match self {
            RoleState::Follower(_) => Role::Follower,
            RoleState::PreCandidate(_) | RoleState::Candidate(_) => Role::Candidate,
            RoleState::Leader(_) => Role::Leader,
        }
    }
}

/// A follower's own state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Follower {
    /// The leader of the current term, once heard from (clients are redirected to it).
    pub(super) leader: Option<NodeId>,
}

/// A candidate's own state: its election (§5.2), or a pre-candidate's pre-vote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Candidate {
    /// The nodes that granted their vote (or pre-vote) in this election, the
    /// candidate included.
    pub(super) votes: BTreeSet<NodeId>,
    /// The nodes that answered, granting or refusing, the candidate included. The
    /// others are asked again every heartbeat interval (§5.1).
    pub(super) answered: BTreeSet<NodeId>,
    /// Ticks since the requests last went out.
    pub(super) retry_elapsed: u64,
    /// Whether a leader asked for this election (§3.10), so that every request of
    /// the election says so.
    pub(super) leadership_transfer: bool,
}

impl Candidate {
    /// A new election (or pre-vote) in which `id` has voted for itself (§5.2) and
    /// has asked nobody yet.
    pub(super) fn new(id: NodeId, leadership_transfer: bool) -> Candidate {
        Candidate {
            votes: BTreeSet::from([id]),
            answered: BTreeSet::from([id]),
            retry_elapsed: 0,
            leadership_transfer,
        }
    }

    /// Counts `from`'s answer.
    pub(super) fn answer(&mut self, from: NodeId, granted: bool) {
        self.answered.insert(from);
        if granted {
            self.votes.insert(from);
        }
    }

    /// One tick of the retry timer; true when the unanswered are due to be asked
    /// again (every `heartbeat_interval` ticks, like a leader's heartbeat).
    pub(super) fn tick_retry(&mut self, heartbeat_interval: u64) -> bool {
        self.retry_elapsed += 1;
        self.retry_elapsed >= heartbeat_interval
    }
}

/// A leader's own state: its view of every follower and its heartbeat timer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Leader {
    /// Per-follower replication state (Figure 2 `nextIndex[]`, `matchIndex[]`).
    pub(super) progress: BTreeMap<NodeId, Progress>,
    /// Ticks since the last heartbeat round.
    pub(super) heartbeat_elapsed: u64,
    /// Whom the leader heard from since its last quorum check (check-quorum).
    pub(super) quorum_check: QuorumCheck,
    /// The leadership transfer under way, if any (§3.10).
    pub(super) transfer: Option<Transfer>,
}

impl Leader {
    /// A new leader's state (Figure 2, "reinitialized after election"): every peer's
    /// `next_index` just after the leader's `last_index`, each with the initial
    /// heartbeat due.
    pub(super) fn new(peers: impl Iterator<Item = NodeId>, last_index: Index) -> Leader {
        Leader {
            progress: peers
                .map(|peer| (peer, Progress::new(last_index + 1)))
                .collect(),
            heartbeat_elapsed: 0,
            quorum_check: QuorumCheck::default(),
            transfer: None,
        }
    }

    /// One tick of the heartbeat timer: every `heartbeat_interval` ticks, every
    /// follower is due a message, empty or not, so its election timer does not fire
    /// (§5.2, "repeat during idle periods to prevent election timeouts").
    pub(super) fn tick(&mut self, heartbeat_interval: u64) {
        self.heartbeat_elapsed += 1;
        if self.heartbeat_elapsed >= heartbeat_interval {
            self.heartbeat();
        }
    }

    /// The heartbeat timer fires: it starts over, and every follower is due a message.
    pub(super) fn heartbeat(&mut self) {
        self.heartbeat_elapsed = 0;
        for progress in self.progress.values_mut() {
            progress.heartbeat();
        }
    }
}
