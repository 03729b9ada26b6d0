//! Messages between Raft nodes: an [`Envelope`] carrying one [`Message`].
//!
//! The envelope holds the sender's `term`, so the rule "a higher term makes you a
//! follower, a lower term marks the message stale" (§5.1) is applied in exactly one
//! place ([`crate::raft::Node::step`]) before any message-specific handler runs.

use std::sync::Arc;

use serde::Serialize;

use super::entry::Entry;
use super::membership::Configuration;
use super::{Index, NodeId, Term};

/// A snapshot of the state machine covering every entry up to `last_included_index`
/// (Figure 13).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// The index of the last entry the snapshot replaces.
    pub last_included_index: Index,
    /// The term of that entry.
    pub last_included_term: Term,
    /// The configuration in force at `last_included_index` (dissertation §4.1): the
    /// entries that set it are gone, so the snapshot carries it.
    pub configuration: Arc<Configuration>,
    /// The state machine's own encoding of its state at `last_included_index`.
    #[serde(skip)]
    pub data: Arc<[u8]>,
}

/// Where a follower's log disagrees with an AppendEntries request, so the leader can
/// skip back over a whole term per round trip instead of one entry (the lab's
/// XTerm/XIndex/XLen; see `replication.rs`'s `next_index_after_conflict`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ConflictHint {
    /// The term of the follower's entry at `prev_log_index` (XTerm), or `None` if the
    /// follower's log has no entry there because it is too short.
    pub term: Option<Term>,
    /// The first index the follower holds with that term (XIndex); meaningless when
    /// `term` is `None`.
    pub first_index: Index,
    /// One past the follower's last log index (XLen): where a too-short log ends.
    pub log_end: Index,
}

/// The outcome of an AppendEntries request, as the follower reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum AppendOutcome {
    /// The follower's log now matches the leader's up to and including `match_index`.
    Accepted {
        /// The highest index known to match the leader's log.
        match_index: Index,
    },
    /// The consistency check failed at `prev_log_index` (§5.3).
    Conflict(ConflictHint),
    /// The request came from an older term; the reply's envelope carries the newer one.
    StaleTerm,
}

/// The messages of Figure 2 (RequestVote, AppendEntries) and Figure 13
/// (InstallSnapshot), each with its reply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Message {
    /// A candidate asks for a vote (§5.2).
    RequestVote {
        /// Index of the candidate's last log entry (§5.4.1).
        last_log_index: Index,
        /// Term of the candidate's last log entry (§5.4.1).
        last_log_term: Term,
        /// True if the leader asked the candidate to campaign (a leadership transfer,
        /// §3.10): then even a node that hears from that leader considers the request
        /// (check-quorum's stickiness does not apply).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        leadership_transfer: bool,
    },
    /// The answer to a RequestVote.
    RequestVoteReply {
        /// True means the candidate received this node's vote.
        vote_granted: bool,
    },
    /// A leader replicates entries, or sends a heartbeat when `entries` is empty (§5.3).
    AppendEntries {
        /// Index of the log entry immediately preceding the new ones.
        prev_log_index: Index,
        /// Term of the entry at `prev_log_index`.
        prev_log_term: Term,
        /// The entries to store, starting at `prev_log_index + 1`.
        entries: Vec<Entry>,
        /// The leader's commit index.
        leader_commit: Index,
    },
    /// The answer to an AppendEntries.
    AppendEntriesReply {
        /// The request's `prev_log_index`, echoed so the leader can recognise the reply
        /// to a request it has since superseded.
        prev_log_index: Index,
        /// What the follower did with the request.
        outcome: AppendOutcome,
    },
    /// A leader sends its snapshot to a follower whose next entry it no longer has
    /// (Figure 13; the whole snapshot in one message, as the lab allows).
    InstallSnapshot {
        /// The snapshot, with its last included index and term.
        snapshot: Snapshot,
    },
    /// The answer to an InstallSnapshot.
    InstallSnapshotReply {
        /// The `last_included_index` of the snapshot the follower now holds (or already
        /// held); `None` when the request came from an older term and was ignored.
        installed_index: Option<Index>,
    },
    /// A pre-candidate asks whether it would get a vote in the envelope's term, one
    /// past its own, without anyone changing term or vote (pre-vote, dissertation
    /// §9.6; see `prevote.rs`).
    PreVote {
        /// Index of the pre-candidate's last log entry (§5.4.1).
        last_log_index: Index,
        /// Term of the pre-candidate's last log entry (§5.4.1).
        last_log_term: Term,
    },
    /// The answer to a PreVote: a grant carries the term asked about, a refusal the
    /// voter's own term.
    PreVoteReply {
        /// True means the vote would be granted.
        vote_granted: bool,
    },
    /// The leader tells the target of a leadership transfer, whose log it has brought
    /// up to date, to start an election now (dissertation §3.10; see
    /// `transfer.rs`).
    TimeoutNow,
}

