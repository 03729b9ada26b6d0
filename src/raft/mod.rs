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
//! does a handler for the particular message run, in the file named for its rule.
//!
//! A leader sends AppendEntries when it has entries a follower lacks and, empty or
//! not, every `heartbeat_interval` ticks. How it talks to each follower is a small
//! state machine (`progress.rs`): a follower whose log matched is in *Replicate*, and
//! the leader streams new entries to it without waiting for acknowledgements; one
//! whose log did not match is in *Probe*, and the leader sends one request at a time,
//! moved back by the follower's conflict hint, until a request matches; one that needs
//! entries the leader compacted is sent the snapshot (*Snapshot*).
//!
//! # Where each part lives
//!
//! - `mod.rs`: this essay; [`Term`], [`Index`], [`Role`], [`RaftConfig`], and
//!   [`Node`] with its Figure 2 state, its inputs (`tick`, `step` with the §5.1 term
//!   rule, `propose`) and [`Node::ready`].
//! - `role.rs`: state held only in one role, created on entering it and dropped on
//!   leaving it: a follower's leader, a candidate's votes, a leader's progress per
//!   follower and heartbeat timer.
//! - `election.rs`: §5.2 elections and the §5.4.1 vote decision (`vote_refusal`);
//!   becoming candidate, leader or follower.
//! - `replication.rs`: §5.3 AppendEntries on both sides, fast backup
//!   (`conflict_hint`, `next_index_after_conflict`),
//!   the §5.4.2 commit rule and the apply rule.
//! - `progress.rs`: a leader's view of one follower: `next_index`, `match_index` and
//!   the Probe / Replicate / Snapshot state, with its transitions.
//! - `quorum.rs`: what a majority is, for votes and for commits.
//! - `snapshot.rs`: §7 local snapshots and Figure 13 InstallSnapshot on both sides.
//! - `log.rs`: the log over a snapshot base, addressed by Raft index (its entries
//!   live in `log/commands.rs`, shared between copies).
//! - `entry.rs`: a log [`Entry`] and its [`Command`].
//! - `message.rs`: the envelope and the messages of Figures 2 and 13.
//! - `ready.rs`: the output, [`Ready`]: what to persist, send and apply.
//! - `event.rs`: the [`Event`]s that explain what happened, for traces and checks.
//! - `persist.rs`: what is persisted ([`HardState`], [`PersistentState`]) and how a
//!   `Ready` is persisted.
//!
//! Each rule of Figures 2 and 13 is one function or method, named for what it does
//! and citing its section; a change to one rule (or a switch that breaks it on
//! purpose) has one place to go.
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

pub(crate) mod election;
pub(crate) mod entry;
pub(crate) mod event;
pub(crate) mod log;
pub(crate) mod message;
pub(crate) mod persist;
pub(crate) mod progress;
pub(crate) mod quorum;
pub(crate) mod ready;
pub(crate) mod replication;
mod role;
pub(crate) mod rules;
pub(crate) mod snapshot;

use std::collections::{BTreeMap, BTreeSet};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

pub use self::entry::{Command, Entry};
pub use self::event::Event;
pub use self::log::Log;
pub use self::message::{AppendOutcome, ConflictHint, Envelope, Message, MessageInfo, Snapshot};
pub use self::persist::{HardState, LogSuffix, PersistentState};
pub use self::progress::{ProgressState, ProgressView};
pub use self::ready::Ready;
use self::role::{Follower, RoleState};
pub use self::rules::{BrokenRules, Rule, UnknownRule, rules};
pub use self::snapshot::SnapshotError;

/// A node's identity. Node ids are 1-based: a cluster of N nodes has ids 1..=N.
pub type NodeId = usize;

/// A term (§5.1): a number that only grows, naming one election and the reign of at
/// most one leader. 0 before the first election.
pub type Term = u64;

/// A position in the log (§5.3). The first entry has index 1; 0 means "before the
/// first entry".
pub type Index = u64;

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

/// Timing and batching parameters of the core, and the rules it breaks on purpose.
/// Times are in ticks.
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
    /// How far a leader backs up after a conflict (`replication.rs`'s
    /// `next_index_after_conflict`): false (the default) lands exactly where the
    /// logs diverge; true backs up to the follower's first entry of the conflicting
    /// term even when the leader holds that term (the lab's simpler rule: still
    /// correct, it resends entries the follower holds, so requests may end before a
    /// stale suffix of the follower's log, where AppendEntries rule 5 matters).
    pub coarse_backup: bool,
    /// The rules of the paper this core breaks on purpose (`rules.rs`); none by
    /// default, which is Lab 3's exact behaviour.
    pub broken: BrokenRules,
}

