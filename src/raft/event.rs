//! What happened inside a node, in words a trace can show: the [`Event`]s each
//! [`super::Ready`] carries, for the caller's trace and the safety checker.

use serde::Serialize;

use super::membership::Configuration;
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
    // Events of the optional mechanisms come last, so the events above keep their
    // place (and the history digest of runs without them stays the same).
    /// The election timer fired with pre-vote on: the node asks for pre-votes for
    /// `term` (its own term + 1, not adopted yet; dissertation §9.6).
    PreVoteStarted {
        /// The term the node would campaign in.
        term: Term,
    },
    /// The node would vote for `candidate` in `term` (a pre-vote changes nothing).
    PreVoteGranted {
        /// Who asked.
        candidate: NodeId,
        /// The term asked about.
        term: Term,
    },
    /// The node would not vote for `candidate` in `term`.
    PreVoteDenied {
        /// Who asked.
        candidate: NodeId,
        /// The term asked about.
        term: Term,
        /// Why, in words.
        reason: String,
    },
    /// Leader stickiness (check-quorum, §4.2.3): the node ignored a request to vote
    /// (or pre-vote) for `candidate` in `term`, because it believes `leader` is alive.
    VoteIgnored {
        /// Who asked.
        candidate: NodeId,
        /// The newer term asked about.
        term: Term,
        /// The leader this node heard from recently (itself if it leads).
        leader: NodeId,
        /// True for a pre-vote request.
        pre_vote: bool,
    },
    /// Check-quorum (§6.2): the leader of `term` heard from too few followers in an
    /// election timeout and steps down.
    LostQuorum {
        /// The term it led.
        term: Term,
        /// The followers it did hear from.
        heard_from: Vec<NodeId>,
        /// How many nodes, itself included, make a majority.
        quorum: usize,
    },
    /// The leader of `term` began handing its leadership to `target` (§3.10) and
    /// takes no commands meanwhile.
    TransferStarted {
        /// The node that should take over.
        target: NodeId,
        /// The leader's term.
        term: Term,
    },
    /// The leader gave up a transfer to `target`: no new leader within an election
    /// timeout. It takes commands again.
    TransferAborted {
        /// The node that did not take over.
        target: NodeId,
        /// The leader's term.
        term: Term,
    },
    /// The leader of `term` told this node to start an election now (§3.10).
    TimeoutNowReceived {
        /// The leader handing over.
        leader: NodeId,
        /// Its term.
        term: Term,
    },
    /// The configuration in force changed (dissertation §4.1): an entry that sets it
    /// was appended, or removed again, or a snapshot brought it.
    ConfigurationChanged {
        /// The index of the entry that set it (the snapshot index if a snapshot did).
        index: Index,
        /// The configuration now in force.
        configuration: Configuration,
    },
    /// A leader left out of the configuration committed at `index` stopped leading
    /// (§4.2.2).
    LeftCluster {
        /// The configuration entry's index.
        index: Index,
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
