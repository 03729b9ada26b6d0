//! The runtime: N Raft nodes, each on its own OS thread, joined by a fault-injecting
//! router and driven by a virtual clock.
//!
//! [`Cluster`] is the control surface. Time moves only through [`Cluster::tick`]. At
//! each tick where something is due (a message arrives or a timer fires) every node
//! with work gets its messages for that tick, the nodes run in parallel, and all of
//! them finish before their output is routed and time moves on: lockstep. The
//! [`engine`] runs these rounds; the last node thread to finish a round runs the next
//! one, so no thread sits between them. Ticks where nothing is due are skipped; a node
//! nobody needs sleeps and catches up on its timers when next woken. Between ticks the caller may submit commands, crash
//! and restart nodes, cut links and take snapshots; each such call completes before
//! it returns. The run is therefore a pure function of the seed and the sequence of
//! calls, whatever the OS scheduler does.
//!
//! Every output of every node passes the [`checker`] before its messages are routed,
//! and lands in the [`trace`].

pub mod checker;
pub mod clock;
pub mod engine;
pub mod node;
pub mod router;
pub mod trace;

use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Receiver;
use serde::Serialize;

use self::checker::Checker;
use self::engine::{Engine, Shared, Slot, ToCluster};
use self::node::{Answer, NodeView, Request, Spawn, Storage};
use self::router::{DropReason, Faults, InFlight, Router, Stats};
use self::trace::{Trace, TraceEvent, TraceKind};
use crate::raft::snapshot::SnapshotError;
use crate::raft::{Command, Index, NodeId, Proposal, RaftConfig, Role, Status, Term};

/// How to build a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The number of nodes (ids 1..=nodes).
    pub nodes: usize,
    /// The seed of every random choice: election timeouts and network faults.
    pub seed: u64,
    /// The core's timing and batching parameters.
    pub raft: RaftConfig,
    /// How many recent trace events to keep for the `events` view.
    pub trace_capacity: usize,
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
        }
    }

    /// The same configuration with another seed.
    pub fn seed(self, seed: u64) -> Config {
        Config { seed, ..self }
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
    /// A leader's election timer does not run.
    #[error("n{0} is the leader: it has no election timer to fire")]
    IsLeader(NodeId),
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
    /// A fault setting is out of range.
    #[error("{0}")]
    InvalidSetting(String),
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
    /// The tick at which its next timer fires: the election timeout of a follower or
    /// candidate, the next heartbeat of a leader. `None` while down.
    pub timer_due: Option<u64>,
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
}

