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
//! - Beyond Lab 3, each behind a switch in [`Features`] (all off by default, and then
//!   nothing they add runs): `prevote.rs` (pre-vote, Ongaro's dissertation §9.6),
//!   `check_quorum.rs` (a leader without a majority steps down, §6.2, and leader
//!   stickiness, §4.2.3), and `transfer.rs` (leadership transfer, §3.10, which runs
//!   only when asked for).
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
//! - Chunked InstallSnapshot (`offset`/`done`): the lab sends the whole snapshot in
//!   one message, and so do we.
//! - Leader no-op entries on election: the lab's tests expect the first client command
//!   at index 1, so a new leader commits older entries only together with one of its
//!   own (§5.4.2).
//! - Read-only queries and client sessions (§8).

pub(crate) mod check_quorum;
pub(crate) mod election;
pub(crate) mod entry;
pub(crate) mod event;
pub(crate) mod features;
pub(crate) mod log;
pub(crate) mod membership;
pub(crate) mod message;
pub(crate) mod persist;
pub(crate) mod prevote;
pub(crate) mod progress;
pub(crate) mod quorum;
pub(crate) mod ready;
pub(crate) mod replication;
mod role;
pub(crate) mod rules;
pub(crate) mod snapshot;
pub(crate) mod transfer;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::Serialize;

pub use self::entry::{Command, Entry, EntryKind};
pub use self::event::Event;
pub use self::features::{Feature, Features, UnknownFeature};
pub use self::log::Log;
use self::membership::Configurations;
pub use self::membership::{ConfChange, Configuration, MembershipError};
pub use self::message::{AppendOutcome, ConflictHint, Envelope, Message, MessageInfo, Snapshot};
pub use self::persist::{HardState, LogSuffix, PersistentState};
pub use self::progress::{ProgressState, ProgressView};
pub use self::ready::Ready;
use self::role::{Follower, RoleState};
pub use self::rules::{BrokenRules, Rule, UnknownRule, rules};
pub use self::snapshot::SnapshotError;
pub use self::transfer::TransferError;

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
    /// The optional mechanisms beyond Lab 3 that are switched on (all off by default).
    pub features: Features,
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
            features: Features::default(),
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
    /// True while the node asks for pre-votes (it shows as a candidate whose term has
    /// not moved yet; pre-vote, dissertation §9.6).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pre_candidate: bool,
    /// The node a leader is handing its leadership to (§3.10), if it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transferring_to: Option<NodeId>,
    /// The configuration in force on the node (§4.1): the latest in its log.
    pub configuration: Arc<Configuration>,
    /// The index of the entry that set it (0 for the founding configuration).
    pub configuration_index: Index,
    /// Why a membership change proposed to this node now would be refused (`None`
    /// if it would be accepted, given a change that applies).
    #[serde(skip)]
    pub change_refusal: Option<MembershipError>,
    /// True if it may start an election ([`Node::may_campaign`]): a voter, or a node
    /// its own latest configuration leaves out that may still be needed (§4.2.2).
    #[serde(skip)]
    pub may_campaign: bool,
}

impl Status {
    /// What node `id` of a cluster founded by `members` shows when it is rebuilt from
    /// `state` ([`Node::restart`]) before any input: a follower with what it persisted,
    /// `commit_index = last_applied =` its snapshot index. (For a node that is down.)
    pub fn at_rest(id: NodeId, members: &[NodeId], state: &PersistentState) -> Status {
        let founding = Configuration::with_voters(members.iter().copied());
        let configurations = Configurations::of_persisted(founding, state);
        let snapshot_index = state.log.snapshot_index();
        Status {
            id,
            role: Role::Follower,
            term: state.hard_state.current_term,
            voted_for: state.hard_state.voted_for,
            leader: None,
            commit_index: snapshot_index,
            last_applied: snapshot_index,
            last_log_index: state.log.last_index(),
            last_log_term: state.log.last_term(),
            snapshot_index,
            pre_candidate: false,
            transferring_to: None,
            configuration: configurations.in_force_shared().clone(),
            configuration_index: configurations.in_force_index(),
            change_refusal: Some(MembershipError::NotLeader { leader: None }),
            may_campaign: configurations.may_campaign(id, snapshot_index),
        }
    }

    /// Whether the node votes, only learns, or is in no configuration it knows of.
    pub fn membership(&self) -> Membership {
        Membership::of(self.id, &self.configuration)
    }
}

/// A node's place in a configuration (§4.2.1): it votes, it only learns, or it is not
/// in it (a node that was removed, or added but not told yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Membership {
    /// Votes, and counts toward commits.
    Voter,
    /// Receives the log, counts for nothing.
    Learner,
    /// Not in the configuration.
    Outside,
}