impl Message {
    /// A short name for the message type, as shown in traces and `messages`.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::RequestVote { .. } => "RequestVote",
            Message::RequestVoteReply { .. } => "RequestVoteReply",
            Message::AppendEntries { .. } => "AppendEntries",
            Message::AppendEntriesReply { .. } => "AppendEntriesReply",
            Message::InstallSnapshot { .. } => "InstallSnapshot",
            Message::InstallSnapshotReply { .. } => "InstallSnapshotReply",
            Message::PreVote { .. } => "PreVote",
            Message::PreVoteReply { .. } => "PreVoteReply",
            Message::TimeoutNow => "TimeoutNow",
        }
    }

    /// True for requests, false for replies.
    pub fn is_request(&self) -> bool {
        match self {
            Message::RequestVote { .. }
            | Message::AppendEntries { .. }
            | Message::InstallSnapshot { .. }
            | Message::PreVote { .. }
            | Message::TimeoutNow => true,
            Message::RequestVoteReply { .. }
            | Message::AppendEntriesReply { .. }
            | Message::InstallSnapshotReply { .. }
            | Message::PreVoteReply { .. } => false,
        }
    }
}

/// What a message says, without its payload (no commands, no snapshot data): small
/// and cheap to copy, for traces and pictures of a run. [`Message::info`] makes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type")]
pub enum MessageInfo {
    /// See [`Message::RequestVote`].
    RequestVote {
        /// The candidate's last log index.
        last_log_index: Index,
        /// The candidate's last log term.
        last_log_term: Term,
    },
    /// See [`Message::RequestVoteReply`].
    RequestVoteReply {
        /// True if the vote was granted.
        vote_granted: bool,
    },
    /// See [`Message::AppendEntries`].
    AppendEntries {
        /// Index of the entry before the new ones.
        prev_log_index: Index,
        /// Its term.
        prev_log_term: Term,
        /// The first and last index carried, `None` for a heartbeat.
        entries: Option<(Index, Index)>,
        /// The leader's commit index.
        leader_commit: Index,
    },
    /// See [`Message::AppendEntriesReply`].
    AppendEntriesReply {
        /// The request's `prev_log_index`.
        prev_log_index: Index,
        /// What the follower did.
        outcome: AppendOutcome,
    },
    /// See [`Message::InstallSnapshot`].
    InstallSnapshot {
        /// The snapshot's last included index.
        last_included_index: Index,
        /// Its term.
        last_included_term: Term,
    },
    /// See [`Message::InstallSnapshotReply`].
    InstallSnapshotReply {
        /// The snapshot index the follower holds, `None` if the request was stale.
        installed_index: Option<Index>,
    },
    // The messages of the mechanisms beyond Lab 3 come last, so the ones above keep
    // their place (and the history digest of runs without them stays the same).
    /// See [`Message::RequestVote`], sent for a leadership transfer.
    TransferVote {
        /// The candidate's last log index.
        last_log_index: Index,
        /// The candidate's last log term.
        last_log_term: Term,
    },
    /// See [`Message::PreVote`].
    PreVote {
        /// The pre-candidate's last log index.
        last_log_index: Index,
        /// The pre-candidate's last log term.
        last_log_term: Term,
    },
    /// See [`Message::PreVoteReply`].
    PreVoteReply {
        /// True if the vote would be granted.
        vote_granted: bool,
    },
    /// See [`Message::TimeoutNow`].
    TimeoutNow,
}

