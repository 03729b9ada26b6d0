//! The runtime: N Raft nodes, each on its own OS thread, joined by a fault-injecting
//! router and driven by a virtual clock.
//!
//! [`Cluster`] is the control surface. Everything that changes a cluster is an
//! [`Action`] (the one vocabulary of `action.rs`: ticks, submits, crashes, links,
//! partitions, fault settings, snapshots, timeouts, stepping messages by hand, core
//! settings), applied by [`Cluster::apply`], which answers with an [`Outcome`] or a
//! [`ClusterError`]. An error means nothing changed. The handful of methods the lab's
//! tests know by name (`crash`, `submit`, `set_unreliable`, ...) are thin wrappers
//! over it. An unknown node id is [`ClusterError::NoSuchNode`] everywhere; the few
//! views that cannot fail otherwise ([`Cluster::status`]) panic with that message
//! and have a fallible twin ([`Cluster::try_status`]).
//!
//! Time moves only through [`Action::Tick`]. At each tick where something is due (a
//! message arrives or a timer fires) every node with work gets its messages for that
//! tick, the nodes run in parallel, and all of them finish before their output is
//! routed and time moves on: lockstep. The round engine runs these rounds; the last
//! node thread to finish a round runs the next one, so no thread sits between them.
//! Ticks where nothing is due are skipped; a node nobody needs sleeps and catches up
//! on its timers when next woken. Between ticks the caller applies other actions;
//! each completes before `apply` returns. A run is therefore a pure function of the
//! seed and the sequence of actions, whatever the OS scheduler does.
//!
//! Every output of every node passes the safety checker before its messages are
//! routed, and lands in the trace.
//!
//! # Where each part lives
//!
//! - `mod.rs`: [`Cluster`], [`Config`], [`ClusterError`], [`NodeStatus`] and the
//!   read-only views; `apply.rs`: [`Cluster::apply`] and the checks before it;
//!   `controls.rs`: the lab's named controls over it.
//! - `action.rs`: the [`Action`] vocabulary, its [`Outcome`]s and the `set` family.
//! - `engine.rs`: the round engine (lockstep ticks) and what the cluster and its node
//!   threads share; `node.rs`: one node's thread (core, storage, state machine);
//!   `protocol.rs`: the requests and reports between them; `storage.rs`: what a
//!   node persisted, which outlives its thread.
//! - `router.rs`: messages in flight and the network's faults and links.
//! - `checker.rs` (and `checker/history.rs`): the safety invariants.
//! - `trace.rs`: what happened, event by event, and the history digest.
//! - `realtime.rs`: the real-time driver behind the prompt's free-running clock.
//! - `record.rs`: the [`Record`] of every action a cluster built with
//!   [`Config::record`] applied, from which any earlier moment is rebuilt by replay
//!   (a run is a pure function of its seed and its actions); `checkpoint.rs`: a
//!   [`Checkpoint`], a copy of the whole cluster a replay can start from.

pub(crate) mod action;
mod apply;
pub(crate) mod checker;
mod checkpoint;
mod controls;
pub(crate) mod engine;
mod membership;
pub(crate) mod node;
pub(crate) mod protocol;
pub(crate) mod realtime;
pub(crate) mod record;
pub(crate) mod router;
mod step;
pub(crate) mod storage;
pub(crate) mod trace;

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Receiver;
use serde::Serialize;

pub use self::action::{
    Action, Fate, MAX_LATENCY, MAX_NODES, MAX_TICKS, Outcome, SETTINGS, Setting, SettingSpec,
    check_command_text,
};
pub use self::checker::{Checker, HISTORY_WINDOW, Invariant, Violation};
pub use self::checkpoint::Checkpoint;
pub use self::protocol::{NodeView, panic_message};
pub use self::realtime::{OnTick, RealTimeDriver, SharedCluster, lock};
pub use self::record::{Entry, Moment, Record};
pub use self::router::{DropReason, Faults, InFlight, LinkDelay, Stats};
pub use self::trace::{TraceEvent, TraceKind};