/// Mixes a seed with numbers into a new, well-spread seed (splitmix64).
fn derive_seed(seed: u64, parts: &[u64]) -> u64 {
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
        let (to_cluster, from_nodes) = crossbeam_channel::unbounded();
        let slots = (1..=config.nodes)
            .map(|id| Slot {
                up: false,
                storage: Storage::default(),
                status: Status {
                    id,
                    role: Role::Follower,
                    term: 0,
                    voted_for: None,
                    leader: None,
                    commit_index: 0,
                    last_applied: 0,
                    last_log_index: 0,
                    last_log_term: 0,
                    snapshot_index: 0,
                },
                due_at: 0,
                pending: false,
            })
            .collect();
        let engine = Engine {
            now: 0,
            target: 0,
            slots,
            router: Router::new(config.nodes, derive_seed(config.seed, &[0])),
            checker: Checker::new(config.nodes),
            trace: Trace::new(config.trace_capacity),
        };
        let mut cluster = Cluster {
            engine: Some(Box::new(engine)),
            shared: Arc::new(Shared::new(config.nodes, to_cluster)),
            from_nodes,
            threads: (0..config.nodes).map(|_| None).collect(),
            lives: vec![0; config.nodes],
            auto_snapshot: None,
            config,
        };
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

    /// The number of nodes.
    pub fn size(&self) -> usize {
        self.config.nodes
    }

    /// The seed the cluster was built with.
    pub fn seed(&self) -> u64 {
        self.config.seed
    }

    /// The current tick.
    pub fn now(&self) -> u64 {
        self.engine().now
    }

    /// Checks that `node` names a node of this cluster.
    pub fn check_node(&self, node: NodeId) -> Result<(), ClusterError> {
        if (1..=self.config.nodes).contains(&node) {
            Ok(())
        } else {
            Err(ClusterError::NoSuchNode {
                node,
                nodes: self.config.nodes,
            })
        }
    }

    /// Checks that `node` exists and is up.
    fn check_up(&self, node: NodeId) -> Result<(), ClusterError> {
        self.check_node(node)?;
        if self.is_up(node) {
            Ok(())
        } else {
            Err(ClusterError::Down(node))
        }
    }

    fn slot(&self, node: NodeId) -> &Slot {
        &self.engine().slots[node - 1]
    }

    /// True if the node is running.
    pub fn is_up(&self, node: NodeId) -> bool {
        self.engine().is_up(node)
    }

    // ----- time -----

    /// Advances virtual time by `ticks`, returning once all work due is done.
    pub fn tick(&mut self, ticks: u64) {
        let mut engine = self
            .engine
            .take()
            .expect("the engine is home between ticks");
        engine.target = engine.now.saturating_add(ticks);
        // The rounds run on the node threads; the engine comes back when they are done.
        self.shared.run(engine);
        match self.wait_for_nodes() {
            ToCluster::Done(engine) => self.engine = Some(engine),
            other => unreachable!("only the round engine talks during rounds, not {other:?}"),
        }
    }

    /// Advances one tick at a time until `done` holds or `ticks` have passed; returns
    /// whether it held. `done` is checked before the first tick too.
    pub fn tick_until(&mut self, ticks: u64, mut done: impl FnMut(&Cluster) -> bool) -> bool {
        for _ in 0..ticks {
            if done(self) {
                return true;
            }
            self.tick(1);
        }
        done(self)
    }

    /// The next message from the node threads (a node thread's panic is re-raised).
    fn wait_for_nodes(&mut self) -> ToCluster {
        match node::receive(&self.from_nodes).expect("the cluster holds a sender") {
            ToCluster::Panicked(id, message) => {
                panic!("{message} (node n{id}): a bug in raft-playground")
            }
            other => other,
        }
    }

    /// Sends one request to an up node and handles its report.
    fn request(&mut self, node: NodeId, request: Request) -> Answer {
        self.shared.send(node, request);
        self.absorb_report()
    }

    /// Waits for a node's report outside rounds and takes it in.
    fn absorb_report(&mut self) -> Answer {
        match self.wait_for_nodes() {
            ToCluster::Report(report) => self.engine_mut().absorb(*report),
            other => unreachable!("between ticks nodes only report, not {other:?}"),
        }
    }

    // ----- clients -----

    /// Submits a command to `node`. `Ok((index, term))` if it is an up leader (the
    /// command is then replicated with the next tick); otherwise why not.
    pub fn submit(&mut self, node: NodeId, command: &str) -> Result<(u64, u64), ClusterError> {
        self.submit_batch(node, &[command])
            .map(|proposal| (proposal.index, proposal.term))
    }

    /// Submits several commands to `node` at once (one request to its thread, as fast
    /// as a leader can take them). The [`Proposal`] gives the first command's index;
    /// the others follow it in order, in the same term.
    pub fn submit_batch(
        &mut self,
        node: NodeId,
        commands: &[&str],
    ) -> Result<Proposal, ClusterError> {
        self.check_up(node)?;
        if commands.is_empty() {
            return Err(ClusterError::InvalidSetting("nothing to submit".into()));
        }
        let now = self.now();
        let commands = commands
            .iter()
            .map(|command| Command::from(*command))
            .collect();
        match self.request(node, Request::Propose { now, commands }) {
            Answer::Proposed(result) => result.map_err(|refusal| ClusterError::NotLeader {
                node,
                leader: refusal.leader,
            }),
            other => unreachable!("a proposal is answered with Proposed, not {other:?}"),
        }
    }

    // ----- views -----

    /// The state of `node`. Panics if there is no such node.
    pub fn status(&self, node: NodeId) -> NodeStatus {
        if let Err(error) = self.check_node(node) {
            panic!("{error}");
        }
        let slot = self.slot(node);
        // A down node shows what it persisted, and what a restart would begin with.
        let (status, timer_due) = if slot.up {
            (slot.status.clone(), Some(slot.due_at))
        } else {
            let state = slot.storage.lock();
            let snapshot_index = state.log.snapshot_index();
            let status = Status {
                id: node,
                role: Role::Follower,
                term: state.hard_state.current_term,
                voted_for: state.hard_state.voted_for,
                leader: None,
                commit_index: snapshot_index,
                last_applied: snapshot_index,
                last_log_index: state.log.last_index(),
                last_log_term: state.log.last_term(),
                snapshot_index,
            };
            (status, None)
        };
        NodeStatus {
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
            up: slot.up,
            connected: self.engine().router.is_connected(node),
            timer_due,
        }
    }

    /// The up node that leads the highest term, if any claims to lead.
    pub fn leader(&self) -> Option<NodeId> {
        (1..=self.config.nodes)
            .filter(|&id| self.is_up(id) && self.slot(id).status.role == Role::Leader)
            .max_by_key(|&id| self.slot(id).status.term)
    }

    /// How many nodes applied `index` (from their log or inside a snapshot; a crashed
    /// node counts with what it applied before the crash), and the command there.
    pub fn applied_count(&self, index: Index) -> (usize, Option<String>) {
        self.engine().checker.applied_count(index)
    }

    /// The command `node` applied at `index`; `None` if it has not applied it itself
    /// (not yet, or it came inside a snapshot).
    pub fn applied(&self, node: NodeId, index: Index) -> Option<String> {
        self.engine().checker.applied(node, index)
    }

    /// The log and state machine of an up node.
    pub fn inspect(&mut self, node: NodeId) -> Result<NodeView, ClusterError> {
        self.check_up(node)?;
        match self.request(node, Request::Inspect) {
            Answer::Inspected(view) => Ok(*view),
            other => unreachable!("an inspection is answered with Inspected, not {other:?}"),
        }
    }

    /// The persisted log of any node (up or down).
    pub fn persisted_log(&self, node: NodeId) -> crate::raft::Log {
        self.slot(node).storage.lock().log.clone()
    }

    /// The size of `node`'s persisted Raft state in bytes, snapshot excluded (the lab's
    /// `RaftStateSize`).
    pub fn raft_state_size(&self, node: NodeId) -> u64 {
        self.slot(node).storage.lock().raft_state_size()
    }

    /// Traffic counters.
    pub fn stats(&self) -> Stats {
        self.engine().router.stats()
    }

    /// Every broken invariant so far, one line each with its tick and node.
    pub fn violations(&self) -> Vec<String> {
        self.engine()
            .checker
            .violations()
            .iter()
            .map(|violation| {
                format!(
                    "tick {}: n{}: {}",
                    violation.tick, violation.node, violation.text
                )
            })
            .collect()
    }

    /// The checker's records.
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

    // ----- crashes -----

    /// Starts a life of `node` from its storage.
    fn start(&mut self, node: NodeId) {
        self.lives[node - 1] += 1;
        let lives = self.lives[node - 1];
        let spawn = Spawn {
            id: node,
            members: (1..=self.config.nodes).collect(),
            config: self.config.raft.clone(),
            seed: derive_seed(self.config.seed, &[node as u64, lives]),
            storage: self.slot(node).storage.clone(),
            auto_snapshot: self.auto_snapshot,
            now: self.now(),
        };
        self.threads[node - 1] = Some(node::spawn(spawn, self.shared.clone()));
        let engine = self.engine_mut();
        let slot = &mut engine.slots[node - 1];
        slot.up = true;
        slot.pending = false;
        engine.checker.on_restart(node);
        if lives > 1 {
            engine.record(node, TraceKind::Restarted);
        }
        self.absorb_report();
    }

    /// Crashes `node`: its thread stops, everything it did not persist is lost, and so
    /// are messages in flight to or from it. Its links are left as they are. Does
    /// nothing if it is already down.
    pub fn crash(&mut self, node: NodeId) {
        if self.check_up(node).is_err() {
            return;
        }
        self.request(node, Request::Crash);
        self.shared.set_sender(node, None);
        if let Some(thread) = self.threads[node - 1].take() {
            thread.join().expect("a crashed node's thread ends cleanly");
        }
        let engine = self.engine_mut();
        engine.slots[node - 1].up = false;
        engine.router.forget_node(node);
        engine.record(node, TraceKind::Crashed);
    }

    /// Restarts `node` from what it persisted (crashing it first if it is up, like the
    /// lab's `start1`). It keeps whatever links it had.
    pub fn restart(&mut self, node: NodeId) {
        if self.check_node(node).is_err() {
            return;
        }
        self.crash(node);
        self.start(node);
    }

    // ----- network -----

    /// Cuts `node` from every other node.
    pub fn disconnect(&mut self, node: NodeId) {
        if self.check_node(node).is_ok() {
            let engine = self.engine_mut();
            engine.router.disconnect(node);
            engine.record(node, TraceKind::Disconnected);
        }
    }

    /// Restores `node`'s links to every connected node.
    pub fn connect(&mut self, node: NodeId) {
        if self.check_node(node).is_ok() {
            let engine = self.engine_mut();
            engine.router.connect(node);
            engine.record(node, TraceKind::Connected);
        }
    }

    /// True unless `node` was disconnected.
    pub fn is_connected(&self, node: NodeId) -> bool {
        self.engine().router.is_connected(node)
    }

    /// True if `a` and `b` can exchange messages.
    pub fn linked(&self, a: NodeId, b: NodeId) -> bool {
        self.engine().router.linked(a, b)
    }

    /// Splits the nodes into groups that cannot talk to each other; a node named in
    /// no group is alone.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) -> Result<(), ClusterError> {
        for &node in groups.iter().flatten() {
            self.check_node(node)?;
        }
        self.engine_mut().router.partition(groups);
        Ok(())
    }

    /// Removes every partition and connects every node.
    pub fn heal(&mut self) {
        self.engine_mut().router.heal();
    }

    /// The lab's unreliable network: about 10% of messages lost, 0–1 ticks of extra delay.
    pub fn set_unreliable(&mut self, on: bool) {
        self.engine_mut().router.faults_mut().unreliable = on;
    }

    /// The lab's long reordering: about 2/3 of replies delayed by 4–44 ticks.
    pub fn set_long_reordering(&mut self, on: bool) {
        self.engine_mut().router.faults_mut().long_reordering = on;
    }

    /// The current fault settings.
    pub fn faults(&self) -> &Faults {
        self.engine().router.faults()
    }

    /// Drops each message with probability `rate` (0.0–1.0).
    pub fn set_drop_rate(&mut self, rate: f64) -> Result<(), ClusterError> {
        self.engine_mut().router.faults_mut().drop_rate = check_rate("drop", rate)?;
        Ok(())
    }

    /// Duplicates each message with probability `rate` (0.0–1.0).
    pub fn set_duplicate_rate(&mut self, rate: f64) -> Result<(), ClusterError> {
        self.engine_mut().router.faults_mut().duplicate_rate = check_rate("duplicate", rate)?;
        Ok(())
    }

    /// Sets message latency to a uniform choice in `min..=max` ticks (`min` ≥ 1).
    pub fn set_latency(&mut self, min: u64, max: u64) -> Result<(), ClusterError> {
        if min == 0 || max < min || max > 1_000_000 {
            return Err(ClusterError::InvalidSetting(format!(
                "latency must be a range MIN..MAX of ticks with 1 ≤ MIN ≤ MAX ≤ 1000000, not {min}..{max}"
            )));
        }
        let faults = self.engine_mut().router.faults_mut();
        faults.latency_min = min;
        faults.latency_max = max;
        Ok(())
    }

    /// The messages in flight, in delivery order.
    pub fn in_flight(&self) -> Vec<InFlight> {
        self.engine().router.in_flight().cloned().collect()
    }

    /// Takes in-flight message `id` out of the router.
    fn take_in_flight(&mut self, id: u64) -> Result<InFlight, ClusterError> {
        self.engine_mut()
            .router
            .take(id)
            .ok_or(ClusterError::NoSuchMessage(id))
    }

    /// Delivers in-flight message `id` now, ahead of its due time (if its link and
    /// recipient are up; otherwise it is dropped, as it would have been).
    pub fn deliver(&mut self, id: u64) -> Result<(), ClusterError> {
        let message = self.take_in_flight(id)?;
        let now = self.now();
        if let Some(envelope) = self.engine_mut().admit(message) {
            let to = envelope.to;
            self.request(to, Request::Deliver { now, envelope });
        }
        Ok(())
    }

    /// Drops in-flight message `id`.
    pub fn drop_message(&mut self, id: u64) -> Result<(), ClusterError> {
        let message = self.take_in_flight(id)?;
        let engine = self.engine_mut();
        engine.router.count_dropped();
        let envelope = &message.envelope;
        let kind = envelope.message.kind();
        engine.record_drop(envelope.from, envelope.to, kind, DropReason::Manual);
        Ok(())
    }

    /// Makes `node`'s election timer fire now.
    pub fn timeout(&mut self, node: NodeId) -> Result<(), ClusterError> {
        self.check_up(node)?;
        let now = self.now();
        match self.request(node, Request::TimeoutNow { now }) {
            Answer::TimedOut(true) => Ok(()),
            Answer::TimedOut(false) => Err(ClusterError::IsLeader(node)),
            other => unreachable!("a timeout is answered with TimedOut, not {other:?}"),
        }
    }

    // ----- snapshots -----

    /// Makes `node` snapshot its state machine now (does nothing if it is down or has
    /// nothing new to snapshot; see [`Cluster::take_snapshot`] for the reason).
    pub fn snapshot(&mut self, node: NodeId) {
        let _ = self.take_snapshot(node);
    }

    /// Makes `node` snapshot its state machine at its last applied index, which it
    /// returns.
    pub fn take_snapshot(&mut self, node: NodeId) -> Result<Index, ClusterError> {
        self.check_up(node)?;
        let now = self.now();
        match self.request(node, Request::Snapshot { now }) {
            Answer::Snapshotted(result) => {
                result.map_err(|reason| ClusterError::Snapshot { node, reason })
            }
            other => unreachable!("a snapshot is answered with Snapshotted, not {other:?}"),
        }
    }

    /// Makes every node snapshot at each multiple of `every` applied entries (the lab
    /// uses 10), or never with `None`.
    pub fn set_auto_snapshot(&mut self, every: Option<u64>) {
        let every = every.filter(|&every| every > 0);
        self.auto_snapshot = every;
        for node in 1..=self.config.nodes {
            if self.is_up(node) {
                self.request(node, Request::SetAutoSnapshot(every));
            }
        }
    }

    /// The auto-snapshot setting.
    pub fn auto_snapshot(&self) -> Option<u64> {
        self.auto_snapshot
    }
}

/// Checks a probability.
fn check_rate(what: &str, rate: f64) -> Result<f64, ClusterError> {
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(ClusterError::InvalidSetting(format!(
            "{what} rate must be between 0 and 1 (like 0.1), not {rate}"
        )))
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in 1..=self.config.nodes {
            if let Some(thread) = self.threads[node - 1].take() {
                // Hanging up ends the thread's loop.
                self.shared.set_sender(node, None);
                let _ = thread.join();
            }
        }
    }
}
