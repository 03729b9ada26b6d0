//! The Raft consensus core: pure, deterministic, and free of threads, clocks and I/O.
//!
//! # What Raft is here
//!
//! A [`Node`] is one server of Figure 2 of the Raft paper (Ongaro & Ousterhout, "In
//! Search of an Understandable Consensus Algorithm", extended version), plus log
//! compaction from §7 and Figure 13. It does nothing on its own. Its caller drives it
//! with four inputs:
//!
//! - [`Node::tick`]: one unit of virtual time passed. Followers and candidates count
//!   toward their randomized election timeout (§5.2); leaders count toward their next
//!   heartbeat.
//! - [`Node::step`]: a message arrived from another node.
//! - [`Node::propose`]: a client asks the leader to append a command (§5.3).
//! - [`Node::snapshot`]: the state machine has captured its state through an index,
//!   so the log before it can be dropped (§7).
//!
//! After any number of inputs the caller takes a [`Ready`] with [`Node::ready`]: what
//! to persist, which messages to send (only after persisting), and which snapshot and
//! entries to apply to the state machine. This is the shape of etcd raft's `Ready`
//! and is what makes every rule here testable without threads: the tests below feed
//! inputs and look at outputs.
//!
//! # How messages flow
//!
//! Every message travels in an [`Envelope`] with the sender's term. [`Node::step`]
//! applies the term rule of §5.1 once, for every message: a higher term makes this
//! node a follower of that term; a message from a lower term is stale (requests get a
//! rejection that tells the sender the newer term, replies are dropped). Only then
//! does a handler for the particular message run, in the file named for its rule:
//!
//! - `election.rs`: election timeout, RequestVote and the vote decision, becoming
//!   leader or follower (§5.2, §5.4.1);
//! - `replication.rs`: AppendEntries on both sides, fast backup over conflicting
//!   logs, and the commit rule (§5.3, §5.4.2);
//! - `snapshot.rs`: local snapshots and InstallSnapshot (§7, Figure 13).
//!
//! A leader sends AppendEntries when it has entries a follower lacks and, empty or
//! not, every `heartbeat_interval` ticks. A follower that answered is *replicating*:
//! the leader streams new entries to it without waiting for acknowledgements and
//! assumes they arrive. A follower whose log did not match is *probing*: the leader
//! sends one request at a time, moved back by the follower's conflict hint, until a
//! request matches (or it sends the snapshot, if the entries it needs are gone).
//!
//! # What is persisted, and when
//!
//! `current_term`, `voted_for`, the log and the latest snapshot ([`PersistentState`]).
//! Every change to them appears in the next [`Ready`], together with the messages that
//! depend on it; the caller persists before it sends. A node rebuilt with
//! [`Node::restart`] from what was persisted starts as a follower with
//! `commit_index = last_applied =` the snapshot index, and hands the snapshot to the
//! state machine in its first `Ready`.
//!
//! # What is not implemented
//!
//! - Membership changes (§6): the set of nodes is fixed at creation.
//! - PreVote and CheckQuorum (from Ongaro's thesis): a partitioned node raises its
//!   term, and a leader in a minority keeps believing it leads, as in the lab.
//! - Chunked InstallSnapshot (`offset`/`done`): the lab sends the whole snapshot in
//!   one message, and so do we.
//! - Leader no-op entries on election: the lab's tests expect the first client command
//!   at index 1, so a new leader commits older entries only together with one of its
//!   own (§5.4.2).
//! - Read-only queries and client sessions (§8).

pub mod election;
pub mod log;
pub mod message;
pub mod ready;
pub mod replication;
pub mod snapshot;

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

pub use self::log::Log;
pub use self::message::{AppendOutcome, Command, ConflictHint, Entry, Envelope, Message, Snapshot};
pub use self::ready::{Event, HardState, LogSuffix, PersistentState, Ready};

/// A node's identity. Node ids are 1-based: a cluster of N nodes has ids 1..=N.
pub type NodeId = usize;

/// The three roles of Figure 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Passive: answers leaders and candidates.
    Follower,
    /// Asking for votes to become leader.
    Candidate,
    /// Handles client commands and replicates the log.
    Leader,
}

/// Timing and batching parameters of the core. Times are in ticks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftConfig {
    /// A leader sends AppendEntries to every follower at least this often.
    pub heartbeat_interval: u64,
    /// The smallest election timeout (inclusive).
    pub election_timeout_min: u64,
    /// The largest election timeout (exclusive); each timeout is drawn uniformly from
    /// `election_timeout_min..election_timeout_max`.
    pub election_timeout_max: u64,
    /// At most this many entries go in one AppendEntries.
    pub max_entries_per_append: usize,
    /// At most this many command bytes go in one AppendEntries (one entry is always
    /// sent, however large).
    pub max_bytes_per_append: usize,
}