impl Membership {
    /// Where `id` stands in `configuration`.
    pub fn of(id: NodeId, configuration: &Configuration) -> Membership {
        if configuration.is_voter(id) {
            Membership::Voter
        } else if configuration.is_learner(id) {
            Membership::Learner
        } else {
            Membership::Outside
        }
    }
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

/// Why [`Node::propose`] refused a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProposeError {
    /// Only the leader appends commands.
    #[error(transparent)]
    NotLeader(#[from] NotLeader),
    /// The leader is handing its leadership to `target` (§3.10) and takes no commands
    /// until the handover succeeds or is given up.
    #[error("leadership is being transferred to n{target}; try again once it has a leader")]
    Transferring {
        /// The node taking over.
        target: NodeId,
    },
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
    /// The founding configuration and every configuration in the log (§4.1): who
    /// votes, who learns.
    configurations: Configurations,
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
    /// A fresh node with an empty log in term 0. `members` lists the voters of the
    /// founding configuration (a node added later is not one of them: it learns the
    /// configuration it belongs to from the log); `seed` makes its election timeouts
    /// reproducible.
    pub fn new(id: NodeId, members: Vec<NodeId>, config: RaftConfig, seed: u64) -> Node {
        Node::restart(id, members, config, seed, PersistentState::default())
    }

    /// A node rebuilt from what it persisted before a crash: it keeps its term, vote,
    /// log and snapshot, and forgets everything volatile. The snapshot, if any, is
    /// handed to the state machine in the first [`Ready`].
    pub fn restart(
        id: NodeId,
        members: Vec<NodeId>,
        config: RaftConfig,
        seed: u64,
        state: PersistentState,
    ) -> Node {
        assert!(!members.is_empty(), "a cluster is founded with a voter");
        check_config(&config);
        let configurations =
            Configurations::of_persisted(Configuration::with_voters(members), &state);
        let PersistentState {
            hard_state,
            log,
            snapshot,
        } = state;
        let snapshot_index = log.snapshot_index();
        let mut node = Node {
            id,
            configurations,
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
    ///
    /// Switches in [`Features`] take effect from the next input too: a campaign that has
    /// begun finishes the way it began, and a leader's quorum check counts from the
    /// moment check-quorum is switched on.
    pub fn set_config(&mut self, config: RaftConfig) {
        check_config(&config);
        if let RoleState::Leader(leader) = &mut self.role {
            leader.heartbeat_elapsed = leader.heartbeat_elapsed.min(config.heartbeat_interval - 1);
        }
        if !self.config.features.check_quorum && config.features.check_quorum {
            self.restart_quorum_check();
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
            RoleState::PreCandidate(_) | RoleState::Candidate(_) => None,
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
            pre_candidate: matches!(self.role, RoleState::PreCandidate(_)),
            transferring_to: self.transferring_to(),
            configuration: self.configurations.in_force_shared().clone(),
            configuration_index: self.configurations.in_force_index(),
            change_refusal: self.change_refusal(),
            may_campaign: self.may_campaign(),
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
            RoleState::Follower(_) | RoleState::PreCandidate(_) | RoleState::Candidate(_) => None,
        }
    }

    /// A candidate's votes in its current election (itself included), or a
    /// pre-candidate's pre-votes; `None` unless this node is a candidate. It wins with
    /// [`Node::quorum_size`] of them.
    pub fn votes_received(&self) -> Option<&BTreeSet<NodeId>> {
        match &self.role {
            RoleState::PreCandidate(candidate) | RoleState::Candidate(candidate) => {
                Some(&candidate.votes)
            }
            RoleState::Follower(_) | RoleState::Leader(_) => None,
        }
    }

    /// The number of votes (or matching logs) that make a majority of the voters.
    pub fn quorum_size(&self) -> usize {
        quorum::quorum_size(self.configuration().voters.len(), self.config.broken)
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

    /// The configuration in force: the latest in this node's log, committed or not
    /// (§4.1).
    pub fn configuration(&self) -> &Configuration {
        self.configurations.in_force()
    }

    /// The index of the entry that set the configuration in force (0 for the founding
    /// one, the snapshot index if the snapshot carries it).
    pub fn configuration_index(&self) -> Index {
        self.configurations.in_force_index()
    }

    /// True if this node votes in the configuration in force.
    pub fn is_voter(&self) -> bool {
        self.configuration().is_voter(self.id)
    }

    /// True if this node may start an election: it votes in the configuration in
    /// force, or it is out of that configuration but votes in one that, as far as it
    /// knows, may still be the committed one (the configuration at its commit index,
    /// or one set by an entry after it).
    ///
    /// The second case is the dissertation's advice in §4.2.2: a server that is not
    /// part of its own latest configuration should still start elections, because it
    /// may be needed until that configuration commits. Typically it is the leader
    /// that removed itself and lost its leadership before the removal committed: it
    /// may hold the only log the other voters can elect (they lack the removal entry
    /// and what followed), so they refuse each other's votes, while it alone can
    /// finish the change: elected by a majority of the new configuration (itself not
    /// counted), it commits the entry and steps down. Chaos found both forms of this
    /// deadlock (its commit index at or before the removal, and before an earlier
    /// change that made it a voter). A learner, or a node that was never told of its
    /// addition, still never campaigns.
    pub fn may_campaign(&self) -> bool {
        self.configurations.may_campaign(self.id, self.commit_index)
    }

    /// The other members of the cluster, voters and learners, in id order: the
    /// nodes a leader replicates to.
    fn peers(&self) -> impl Iterator<Item = NodeId> + use<> {
        let id = self.id;
        let peers: Vec<NodeId> = self
            .configuration()
            .members()
            .filter(|&peer| peer != id)
            .collect();
        peers.into_iter()
    }

    /// The other voters, in id order: the nodes a candidate asks for votes.
    fn voting_peers(&self) -> impl Iterator<Item = NodeId> + use<> {
        let id = self.id;
        let voters: Vec<NodeId> = self
            .configuration()
            .voters
            .iter()
            .copied()
            .filter(|&voter| voter != id)
            .collect();
        voters.into_iter()
    }

    /// True if the voters among `nodes` are a majority of the voters (§5.2, §5.3).
    fn is_voter_quorum<'a>(&self, nodes: impl IntoIterator<Item = &'a NodeId>) -> bool {
        let configuration = self.configuration();
        let agreeing = nodes
            .into_iter()
            .filter(|&&node| configuration.is_voter(node))
            .count();
        quorum::is_quorum(agreeing, configuration.voters.len(), self.config.broken)
    }

    /// How many more ticks until a timer fires (an election timeout, or a leader's
    /// heartbeat, quorum check or transfer deadline). A caller may skip calling
    /// [`Node::tick`] for fewer ticks than this and catch up later: no tick before then
    /// can produce output.
    pub fn ticks_until_due(&self) -> u64 {
        let main = self.timer_due_in();
        match &self.role {
            RoleState::Leader(_) => {
                let heartbeat = main;
                let quorum_check = self.ticks_until_quorum_check();
                let transfer = self.ticks_until_transfer_deadline();
                [Some(heartbeat), quorum_check, transfer]
                    .into_iter()
                    .flatten()
                    .min()
                    .unwrap_or(heartbeat)
            }
            RoleState::Follower(_) => main,
            RoleState::PreCandidate(candidate) | RoleState::Candidate(candidate) => {
                main.min(self.config.heartbeat_interval - candidate.retry_elapsed)
            }
        }
    }

    /// How many more ticks until the role's main timer fires: the election timeout
    /// (§5.2) of a follower or candidate, a leader's next heartbeat. Unlike
    /// [`Node::ticks_until_due`] it leaves out a candidate's retry and a leader's
    /// quorum check and transfer deadline, so a view shows when the next election or
    /// heartbeat comes.
    pub fn timer_due_in(&self) -> u64 {
        match &self.role {
            RoleState::Leader(leader) => self.config.heartbeat_interval - leader.heartbeat_elapsed,
            RoleState::Follower(_) | RoleState::PreCandidate(_) | RoleState::Candidate(_) => {
                self.election_timeout - self.election_elapsed
            }
        }
    }

    /// The full length of the role's main timer, in ticks: this term's randomized
    /// election timeout (§5.2) for a follower or candidate, the heartbeat interval for
    /// a leader. With [`Node::timer_due_in`] it says how far the timer has run, so a
    /// view can draw it draining.
    pub fn timer_length(&self) -> u64 {
        match &self.role {
            RoleState::Leader(_) => self.config.heartbeat_interval,
            RoleState::Follower(_) | RoleState::PreCandidate(_) | RoleState::Candidate(_) => {
                self.election_timeout
            }
        }
    }

    /// Advances virtual time by one tick (§5.2 timers): a leader's heartbeat timer
    /// (and, when switched on, its quorum check and its transfer deadline), a
    /// follower's or candidate's election timer, and a candidate's retry of the
    /// requests not yet answered (every heartbeat interval, §5.1).
    pub fn tick(&mut self) {
        match &mut self.role {
            RoleState::Leader(leader) => {
                leader.tick(self.config.heartbeat_interval);
                self.tick_quorum_check();
                self.tick_transfer();
            }
            RoleState::Follower(_) | RoleState::PreCandidate(_) | RoleState::Candidate(_) => {
                self.election_elapsed += 1;
                if self.election_elapsed >= self.election_timeout {
                    if self.may_campaign() {
                        self.campaign();
                    } else {
                        // A learner, or a removed node, never campaigns (§4.2.1, §4.2.3):
                        // it could not win, and a newer term would only disrupt.
                        self.reset_election_timer();
                    }
                } else if let RoleState::PreCandidate(candidate) | RoleState::Candidate(candidate) =
                    &mut self.role
                    && candidate.tick_retry(self.config.heartbeat_interval)
                {
                    self.request_votes();
                }
            }
        }
    }

    /// Makes this node's election timer fire now (a playground control, as if its
    /// timeout had just expired). Returns false if it is the leader, whose timer does
    /// not run, or does not vote (a learner or a removed node never campaigns).
    pub fn timeout_now(&mut self) -> bool {
        if self.role() == Role::Leader || !self.may_campaign() {
            return false;
        }
        self.campaign();
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
            RoleState::Follower(_) | RoleState::PreCandidate(_) | RoleState::Candidate(_) => false,
        }
    }

    /// The optional mechanisms switched on.
    pub fn features(&self) -> Features {
        self.config.features
    }

    /// Handles one message from another node.
    ///
    /// §5.1, the term rule, lives here and only here: "If RPC request or response
    /// contains term T > currentTerm: set currentTerm = T, convert to follower"; a
    /// message from an older term is stale.
    pub fn step(&mut self, envelope: Envelope) {
        assert_eq!(envelope.to, self.id, "message delivered to the wrong node");
        // Leader stickiness (check-quorum): a vote request for a newer term is not even
        // looked at while this node believes a live leader exists.
        if self.ignores_vote_request(&envelope) {
            return;
        }
        let Envelope {
            from,
            term,
            message,
            ..
        } = envelope;
        if term > self.current_term {
            // A pre-vote request, and a granted pre-vote answer, carry a term nobody has
            // reached yet (the one the candidate would campaign in): they must not move
            // ours (§9.6), or pre-voting would disrupt as much as voting.
            if !prevote::keeps_our_term(&message) {
                // Only a leader sends AppendEntries, InstallSnapshot and TimeoutNow, so
                // those also tell us who leads the new term.
                let leader = match message {
                    Message::AppendEntries { .. }
                    | Message::InstallSnapshot { .. }
                    | Message::TimeoutNow => Some(from),
                    Message::RequestVote { .. }
                    | Message::RequestVoteReply { .. }
                    | Message::AppendEntriesReply { .. }
                    | Message::InstallSnapshotReply { .. }
                    | Message::PreVote { .. }
                    | Message::PreVoteReply { .. } => None,
                };
                self.become_follower(term, leader);
            }
        } else if term < self.current_term && !self.handles_stale(&message) {
            self.record(Event::StaleTermIgnored { from, term });
            // Stale: answer requests so their sender learns the newer term; drop replies.
            let reply = match message {
                Message::RequestVote { .. } => Some(Message::RequestVoteReply {
                    vote_granted: false,
                }),
                Message::PreVote { .. } => Some(Message::PreVoteReply {
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
                | Message::InstallSnapshotReply { .. }
                | Message::PreVoteReply { .. }
                | Message::TimeoutNow => None,
            };
            if let Some(reply) = reply {
                self.send(from, reply);
            }
            return;
        }
        if term == self.current_term {
            self.note_heard_from(from, &message);
        }

        match message {
            Message::RequestVote {
                last_log_index,
                last_log_term,
                ..
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
            Message::PreVote {
                last_log_index,
                last_log_term,
            } => self.handle_pre_vote(from, term, last_log_index, last_log_term),
            Message::PreVoteReply { vote_granted } => {
                self.handle_pre_vote_reply(from, term, vote_granted)
            }
            Message::TimeoutNow => self.handle_timeout_now(from),
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
            | Message::InstallSnapshotReply { .. }
            | Message::PreVote { .. }
            | Message::PreVoteReply { .. }
            | Message::TimeoutNow => false,
        }
    }

    /// Appends a client command to the leader's log (§5.3) and says where it went. It
    /// is replicated with the next [`Ready`]; nothing is promised about it until it is
    /// committed.
    pub fn propose(&mut self, command: Command) -> Result<Proposal, ProposeError> {
        if self.role() != Role::Leader {
            return Err(ProposeError::NotLeader(NotLeader {
                leader: self.leader(),
            }));
        }
        // §3.10: a leader handing over its leadership takes no new commands, so the
        // target can catch up and the handover ends.
        if let Some(target) = self.transferring_to() {
            return Err(ProposeError::Transferring { target });
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
            return Err(ProposeError::NotLeader(NotLeader { leader: None }));
        }
        self.log.push(Entry::command(index, term, command));
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
        self.send_in_term(to, self.current_term, message);
    }

    /// Queues a message to `to` whose envelope carries `term` (only pre-votes carry a
    /// term other than our own).
    fn send_in_term(&mut self, to: NodeId, term: Term, message: Message) {
        self.ready.messages.push(Envelope {
            from: self.id,
            to,
            term,
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
