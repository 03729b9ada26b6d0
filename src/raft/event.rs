//! What happened inside a node, in words a trace can show: the [`Event`]s each
//! [`super::Ready`] carries, for the caller's trace and the safety checker.

use serde::Serialize;

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
}