impl Default for RaftConfig {
    fn default() -> RaftConfig {
        RaftConfig {
            heartbeat_interval: 2,
            election_timeout_min: 10,
            election_timeout_max: 20,
            max_entries_per_append: 4096,
            max_bytes_per_append: 1 << 20,
        }
    }
}

/// A snapshot of a node's state for views and checks (not part of the protocol).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The node's id.
    pub id: NodeId,
    /// Its role.
    pub role: Role,
    /// Its `current_term`.
    pub term: u64,
    /// Whom it voted for in `term`.
    pub voted_for: Option<NodeId>,
    /// The leader it last heard from in `term` (itself if it leads).
    pub leader: Option<NodeId>,
    /// Highest index known to be committed.
    pub commit_index: u64,
    /// Highest index handed to the state machine.
    pub last_applied: u64,
    /// Index of the last log entry (the snapshot index if no entry follows it).
    pub last_log_index: u64,
    /// Term of the last log entry.
    pub last_log_term: u64,
    /// The snapshot's last included index (0 if none).
    pub snapshot_index: u64,
}

/// Why [`Node::propose`] refused a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not the leader{}", match .leader { Some(id) => format!(" (the leader is n{id})"), None => String::new() })]
pub struct NotLeader {
    /// The leader this node knows of, if any.
    pub leader: Option<NodeId>,
}

/// The leader's view of one follower (Figure 2 "volatile state on leaders").
#[derive(Clone, Debug, PartialEq, Eq)]
struct Progress {
    /// Index of the next log entry to send to that follower.
    next_index: u64,
    /// Index of the highest log entry known to be replicated on that follower.
    match_index: u64,
    /// True while the leader does not know where the follower's log matches: it sends
    /// one request at a time and backs up on each conflict. False once a request
    /// matched: it streams entries, advancing `next_index` as it sends.
    probing: bool,
    /// True when a probe is in flight, so no other is sent until a reply or heartbeat.
    probe_sent: bool,
    /// True when the heartbeat timer asks for a message to this follower.
    heartbeat_due: bool,
}

/// One Raft server: Figure 2's state and rules. See the module documentation.
#[derive(Debug)]
pub struct Node {
    /// This node's id.
    id: NodeId,
    /// Every node of the cluster, including this one, in id order.
    members: Vec<NodeId>,
    /// Timing and batching parameters.
    config: RaftConfig,
    /// The source of randomized election timeouts, seeded by the caller.
    rng: Xoshiro256PlusPlus,

    // Persistent state (Figure 2), saved through `Ready` before dependent messages go out.
    /// Latest term this node has seen.
    current_term: u64,
    /// Candidate that received this node's vote in `current_term`.
    voted_for: Option<NodeId>,
    /// The log, after the snapshot base.
    log: Log,
    /// The latest snapshot, if any (Figure 13).
    snapshot: Option<Snapshot>,

    // Volatile state on all servers (Figure 2).
    /// This node's role.
    role: Role,
    /// The leader of `current_term`, when known.
    leader: Option<NodeId>,
    /// Highest log index known to be committed.
    commit_index: u64,
    /// Highest log index handed to the state machine.
    last_applied: u64,
    /// Ticks since the election timer was last reset (followers and candidates).
    election_elapsed: u64,
    /// This term's randomized election timeout (§5.2).
    election_timeout: u64,
    /// Ticks since the last heartbeat (leaders).
    heartbeat_elapsed: u64,
    /// Votes received in the current election (candidates).
    votes: BTreeSet<NodeId>,
    /// Per-follower replication state (leaders; Figure 2 `nextIndex[]`, `matchIndex[]`).
    progress: BTreeMap<NodeId, Progress>,

    // Output accumulated for the next `Ready`.
    /// `current_term` or `voted_for` changed.
    hard_state_changed: bool,
    /// The lowest log index changed since the last `Ready`.
    unstable_from: Option<u64>,
    /// A snapshot was taken or installed since the last `Ready`.
    snapshot_changed: bool,
    /// The state machine must load `snapshot` before applying more entries.
    snapshot_to_apply: bool,
    /// Messages, events and entries waiting for the next `Ready`.
    ready: Ready,
}

impl Node {
    /// A fresh node with an empty log in term 0. `members` lists every node of the
    /// cluster (this one included); `seed` makes its election timeouts reproducible.
    pub fn new(id: NodeId, members: Vec<NodeId>, config: RaftConfig, seed: u64) -> Node {
        Node::restart(id, members, config, seed, PersistentState::default())
    }