impl Default for RaftConfig {
    fn default() -> RaftConfig {
        RaftConfig {
            heartbeat_interval: 2,
            election_timeout_min: 10,
            election_timeout_max: 20,
            max_entries_per_append: 4096,
            max_bytes_per_append: 1 << 20,
            coarse_backup: false,
            broken: BrokenRules::none(),
        }
    }
}

/// Panics unless the timing is usable: election timeouts must exceed the heartbeat
/// interval (so a live leader keeps followers from starting elections) and form a
/// non-empty range.
fn check_config(config: &RaftConfig) {
    assert!(
        config.heartbeat_interval >= 1
            && config.election_timeout_min > config.heartbeat_interval
            && config.election_timeout_max > config.election_timeout_min,
        "election timeouts must exceed the heartbeat interval and form a range"
    );
}

/// A snapshot of a node's state for views and checks (not part of the protocol).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The node's id.
    pub id: NodeId,
    /// Its role.
    pub role: Role,
    /// Its `current_term`.
    pub term: Term,
    /// Whom it voted for in `term`.
    pub voted_for: Option<NodeId>,
    /// The leader it last heard from in `term` (itself if it leads).
    pub leader: Option<NodeId>,
    /// Highest index known to be committed.
    pub commit_index: Index,
    /// Highest index handed to the state machine.
    pub last_applied: Index,
    /// Index of the last log entry (the snapshot index if no entry follows it).
    pub last_log_index: Index,
    /// Term of the last log entry.
    pub last_log_term: Term,
    /// The snapshot's last included index (0 if none).
    pub snapshot_index: Index,
}

/// Where [`Node::propose`] put a command: the index of its new entry and the leader's
/// term. The command is committed only if the entry at `index` still has `term` when
/// that index commits (a later leader may overwrite an uncommitted entry, §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Proposal {
    /// The log index of the new entry.
    pub index: Index,
    /// The term of the entry: the leader's `current_term`.
    pub term: Term,
}

/// Why [`Node::propose`] refused a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not the leader{}", match .leader { Some(id) => format!(" (the leader is n{id})"), None => String::new() })]
pub struct NotLeader {
    /// The leader this node knows of, if any.
    pub leader: Option<NodeId>,
}