use self::engine::{Engine, Shared, Slot, ToCluster};
use self::protocol::{Answer, Request};
use self::router::Router;
use self::trace::Trace;
use crate::raft::snapshot::SnapshotError;
use crate::raft::{
    BrokenRules, Configuration, Index, Membership, MembershipError, NodeId, RaftConfig, Role,
    Status, Term, UnknownRule,
};

/// Ticks between two checkpoints of a recorded cluster, unless configured otherwise:
/// replaying this many ticks takes about 10 ms on an idle 5-node cluster (the `undo`
/// section of `cargo bench --bench workloads` measures it).
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 1000;

/// How to build a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The number of nodes (ids 1..=nodes).
    pub nodes: usize,
    /// The seed of every random choice: election timeouts and network faults.
    pub seed: u64,
    /// The core's timing and batching parameters as the cluster starts
    /// ([`Action::Set`] changes them later).
    pub raft: RaftConfig,
    /// How many recent trace events to keep for the `events` view.
    pub trace_capacity: usize,
    /// How many committed entries every node starts with (`cluster N log K`): each
    /// starts from a snapshot through index K in term 1, as etcd raft's scenario
    /// tests bootstrap nodes at an index. 0 for an empty log.
    pub initial_log: u64,
    /// Keep a [`Record`] of every action applied, so that any earlier moment can be
    /// rebuilt by replay (the playground's `undo`, `rewind`, `goto` and `save`). Off
    /// by default: a record grows with every action it keeps (a benchmark of a
    /// million submits would keep a million).
    pub record: bool,
    /// In a recorded cluster, keep a [`Checkpoint`] every this many ticks (0: never),
    /// so that going back replays from the nearest one instead of from tick 0.
    pub checkpoint_every: u64,
}

impl Config {
    /// A cluster of `nodes` nodes with seed 0 and the default timing: heartbeat every
    /// 2 ticks, election timeout in [10, 20) ticks, message latency 1 tick.
    pub fn new(nodes: usize) -> Config {
        Config {
            nodes,
            seed: 0,
            raft: RaftConfig::default(),
            trace_capacity: 10_000,
            initial_log: 0,
            record: false,
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
        }
    }

    /// The same configuration with another seed.
    pub fn seed(self, seed: u64) -> Config {
        Config { seed, ..self }
    }

    /// The same configuration with every node starting with `entries` committed
    /// entries (see [`Config::initial_log`]).
    pub fn initial_log(self, entries: u64) -> Config {
        Config {
            initial_log: entries,
            ..self
        }
    }

    /// The same configuration, keeping a [`Record`] (see [`Config::record`]).
    pub fn recorded(self) -> Config {
        Config {
            record: true,
            ..self
        }
    }
}