    /// A node rebuilt from what it persisted before a crash: it keeps its term, vote,
    /// log and snapshot, and forgets everything volatile. The snapshot, if any, is
    /// handed to the state machine in the first [`Ready`].
    pub fn restart(
        id: NodeId,
        mut members: Vec<NodeId>,
        config: RaftConfig,
        seed: u64,
        state: PersistentState,
    ) -> Node {
        members.sort_unstable();
        members.dedup();
        assert!(
            members.contains(&id),
            "node {id} must be one of the members"
        );
        assert!(
            config.election_timeout_min > config.heartbeat_interval
                && config.election_timeout_max > config.election_timeout_min,
            "election timeouts must exceed the heartbeat interval and form a range"
        );
        let PersistentState {
            hard_state,
            log,
            snapshot,
        } = state;
        let snapshot_index = log.snapshot_index();
        let mut node = Node {
            id,
            members,
            config,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            current_term: hard_state.current_term,
            voted_for: hard_state.voted_for,
            log,
            snapshot_to_apply: snapshot.is_some(),
            snapshot,
            role: Role::Follower,
            leader: None,
            commit_index: snapshot_index,
            last_applied: snapshot_index,
            election_elapsed: 0,
            election_timeout: 0,
            heartbeat_elapsed: 0,
            votes: BTreeSet::new(),
            progress: BTreeMap::new(),
            hard_state_changed: false,
            unstable_from: None,
            snapshot_changed: false,
            ready: Ready::default(),
        };
        node.reset_election_timer();
        node
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Its current role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Its `current_term`.
    pub fn term(&self) -> u64 {
        self.current_term
    }

    /// Its log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// A summary of its state.
    pub fn status(&self) -> Status {
        Status {
            id: self.id,
            role: self.role,
            term: self.current_term,
            voted_for: self.voted_for,
            leader: self.leader,
            commit_index: self.commit_index,
            last_applied: self.last_applied,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
            snapshot_index: self.log.snapshot_index(),
        }
    }

    /// The number of votes (or matching logs) that make a majority.
    pub fn quorum_size(&self) -> usize {
        self.members.len() / 2 + 1
    }

    /// The other members of the cluster.
    fn peers(&self) -> impl Iterator<Item = NodeId> + use<> {
        let id = self.id;
        self.members
            .clone()
            .into_iter()
            .filter(move |&peer| peer != id)
    }

    /// How many more ticks until a timer fires (an election timeout, or a leader's
    /// heartbeat). A caller may skip calling [`Node::tick`] for fewer ticks than this
    /// and catch up later: no tick before then can produce output.
    pub fn ticks_until_due(&self) -> u64 {
        match self.role {
            Role::Leader => self.config.heartbeat_interval - self.heartbeat_elapsed,
            Role::Follower | Role::Candidate => self.election_timeout - self.election_elapsed,
        }
    }

    /// Advances virtual time by one tick (§5.2 timers).
    pub fn tick(&mut self) {
        match self.role {
            Role::Leader => {
                self.heartbeat_elapsed += 1;
                if self.heartbeat_elapsed >= self.config.heartbeat_interval {
                    self.heartbeat_elapsed = 0;
                    for progress in self.progress.values_mut() {
                        progress.heartbeat_due = true;
                    }
                }
            }
            Role::Follower | Role::Candidate => {
                self.election_elapsed += 1;
                if self.election_elapsed >= self.election_timeout {
                    self.start_election();
                }
            }
        }
    }

    /// Makes this node's election timer fire now (a playground control, as if its
    /// timeout had just expired). Returns false if it is the leader, whose timer does
    /// not run.
    pub fn timeout_now(&mut self) -> bool {
        if self.role == Role::Leader {
            return false;
        }
        self.start_election();
        true
    }

    /// Handles one message from another node.
    ///
    /// §5.1, the term rule, lives here and only here: "If RPC request or response
    /// contains term T > currentTerm: set currentTerm = T, convert to follower"; a
    /// message from an older term is stale.
    pub fn step(&mut self, envelope: Envelope) {
        assert_eq!(envelope.to, self.id, "message delivered to the wrong node");
        let Envelope {
            from,
            term,
            message,
            ..
        } = envelope;
        if term > self.current_term {
            // Only a leader sends AppendEntries and InstallSnapshot, so those also
            // tell us who leads the new term.
            let leader = match message {
                Message::AppendEntries { .. } | Message::InstallSnapshot { .. } => Some(from),
                Message::RequestVote { .. }
                | Message::RequestVoteReply { .. }
                | Message::AppendEntriesReply { .. }
                | Message::InstallSnapshotReply { .. } => None,
            };
            self.become_follower(term, leader);
        } else if term < self.current_term {
            // Stale: answer requests so their sender learns the newer term; drop replies.
            let reply = match message {
                Message::RequestVote { .. } => Some(Message::RequestVoteReply {
                    vote_granted: false,
                }),
                Message::AppendEntries { prev_log_index, .. } => {
                    Some(Message::AppendEntriesReply {
                        prev_log_index,
                        outcome: AppendOutcome::StaleTerm,
                    })
                }
                Message::InstallSnapshot { .. } => Some(Message::InstallSnapshotReply {
                    installed_index: None,
                }),
                Message::RequestVoteReply { .. }
                | Message::AppendEntriesReply { .. }
                | Message::InstallSnapshotReply { .. } => None,
            };
            if let Some(reply) = reply {
                self.send(from, reply);
            }
            return;
        }

        match message {
            Message::RequestVote {
                last_log_index,
                last_log_term,
            } => self.handle_request_vote(from, last_log_index, last_log_term),
            Message::RequestVoteReply { vote_granted } => {
                self.handle_request_vote_reply(from, vote_granted)
            }
            Message::AppendEntries {
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            } => self.handle_append_entries(
                from,
                prev_log_index,
                prev_log_term,
                entries,
                leader_commit,
            ),
            Message::AppendEntriesReply {
                prev_log_index,
                outcome,
            } => self.handle_append_entries_reply(from, prev_log_index, outcome),
            Message::InstallSnapshot { snapshot } => self.handle_install_snapshot(from, snapshot),
            Message::InstallSnapshotReply { installed_index } => {
                self.handle_install_snapshot_reply(from, installed_index)
            }
        }
    }

    /// Appends a client command to the leader's log (§5.3) and returns its index and
    /// term. It is replicated with the next [`Ready`]; nothing is promised about it
    /// until it is committed.
    pub fn propose(&mut self, command: Command) -> Result<(u64, u64), NotLeader> {
        if self.role != Role::Leader {
            return Err(NotLeader {
                leader: self.leader,
            });
        }
        let index = self.log.last_index() + 1;
        let term = self.current_term;
        self.log.push(Entry {
            index,
            term,
            command,
        });
        self.log_changed_from(index);
        // A single-node cluster commits on its own.
        self.maybe_advance_commit_index();
        Ok((index, term))
    }

    /// Takes everything produced since the last call: see [`Ready`] for the order in
    /// which the caller must handle it.
    pub fn ready(&mut self) -> Ready {
        if self.role == Role::Leader {
            self.send_appends();
        }
        let mut ready = std::mem::take(&mut self.ready);
        if std::mem::take(&mut self.hard_state_changed) {
            ready.hard_state = Some(HardState {
                current_term: self.current_term,
                voted_for: self.voted_for,
            });
        }
        if std::mem::take(&mut self.snapshot_changed) {
            ready.snapshot = self.snapshot.clone();
        }
        if let Some(first) = self.unstable_from.take() {
            let from = first.max(self.log.snapshot_index() + 1);
            let to = self.log.last_index();
            ready.log = Some(LogSuffix {
                first,
                entries: self.log.slice(from, to).cloned().collect(),
            });
        }
        if std::mem::take(&mut self.snapshot_to_apply) {
            ready.apply_snapshot = self.snapshot.clone();
        }
        if self.last_applied < self.commit_index {
            ready.committed = self
                .log
                .slice(self.last_applied + 1, self.commit_index)
                .cloned()
                .collect();
            debug_assert_eq!(
                ready.committed.len() as u64,
                self.commit_index - self.last_applied
            );
            self.last_applied = self.commit_index;
        }
        ready
    }

    /// Queues a message to `to` in the current term.
    fn send(&mut self, to: NodeId, message: Message) {
        self.ready.messages.push(Envelope {
            from: self.id,
            to,
            term: self.current_term,
            message,
        });
    }

    /// Records an event for the caller's trace.
    fn record(&mut self, event: Event) {
        self.ready.events.push(event);
    }

    /// Notes that the log changed from `index` on, so the next `Ready` persists it.
    fn log_changed_from(&mut self, index: u64) {
        self.unstable_from = Some(self.unstable_from.map_or(index, |from| from.min(index)));
    }

    /// Draws a new randomized election timeout and restarts the timer (§5.2).
    fn reset_election_timer(&mut self) {
        self.election_elapsed = 0;
        self.election_timeout = self
            .rng
            .random_range(self.config.election_timeout_min..self.config.election_timeout_max);
    }
}

#[cfg(test)]
mod tests;