/// One Raft server: Figure 2's state and rules. See the module documentation.
///
/// A clone is the same server at the same moment, random generator and pending output
/// included: given the same inputs, it does exactly what the original would (the
/// playground's checkpoints rely on it).
#[derive(Clone, Debug)]
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
    current_term: Term,
    /// Candidate that received this node's vote in `current_term`.
    voted_for: Option<NodeId>,
    /// The log, after the snapshot base.
    log: Log,
    /// The latest snapshot, if any (Figure 13).
    snapshot: Option<Snapshot>,

    // Volatile state on all servers (Figure 2).
    /// This node's role, with the state that only that role has (a follower's leader,
    /// a candidate's votes, a leader's progress per follower).
    role: RoleState,
    /// Highest log index known to be committed.
    commit_index: Index,
    /// Highest log index handed to the state machine.
    last_applied: Index,
    /// Ticks since the election timer was last reset (followers and candidates; a
    /// leader's election timer does not run).
    election_elapsed: u64,
    /// This term's randomized election timeout (§5.2).
    election_timeout: u64,

    // Output accumulated for the next `Ready`.
    /// `current_term` or `voted_for` changed.
    hard_state_changed: bool,
    /// The lowest log index changed since the last `Ready`.
    unstable_from: Option<Index>,
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
        check_config(&config);
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
            role: RoleState::Follower(Follower { leader: None }),
            commit_index: snapshot_index,
            last_applied: snapshot_index,
            election_elapsed: 0,
            election_timeout: 0,
            hard_state_changed: false,
            unstable_from: None,
            snapshot_changed: false,
            ready: Ready::default(),
        };
        node.reset_election_timer();
        node
    }

    /// Replaces the configuration from the next step on (the playground's `set`).
    /// Batching limits apply to the next AppendEntries; a new election timeout range
    /// applies from the next reset of the election timer, and a shorter heartbeat
    /// interval than the time already elapsed fires at the next tick.
    pub fn set_config(&mut self, config: RaftConfig) {
        check_config(&config);
        if let RoleState::Leader(leader) = &mut self.role {
            leader.heartbeat_elapsed = leader.heartbeat_elapsed.min(config.heartbeat_interval - 1);
        }
        self.config = config;
    }

    /// This node's id.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Its current role.
    pub fn role(&self) -> Role {
        self.role.role()
    }

    /// Its `current_term`.
    pub fn term(&self) -> Term {
        self.current_term
    }

    /// The leader of `current_term` as far as this node knows: itself if it leads,
    /// the leader it last heard from if it follows, nobody while it campaigns.
    pub fn leader(&self) -> Option<NodeId> {
        match &self.role {
            RoleState::Follower(follower) => follower.leader,
            RoleState::Candidate(_) => None,
            RoleState::Leader(_) => Some(self.id),
        }
    }

    /// Its log.
    pub fn log(&self) -> &Log {
        &self.log
    }

    /// A summary of its state.
    pub fn status(&self) -> Status {
        Status {
            id: self.id,
            role: self.role(),
            term: self.current_term,
            voted_for: self.voted_for,
            leader: self.leader(),
            commit_index: self.commit_index,
            last_applied: self.last_applied,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
            snapshot_index: self.log.snapshot_index(),
        }
    }

    /// A leader's view of every follower (`next_index`, `match_index` and replication
    /// state), in id order; `None` unless this node leads.
    pub fn progress(&self) -> Option<BTreeMap<NodeId, ProgressView>> {
        match &self.role {
            RoleState::Leader(leader) => Some(
                leader
                    .progress
                    .iter()
                    .map(|(&peer, progress)| (peer, progress.view()))
                    .collect(),
            ),
            RoleState::Follower(_) | RoleState::Candidate(_) => None,
        }
    }

    /// A candidate's votes in its current election (itself included); `None` unless
    /// this node is a candidate. It wins with [`Node::quorum_size`] of them.
    pub fn votes_received(&self) -> Option<&BTreeSet<NodeId>> {
        match &self.role {
            RoleState::Candidate(candidate) => Some(&candidate.votes),
            RoleState::Follower(_) | RoleState::Leader(_) => None,
        }
    }

    /// The number of votes (or matching logs) that make a majority of the cluster.
    pub fn quorum_size(&self) -> usize {
        quorum::quorum_size(self.members.len(), self.config.broken)
    }

    /// True if `rule` is broken on purpose in this core's configuration (`rules.rs`).
    fn breaks(&self, rule: Rule) -> bool {
        self.config.broken.contains(rule)
    }

    /// True unless some rule is broken on purpose. A state that is impossible while
    /// every rule holds is asserted against only then: with a rule broken it may well
    /// happen, and the core carries on so that the checker reports the damage.
    fn rules_hold(&self) -> bool {
        self.config.broken.is_empty()
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
        match &self.role {
            RoleState::Leader(leader) => self.config.heartbeat_interval - leader.heartbeat_elapsed,
            RoleState::Follower(_) | RoleState::Candidate(_) => {
                self.election_timeout - self.election_elapsed
            }
        }
    }

    /// The full length of the timer that runs now, in ticks: this term's randomized
    /// election timeout (§5.2) for a follower or candidate, the heartbeat interval for
    /// a leader. With [`Node::ticks_until_due`] it says how far the timer has run, so
    /// a view can draw it draining.
    pub fn timer_length(&self) -> u64 {
        match &self.role {
            RoleState::Leader(_) => self.config.heartbeat_interval,
            RoleState::Follower(_) | RoleState::Candidate(_) => self.election_timeout,
        }
    }

    /// Advances virtual time by one tick (§5.2 timers): a leader's heartbeat timer, or
    /// a follower's or candidate's election timer.
    pub fn tick(&mut self) {
        match &mut self.role {
            RoleState::Leader(leader) => leader.tick(self.config.heartbeat_interval),
            RoleState::Follower(_) | RoleState::Candidate(_) => {
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
        if self.role() == Role::Leader {
            return false;
        }
        self.start_election();
        true
    }

    /// Makes a leader's heartbeat timer fire now (a playground control, as if the
    /// heartbeat interval had just passed): every follower is sent AppendEntries with
    /// the next [`Ready`]. Returns false unless this node leads.
    pub fn heartbeat_now(&mut self) -> bool {
        match &mut self.role {
            RoleState::Leader(leader) => {
                leader.heartbeat();
                true
            }
            RoleState::Follower(_) | RoleState::Candidate(_) => false,
        }
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
        } else if term < self.current_term && !self.handles_stale(&message) {
            self.record(Event::StaleTermIgnored { from, term });
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

    /// True if a message from an older term is handled as if it were current, which
    /// only a broken rule does. AppendEntries rule 1 refuses a stale leader's request
    /// (`accept-stale-leader` takes it, and may overwrite newer entries with a deposed
    /// leader's); §5.1 drops a stale reply (`stale-reply` counts it, so an answer to
    /// an earlier term's request moves `match_index` in this one).
    fn handles_stale(&self, message: &Message) -> bool {
        match message {
            Message::AppendEntries { .. } => self.breaks(Rule::AcceptStaleLeader),
            Message::AppendEntriesReply { .. } => self.breaks(Rule::StaleReply),
            Message::RequestVote { .. }
            | Message::RequestVoteReply { .. }
            | Message::InstallSnapshot { .. }
            | Message::InstallSnapshotReply { .. } => false,
        }
    }

    /// Appends a client command to the leader's log (§5.3) and says where it went. It
    /// is replicated with the next [`Ready`]; nothing is promised about it until it is
    /// committed.
    pub fn propose(&mut self, command: Command) -> Result<Proposal, NotLeader> {
        if self.role() != Role::Leader {
            return Err(NotLeader {
                leader: self.leader(),
            });
        }
        let index = self.log.last_index() + 1;
        let term = self.current_term;
        if term < self.log.last_term() {
            // Impossible while every rule holds: a leader's log has no entry of a later
            // term than its own. A node that forgot a term it learned (`forget-term`)
            // can lead an older term after a restart; the log's terms must not
            // decrease, so it takes no command (the checker reported the forgotten
            // term when the node first answered in it).
            assert!(
                !self.rules_hold(),
                "a leader's log holds no later term than its own"
            );
            return Err(NotLeader { leader: None });
        }
        self.log.push(Entry {
            index,
            term,
            command,
        });
        self.log_changed_from(index);
        // A single-node cluster commits on its own.
        self.maybe_advance_commit_index();
        Ok(Proposal { index, term })
    }

    /// Takes everything produced since the last call: see [`Ready`] for the order in
    /// which the caller must handle it.
    pub fn ready(&mut self) -> Ready {
        self.send_appends();
        let mut ready = std::mem::take(&mut self.ready);
        if std::mem::take(&mut self.hard_state_changed) {
            ready.hard_state = Some(HardState {
                current_term: self.current_term,
                // Figure 2: votedFor is persistent state, saved before the vote (or the
                // candidate's RequestVote) goes out. Without it (`forget-vote`), a node
                // that restarts may vote again in the same term: two leaders.
                voted_for: self.voted_for.filter(|_| !self.breaks(Rule::ForgetVote)),
            });
        }
        if std::mem::take(&mut self.snapshot_changed) {
            ready.snapshot = self.snapshot.clone();
        }
        // Figure 2: the log is persistent state; a follower saves the entries it accepts
        // before its reply acknowledges them. Without it (`forget-log`), a follower keeps
        // them in memory for as long as it follows, and a crash loses what it
        // acknowledged: a committed entry may vanish from the majority that held it.
        let hold_log = self.breaks(Rule::ForgetLog) && self.role() == Role::Follower;
        if !hold_log && let Some(first) = self.unstable_from.take() {
            // A clone of the log shares its storage: persisting it copies nothing.
            ready.log = Some(LogSuffix {
                first,
                log: self.log.clone(),
            });
        }
        if std::mem::take(&mut self.snapshot_to_apply) {
            ready.apply_snapshot = self.snapshot.clone();
        }
        ready.committed = self.apply_committed();
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
    fn log_changed_from(&mut self, index: Index) {
        self.unstable_from = Some(self.unstable_from.map_or(index, |from| from.min(index)));
    }

    /// Draws a new randomized election timeout and restarts the timer (§5.2).
    ///
    /// Called on exactly the occasions of Figure 2: starting an election, granting a
    /// vote, hearing from the leader of the current term (and once at start-up).
    /// Never on a change of role: see [`Node::become_follower`].
    fn reset_election_timer(&mut self) {
        self.election_elapsed = 0;
        self.election_timeout = self
            .rng
            .random_range(self.config.election_timeout_min..self.config.election_timeout_max);
    }
}

#[cfg(test)]
mod tests;