/// A user-facing error from a cluster control call.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ClusterError {
    /// The node id is out of range.
    #[error("no node {node}: this cluster has nodes 1 to {nodes}")]
    NoSuchNode {
        /// The id asked for.
        node: NodeId,
        /// The cluster's size.
        nodes: usize,
    },
    /// The node is crashed.
    #[error("n{0} is down")]
    Down(NodeId),
    /// The node is not the leader.
    #[error("n{node} is not the leader{}", match .leader { Some(leader) => format!(" (n{leader} is)"), None => " (no leader known)".to_string() })]
    NotLeader {
        /// The node asked.
        node: NodeId,
        /// The leader it knows of.
        leader: Option<NodeId>,
    },
    /// The leader is handing its leadership over and takes no commands meanwhile.
    #[error("n{node} is handing leadership to n{target} and takes no commands until that ends")]
    Transferring {
        /// The leader asked.
        node: NodeId,
        /// The node taking over.
        target: NodeId,
    },
    /// A leadership transfer to the node itself.
    #[error("n{0} already leads: transfer leadership to another node")]
    TransferToSelf(NodeId),
    /// The node does not vote, so it cannot be elected.
    #[error("n{0} is not a voter: only a voter can be elected")]
    NotAVoter(NodeId),
    /// The node was removed from the cluster.
    #[error("n{0} was removed from the cluster (a removed id is never used again)")]
    Removed(NodeId),
    /// No node can be added: ids are never reused, so removed nodes count too.
    #[error(
        "a cluster has at most {MAX_NODES} nodes, removed ones included (ids are never reused)"
    )]
    TooManyNodes,
    /// The leader cannot change the membership now, or not this way.
    #[error("n{node} cannot change the membership: {reason}")]
    ChangeRefused {
        /// The leader asked.
        node: NodeId,
        /// Why not.
        reason: MembershipError,
    },
    /// A leader's election timer does not run.
    #[error("n{0} is the leader: it has no election timer to fire")]
    IsLeader(NodeId),
    /// Only a leader has a heartbeat timer.
    #[error("n{0} is not the leader: it has no heartbeat timer to fire")]
    NoHeartbeat(NodeId),
    /// No message with that id is in flight.
    #[error("no message {0} is in flight (see `messages`)")]
    NoSuchMessage(u64),
    /// The snapshot was refused.
    #[error("n{node} cannot snapshot: {reason}")]
    Snapshot {
        /// The node asked.
        node: NodeId,
        /// Why not.
        reason: SnapshotError,
    },
    /// A snapshot would hold nothing new: the node has applied nothing past its
    /// current snapshot (or nothing at all).
    #[error("{}", match .snapshot_index { 0 => format!("n{node} has applied nothing yet, so there is nothing to snapshot"), index => format!("n{node} has applied nothing past its snapshot through {index}") })]
    NothingToSnapshot {
        /// The node asked.
        node: NodeId,
        /// Its current snapshot's last included index (0 if none).
        snapshot_index: Index,
    },
    /// A number in an action is out of range (a rate, a latency, a tick count, a
    /// setting).
    #[error("{0}")]
    OutOfRange(String),
    /// A partition with no group, or with an empty group.
    #[error("a partition needs one or more groups, none of them empty")]
    EmptyPartitionGroup,
    /// A partition names a node in two groups.
    #[error("n{0} is in two groups")]
    NodeInTwoGroups(NodeId),
    /// A command text that cannot be written on one script line.
    #[error("a command is one line of text without leading or trailing spaces, not {0:?}")]
    UnwritableCommand(String),
    /// A batch of commands with no command in it.
    #[error("nothing to submit")]
    NothingToSubmit,
    /// No rule has that name.
    #[error(transparent)]
    UnknownRule(#[from] UnknownRule),
    /// The node panicked handling the request: a bug, reported among the violations.
    /// The node is down now.
    #[error("n{0} panicked (a bug in raft-playground; see the violations) and is down")]
    Panicked(NodeId),
}

