//! What happened inside a node, in words a trace can show: the [`Event`]s each
//! [`super::Ready`] carries, for the caller's trace and the safety checker.

use serde::Serialize;

use super::progress::ProgressState;
use super::{Index, NodeId, Term};

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
    /// A message from an older term reached the node, which ignored it (§5.1; a
    /// request is still answered, so its sender learns the newer term).
    StaleTermIgnored {
        /// The sender.
        from: NodeId,
        /// The message's term, older than the node's.
        term: Term,
    },
    /// A candidate counted an answer to its RequestVote (§5.2).
    VoteCounted {
        /// Who answered.
        from: NodeId,
        /// Whether the vote was granted.
        granted: bool,
        /// The votes the candidate holds now, its own included.
        votes: usize,
        /// The votes it needs to win (a majority).
        quorum: usize,
    },
    /// A follower refused an AppendEntries because its log holds no entry at
    /// `prev_log_index` with term `prev_log_term` (Figure 2, AppendEntries rule 2).
    AppendRejected {
        /// The leader that sent it.
        leader: NodeId,
        /// The request's `prev_log_index`.
        prev_log_index: Index,
        /// The request's `prev_log_term`.
        prev_log_term: Term,
        /// The term of the follower's entry there, or `None` if its log is shorter.
        found: Option<Term>,
    },
    /// A leader's view of a follower changed on its answer (`progress.rs`):
    /// Figure 2's `next_index` and `match_index`, and the replication state.
    ProgressUpdated {
        /// The follower.
        follower: NodeId,
        /// Its `next_index` now.
        next_index: Index,
        /// Its `match_index` now.
        match_index: Index,
        /// How the leader replicates to it now.
        state: ProgressState,
    },
}

impl Event {
    /// True for a receiver's decision about one message (a stale message ignored, a
    /// vote counted, an AppendEntries rejected, a follower's progress updated). These
    /// explain what a delivery did; they follow from the message and the node's state,
    /// so they add nothing a replay could diverge on by themselves.
    pub fn is_decision(&self) -> bool {
        matches!(
            self,
            Event::StaleTermIgnored { .. }
                | Event::VoteCounted { .. }
                | Event::AppendRejected { .. }
                | Event::ProgressUpdated { .. }
        )
    }
}