impl Message {
    /// The message without its payload, for traces.
    pub fn info(&self) -> MessageInfo {
        match self {
            Message::RequestVote {
                last_log_index,
                last_log_term,
                leadership_transfer: false,
            } => MessageInfo::RequestVote {
                last_log_index: *last_log_index,
                last_log_term: *last_log_term,
            },
            Message::RequestVote {
                last_log_index,
                last_log_term,
                leadership_transfer: true,
            } => MessageInfo::TransferVote {
                last_log_index: *last_log_index,
                last_log_term: *last_log_term,
            },
            Message::RequestVoteReply { vote_granted } => MessageInfo::RequestVoteReply {
                vote_granted: *vote_granted,
            },
            Message::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            } => MessageInfo::AppendEntries {
                prev_log_index: *prev_log_index,
                prev_log_term: *prev_log_term,
                entries: entries
                    .first()
                    .zip(entries.last())
                    .map(|(first, last)| (first.index, last.index)),
                leader_commit: *leader_commit,
            },
            Message::AppendEntriesReply {
                prev_log_index,
                outcome,
            } => MessageInfo::AppendEntriesReply {
                prev_log_index: *prev_log_index,
                outcome: *outcome,
            },
            Message::InstallSnapshot { snapshot } => MessageInfo::InstallSnapshot {
                last_included_index: snapshot.last_included_index,
                last_included_term: snapshot.last_included_term,
            },
            Message::InstallSnapshotReply { installed_index } => {
                MessageInfo::InstallSnapshotReply {
                    installed_index: *installed_index,
                }
            }
            Message::PreVote {
                last_log_index,
                last_log_term,
            } => MessageInfo::PreVote {
                last_log_index: *last_log_index,
                last_log_term: *last_log_term,
            },
            Message::PreVoteReply { vote_granted } => MessageInfo::PreVoteReply {
                vote_granted: *vote_granted,
            },
            Message::TimeoutNow => MessageInfo::TimeoutNow,
        }
    }
}

impl MessageInfo {
    /// The message type's name, as [`Message::kind`] gives it.
    pub fn kind(&self) -> &'static str {
        match self {
            MessageInfo::RequestVote { .. } => "RequestVote",
            MessageInfo::RequestVoteReply { .. } => "RequestVoteReply",
            MessageInfo::AppendEntries { .. } => "AppendEntries",
            MessageInfo::AppendEntriesReply { .. } => "AppendEntriesReply",
            MessageInfo::InstallSnapshot { .. } => "InstallSnapshot",
            MessageInfo::InstallSnapshotReply { .. } => "InstallSnapshotReply",
            MessageInfo::TransferVote { .. } => "RequestVote",
            MessageInfo::PreVote { .. } => "PreVote",
            MessageInfo::PreVoteReply { .. } => "PreVoteReply",
            MessageInfo::TimeoutNow => "TimeoutNow",
        }
    }
}

/// A message in flight: who sent it, to whom, and in which term.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Envelope {
    /// The sender.
    pub from: NodeId,
    /// The recipient.
    pub to: NodeId,
    /// The sender's `current_term` when it sent the message.
    pub term: Term,
    /// The message itself.
    pub message: Message,
}

/// Bytes of a fixed-size field (every integer is encoded as 8 bytes).
const WORD: u64 = 8;

impl Envelope {
    /// The size of the envelope in a simple binary encoding: 8 bytes per integer,
    /// boolean or tag, and a length word plus the bytes for every command and
    /// snapshot. Nothing is actually serialized (no message leaves the process); this
    /// is what the byte counters report.
    pub fn encoded_len(&self) -> u64 {
        // from, to, term, message tag
        let header = 4 * WORD;
        let body = match &self.message {
            // The transfer flag shares the message tag's word.
            Message::RequestVote { .. } => 2 * WORD,
            Message::RequestVoteReply { .. } => WORD,
            Message::AppendEntries { entries, .. } => {
                3 * WORD
                    + WORD
                    + entries
                        .iter()
                        .map(|entry| {
                            3 * WORD + entry.command.len() as u64 + entry.kind.extra_encoded_len()
                        })
                        .sum::<u64>()
            }
            Message::AppendEntriesReply { .. } => 5 * WORD,
            Message::InstallSnapshot { snapshot } => 3 * WORD + snapshot.data.len() as u64,
            Message::InstallSnapshotReply { .. } => 2 * WORD,
            Message::PreVote { .. } => 2 * WORD,
            Message::PreVoteReply { .. } => WORD,
            Message::TimeoutNow => 0,
        };
        header + body
    }
}