/// One node's state as the cluster sees it. A crashed node shows `up: false`, its
/// persisted term and log, and the commit and applied indexes a restart would begin
/// with (its snapshot index).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeStatus {
    /// The node's id.
    pub id: NodeId,
    /// Its role (a crashed node is shown as a follower).
    pub role: Role,
    /// Its current term.
    pub term: Term,
    /// Whom it voted for in `term`.
    pub voted_for: Option<NodeId>,
    /// The leader it knows of.
    pub leader: Option<NodeId>,
    /// Highest index known committed.
    pub commit_index: Index,
    /// Highest index applied to its state machine.
    pub last_applied: Index,
    /// Index of its last log entry (the snapshot index if the log is empty).
    pub last_log_index: Index,
    /// Term of its last log entry.
    pub last_log_term: Term,
    /// Its snapshot's last included index (0 if none).
    pub snapshot_index: Index,
    /// False while crashed.
    pub up: bool,
    /// False while disconnected.
    pub connected: bool,
    /// The tick at which its role's main timer fires: the election timeout of a
    /// follower or candidate, the next heartbeat of a leader (not a candidate's retry
    /// nor a leader's quorum check). `None` while down.
    pub timer_due: Option<u64>,
    /// The full length of that timer in ticks (this term's randomized election
    /// timeout, §5.2, or the heartbeat interval). `None` while down.
    pub timer_length: Option<u64>,
    /// How many ticks of it have passed: a view draws the timer draining as
    /// `timer_elapsed` grows toward `timer_length`. `None` while down.
    pub timer_elapsed: Option<u64>,
    /// A candidate's votes in its election, itself included (§5.2); it wins with a
    /// majority of the cluster. `None` unless an up candidate.
    pub votes: Option<Vec<NodeId>>,
    /// True while it asks for pre-votes (a candidate whose term has not moved yet).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pre_candidate: bool,
    /// The node it is handing its leadership to, if it leads and is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transferring_to: Option<NodeId>,
    /// Whether it votes or only learns in the configuration it uses (a learner is
    /// shown as role "learner" in views).
    pub membership: Membership,
    /// The configuration it uses: the latest in its log (§4.1).
    pub configuration: Arc<Configuration>,
    /// The index of the entry that set that configuration (0 for the founding one).
    pub configuration_index: Index,
    /// True once a committed configuration left it out: it is out of the cluster,
    /// and the other fields are what it last reported (it never runs again).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
    /// True for a node no member's configuration names, not even its own: a node
    /// added whose configuration entry every log has since lost (say, its leader
    /// crashed before sending it). No leader knows of it, so nobody contacts it and it
    /// never campaigns; it stays outside until `remove-node` shuts it down.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_no_configuration: bool,
}

/// A running cluster. See the module documentation.
#[derive(Debug)]
pub struct Cluster {
    /// How it was built.
    config: Config,
    /// Router, checker, trace and what is known of each node. `None` only while a run
    /// of rounds has it (inside [`Cluster::tick`]).
    engine: Option<Box<Engine>>,
    /// What the node threads share with the cluster.
    shared: Arc<Shared>,
    /// What node threads tell the cluster.
    from_nodes: Receiver<ToCluster>,
    /// Each node's running thread, by id - 1.
    threads: Vec<Option<JoinHandle<()>>>,
    /// How many times each node was started (seeds each life differently).
    lives: Vec<u64>,
    /// Snapshot every this many applied entries, on every node.
    auto_snapshot: Option<u64>,
    /// Every action applied so far, if the cluster keeps a record
    /// ([`Config::record`]).
    record: Option<Record>,
    /// True once a node thread stopped answering ([`protocol::STUCK_AFTER`]): its thread
    /// may never end, so it is not waited for.
    stuck: bool,
}

/// Mixes a seed with numbers into a new, well-spread seed (splitmix64).
pub fn derive_seed(seed: u64, parts: &[u64]) -> u64 {
    let mut state = seed;
    for &part in parts {
        state = state.wrapping_add(part).wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        state = z ^ (z >> 31);
    }
    state
}

impl Cluster {
    /// Starts a cluster: all nodes up and connected, at tick 0.
    pub fn new(config: Config) -> Cluster {
        assert!(config.nodes >= 1, "a cluster needs at least one node");
        assert!(
            config.nodes <= MAX_NODES,
            "a cluster has at most {MAX_NODES} nodes"
        );
        let (to_cluster, from_nodes) = crossbeam_channel::unbounded();
        let founding: Vec<NodeId> = (1..=config.nodes).collect();
        let slots = founding
            .iter()
            .map(|&id| Slot::new(id, &founding))
            .collect();
        let engine = Engine {
            now: 0,
            target: 0,
            slots,
            router: Router::new(config.nodes, derive_seed(config.seed, &[0])),
            checker: Checker::new(config.nodes),
            trace: Trace::new(config.trace_capacity),
            panicked: Vec::new(),
            committed_members: (0, founding.iter().copied().collect()),
        };
        let mut cluster = Cluster {
            engine: Some(Box::new(engine)),
            shared: Arc::new(Shared::new(config.nodes, to_cluster)),
            from_nodes,
            threads: (0..config.nodes).map(|_| None).collect(),
            lives: vec![0; config.nodes],
            auto_snapshot: None,
            record: config.record.then(|| Record::new(config.clone())),
            stuck: false,
            config,
        };
        if cluster.config.initial_log > 0 {
            cluster.start_with_log(cluster.config.initial_log);
        }
        for id in 1..=cluster.config.nodes {
            cluster.start(id);
        }
        cluster
    }

    /// The engine, between runs of rounds.
    fn engine(&self) -> &Engine {
        self.engine
            .as_ref()
            .expect("the engine is home between ticks")
    }

    /// The engine, between runs of rounds.
    fn engine_mut(&mut self) -> &mut Engine {
        self.engine
            .as_mut()
            .expect("the engine is home between ticks")
    }

    /// The number of node ids given out: the founding nodes and every node added
    /// since, removed ones included (ids are `1..=size()`, never reused).
    pub fn size(&self) -> usize {
        self.engine().slots.len()
    }

    /// The nodes that are members of the cluster (not removed), in id order: the
    /// founding ones and those added since, up or down.
    pub fn nodes(&self) -> Vec<NodeId> {
        (1..=self.size())
            .filter(|&node| !self.slot(node).removed)
            .collect()
    }

    /// True if `node` was removed from the cluster by a committed configuration.
    pub fn is_removed(&self, node: NodeId) -> bool {
        self.check_node(node).is_ok() && self.slot(node).removed
    }

    /// The founding nodes, `1..=Config::nodes`: the configuration every node starts
    /// from before its log says otherwise.
    fn founding(&self) -> Vec<NodeId> {
        (1..=self.config.nodes).collect()
    }

    /// The cluster's configuration: its size, seed and trace capacity as built, and
    /// the core configuration every node runs with now (as [`Cluster::raft_config`]).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The seed the cluster was built with.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    /// The current tick.
    pub fn now(&self) -> u64 {
        self.engine().now
    }

    /// Checks that `node` names a node of this cluster (removed or not).
    fn check_node(&self, node: NodeId) -> Result<(), ClusterError> {
        let nodes = self.engine().slots.len();
        if (1..=nodes).contains(&node) {
            Ok(())
        } else {
            Err(ClusterError::NoSuchNode { node, nodes })
        }
    }

    /// Checks that `node` is a member of the cluster (exists, not removed).
    fn check_member(&self, node: NodeId) -> Result<(), ClusterError> {
        self.check_node(node)?;
        if self.slot(node).removed {
            Err(ClusterError::Removed(node))
        } else {
            Ok(())
        }
    }

    /// Checks that `node` is a member and is up.
    fn check_up(&self, node: NodeId) -> Result<(), ClusterError> {
        self.check_member(node)?;
        if self.slot(node).up {
            Ok(())
        } else {
            Err(ClusterError::Down(node))
        }
    }

    /// The engine's record of a node that exists.
    fn slot(&self, node: NodeId) -> &Slot {
        &self.engine().slots[node - 1]
    }

    /// The engine's record of `node`, or the error of a query about a node that does
    /// not exist (queries that cannot fail otherwise panic with it).
    fn existing_slot(&self, node: NodeId) -> &Slot {
        if let Err(error) = self.check_node(node) {
            panic!("{error}");
        }
        self.slot(node)
    }

    // ----- views -----

    /// True if the node is running.
    ///
    /// # Panics
    ///
    /// If there is no such node (the message of [`ClusterError::NoSuchNode`]).
    pub fn is_up(&self, node: NodeId) -> bool {
        self.existing_slot(node).is_active()
    }

    /// The state of `node`.
    ///
    /// # Panics
    ///
    /// If there is no such node, with the message of [`ClusterError::NoSuchNode`];
    /// [`Cluster::try_status`] returns that error instead.
    pub fn status(&self, node: NodeId) -> NodeStatus {
        self.try_status(node)
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// The state of `node`, or [`ClusterError::NoSuchNode`].
    pub fn try_status(&self, node: NodeId) -> Result<NodeStatus, ClusterError> {
        self.check_node(node)?;
        let slot = self.slot(node);
        // A down node shows what it persisted, and what a restart would begin with; a
        // removed one, which never runs again, what it last reported.
        let (status, timer_due) = if slot.up && !slot.removed {
            (slot.status.clone(), Some(slot.timer_due_at))
        } else if slot.removed {
            (slot.status.clone(), None)
        } else {
            let state = slot.storage.lock();
            (Status::at_rest(node, &self.founding(), &state), None)
        };
        Ok(NodeStatus {
            id: node,
            role: status.role,
            term: status.term,
            voted_for: status.voted_for,
            leader: status.leader,
            commit_index: status.commit_index,
            last_applied: status.last_applied,
            last_log_index: status.last_log_index,
            last_log_term: status.last_log_term,
            snapshot_index: status.snapshot_index,
            up: slot.is_active(),
            connected: self.engine().router.is_connected(node),
            timer_due,
            timer_length: timer_due.map(|_| slot.timer_length),
            timer_elapsed: timer_due.map(|due| {
                let left = due.saturating_sub(self.now());
                slot.timer_length.saturating_sub(left)
            }),
            votes: slot.votes.clone().filter(|_| slot.is_active()),
            pre_candidate: status.pre_candidate,
            transferring_to: status.transferring_to,
            membership: status.membership(),
            // Only a node that never heard of a configuration naming it (not one
            // whose own log removes it: that one is leaving).
            in_no_configuration: !slot.removed
                && status.configuration_index == 0
                && !status.configuration.contains(node)
                && !self.named_by_another(node),
            configuration: status.configuration,
            configuration_index: status.configuration_index,
            removed: slot.removed,
        })
    }

    /// True if some other member's configuration names `node`: its last report's,
    /// or while it is down the latest one in what it persisted.
    fn named_by_another(&self, node: NodeId) -> bool {
        self.nodes().into_iter().filter(|&id| id != node).any(|id| {
            let slot = self.slot(id);
            if slot.up {
                slot.status.configuration.contains(node)
            } else {
                let state = slot.storage.lock();
                Status::at_rest(id, &self.founding(), &state)
                    .configuration
                    .contains(node)
            }
        })
    }

    /// The up member that leads the highest term, if any claims to lead.
    pub fn leader(&self) -> Option<NodeId> {
        (1..=self.size())
            .filter(|&id| self.slot(id).is_active() && self.slot(id).status.role == Role::Leader)
            .max_by_key(|&id| self.slot(id).status.term)
    }

    /// How many nodes applied `index` (from their log or inside a snapshot; a crashed
    /// node counts with what it applied before the crash), and the command there.
    pub fn applied_count(&self, index: Index) -> (usize, Option<String>) {
        self.engine()
            .checker
            .applied_count_among(index, &self.nodes())
    }

    /// The command `node` applied at `index`; `None` if it has not applied it itself
    /// (not yet, or it came inside a snapshot).
    ///
    /// # Panics
    ///
    /// If there is no such node (the message of [`ClusterError::NoSuchNode`]).
    pub fn applied(&self, node: NodeId, index: Index) -> Option<String> {
        self.existing_slot(node);
        self.engine().checker.applied(node, index)
    }

    /// The log and state machine of an up node.
    pub fn inspect(&mut self, node: NodeId) -> Result<NodeView, ClusterError> {
        self.check_up(node)?;
        match self.request(node, Request::Inspect)? {
            Answer::Inspected(view) => Ok(*view),
            other => unreachable!("an inspection is answered with Inspected, not {other:?}"),
        }
    }

    /// Makes an up node's thread panic at its next round, as a bug in the core would:
    /// a test hook, for tests of how a panic is reported (as a `node-panic`
    /// violation, with the node down from then on).
    #[doc(hidden)]
    pub fn plant_panic(&mut self, node: NodeId, message: &str) -> Result<(), ClusterError> {
        self.check_up(node)?;
        self.request(node, Request::PlantPanic(message.to_string()))
            .map(drop)
    }

    /// False once the cluster cannot be used any more: a node thread stopped
    /// answering, or a panic outside any node's request (a bug in the runtime) lost
    /// the engine. Views would panic then; reports of a failure check this first.
    pub fn is_usable(&self) -> bool {
        self.engine.is_some() && !self.stuck
    }

    /// The persisted log of any node (up or down).
    pub fn persisted_log(&self, node: NodeId) -> Result<crate::raft::Log, ClusterError> {
        self.check_node(node)?;
        Ok(self.slot(node).storage.lock().log.clone())
    }

    /// The size of `node`'s persisted Raft state in bytes, snapshot excluded (the lab's
    /// `RaftStateSize`).
    pub fn raft_state_size(&self, node: NodeId) -> Result<u64, ClusterError> {
        self.check_node(node)?;
        Ok(self.slot(node).storage.lock().raft_state_size())
    }

    /// True if `a` and `b` can exchange messages.
    ///
    /// # Panics
    ///
    /// If either node does not exist (the message of [`ClusterError::NoSuchNode`]).
    pub fn linked(&self, a: NodeId, b: NodeId) -> bool {
        self.existing_slot(a);
        self.existing_slot(b);
        self.engine().router.linked(a, b)
    }

    /// The messages in flight, in delivery order.
    pub fn in_flight(&self) -> Vec<InFlight> {
        self.engine().router.in_flight().cloned().collect()
    }

    /// The current fault settings (what the network actions set).
    pub fn faults(&self) -> &Faults {
        self.engine().router.faults()
    }

    /// The auto-snapshot setting (what [`Action::AutoSnapshot`] set).
    pub fn auto_snapshot(&self) -> Option<u64> {
        self.auto_snapshot
    }

    /// The core configuration every node runs with now (what [`Action::Set`] changed
    /// since the cluster started).
    pub fn raft_config(&self) -> &RaftConfig {
        &self.config.raft
    }

    /// The rules every node breaks on purpose now (what `break` and `mend` set).
    pub fn broken_rules(&self) -> BrokenRules {
        self.config.raft.broken
    }

    /// Traffic counters.
    pub fn stats(&self) -> Stats {
        self.engine().router.stats()
    }

    /// Every broken invariant so far, one line each: tick, node, invariant name, what.
    pub fn violations(&self) -> Vec<String> {
        self.engine()
            .checker
            .violations()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// The checker's records, read-only: what every node applied, the highest index
    /// applied anywhere, and every violation with its tick.
    pub fn checker(&self) -> &Checker {
        &self.engine().checker
    }

    /// The last `count` trace events, oldest first.
    pub fn events(&self, count: usize) -> Vec<TraceEvent> {
        self.engine().trace.last(count).cloned().collect()
    }

    /// How many trace events were recorded so far.
    pub fn event_count(&self) -> u64 {
        self.engine().trace.total()
    }

    /// A digest of every trace event so far: equal digests mean equal histories.
    pub fn history_digest(&self) -> u64 {
        self.engine().trace.digest()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Every node ever started, those added since the founding ones included.
        for node in 1..=self.threads.len() {
            if let Some(thread) = self.threads[node - 1].take() {
                // Hanging up ends the thread's loop; a stuck thread is left behind.
                self.shared.set_sender(node, None);
                if !self.stuck {
                    let _ = thread.join();
                }
            }
        }
    }
}
