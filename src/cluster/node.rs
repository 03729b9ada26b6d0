//! A node's thread: one Raft core, its storage and its state machine.
//!
//! The thread waits for a [`Request`] from the cluster, feeds it to the core, handles
//! the core's output in the order [`Ready`] demands (persist, then send, then apply),
//! and answers with a [`Report`]. The cluster sends work to several nodes at once and
//! waits for all their reports before it moves time on, so threads run in parallel
//! within a tick and the run stays a pure function of the seed and the calls.

use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crossbeam_channel::Receiver;

use super::checker::LoadedSnapshot;
use super::engine::{Shared, ToCluster};
use crate::kv::KvStore;
use crate::raft::snapshot::SnapshotError;
use crate::raft::{
    Command, Envelope, Index, Log, Node, NodeId, NotLeader, PersistentState, Proposal, RaftConfig,
    Ready, Status,
};

/// What a node persisted: it outlives the node's thread and is where a restart starts.
/// Shared with the cluster, which reads it between ticks (when the node is idle).
///
/// Its log is a clone of the core's as of the last `Ready` persisted: the two share
/// every entry they have in common (see [`Log`]), so a node's entries exist once in
/// memory, and what the core holds beyond it (proposals waiting for the next round)
/// is lost in a crash.
#[derive(Clone, Debug, Default)]
pub struct Storage(Arc<Mutex<PersistentState>>);

impl Storage {
    /// Locks the persisted state.
    pub fn lock(&self) -> MutexGuard<'_, PersistentState> {
        // A node thread that panicked holding the lock left a consistent state behind
        // (persisting is a single call), so a poisoned lock is still readable.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Work for a node.
#[derive(Debug)]
pub enum Request {
    /// Time is now `now`: receive `inbox`, then tick once.
    Round {
        /// The tick being processed.
        now: u64,
        /// The messages due to this node at `now`, in delivery order.
        inbox: Vec<Envelope>,
    },
    /// Propose commands, in order. Their AppendEntries leave with the next round, so
    /// every command proposed between two ticks travels in one message.
    Propose {
        /// The current tick.
        now: u64,
        /// The commands.
        commands: Vec<Command>,
    },
    /// Receive one message now, ahead of its due time (stepping by hand).
    Deliver {
        /// The current tick.
        now: u64,
        /// The message.
        envelope: Envelope,
    },
    /// Make the election timer fire now.
    TimeoutNow {
        /// The current tick.
        now: u64,
    },
    /// Snapshot the state machine at its last applied index.
    Snapshot {
        /// The current tick.
        now: u64,
    },
    /// Snapshot automatically at every multiple of this many applied entries.
    SetAutoSnapshot(Option<u64>),
    /// Use this core configuration from the next step on (the playground's `set`).
    SetConfig(RaftConfig),
    /// Describe the node's log and state machine.
    Inspect,
    /// Stop: everything not persisted is lost.
    Crash,
}

/// The part of a reply specific to its request.
#[derive(Debug)]
pub enum Answer {
    /// Nothing beyond the report.
    Done,
    /// The result of a proposal: where the first command went (the others follow it),
    /// or who leads.
    Proposed(Result<Proposal, NotLeader>),
    /// Whether the election timer fired (false for a leader).
    TimedOut(bool),
    /// The snapshot index, or why there was none.
    Snapshotted(Result<Index, SnapshotError>),
    /// The node's log and state machine.
    Inspected(Box<NodeView>),
    /// The thread has ended.
    Crashed,
}

/// A node's log and state machine, for views.
#[derive(Clone, Debug)]
pub struct NodeView {
    /// The log (after the snapshot base), including proposals not yet persisted: a
    /// clone that shares the node's storage, so a view copies no entry.
    pub log: Log,
    /// The state machine.
    pub kv: KvStore,
}

/// What a node reports after handling a request.
#[derive(Debug)]
pub struct Report {
    /// Which node.
    pub id: NodeId,
    /// The request-specific answer.
    pub answer: Answer,
    /// Its state afterwards.
    pub status: Status,
    /// The tick its clock has reached.
    pub clock: u64,
    /// Ticks from `clock` until a timer fires.
    pub ticks_until_due: u64,
    /// Outputs handled, in order: persisted, applied, messages to route.
    pub readies: Vec<(Ready, Option<LoadedSnapshot>)>,
    /// True if the core holds proposals whose messages wait for the next round.
    pub pending: bool,
}

/// How many times a thread polls its channel before it blocks on it.
const SPIN_POLLS: u32 = 300;

/// Receives the next message, polling briefly before blocking. In lockstep the next
/// piece of work usually comes within microseconds; a thread that is still polling
/// takes it without the sleep and wake-up a blocked one costs (measured on 2 cores:
/// idle 5-node clusters tick about 1.5 times faster). Between polls the thread yields,
/// so polling never keeps a thread with real work off a core. `None` once every
/// sender is gone.
pub fn receive<T>(channel: &Receiver<T>) -> Option<T> {
    for _ in 0..SPIN_POLLS {
        match channel.try_recv() {
            Ok(message) => return Some(message),
            Err(crossbeam_channel::TryRecvError::Disconnected) => return None,
            // Give the core to any other runnable thread (there may be more threads
            // than cores) before looking again.
            Err(crossbeam_channel::TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
    channel.recv().ok()
}

/// The state a node thread owns.
struct NodeThread {
    core: Node,
    storage: Storage,
    kv: KvStore,
    auto_snapshot: Option<u64>,
    /// The last tick the core has seen.
    clock: u64,
    /// True while proposals wait for the next round.
    pending: bool,
}

/// Tells the cluster if the thread unwinds, so the cluster never waits forever.
struct PanicGuard {
    id: NodeId,
    shared: Arc<Shared>,
}

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let message = format!("node n{} panicked", self.id);
            self.shared
                .tell_cluster(ToCluster::Panicked(self.id, message));
        }
    }
}

/// Everything needed to start (or restart) a node thread.
pub struct Spawn {
    /// The node's id.
    pub id: NodeId,
    /// All node ids.
    pub members: Vec<NodeId>,
    /// Core parameters.
    pub config: RaftConfig,
    /// The seed of this life's election timeouts.
    pub seed: u64,
    /// What it persisted so far.
    pub storage: Storage,
    /// The auto-snapshot setting.
    pub auto_snapshot: Option<u64>,
    /// The current tick.
    pub now: u64,
}

/// Starts a node thread and registers its request channel in `shared`; its first
/// report (the snapshot it loads, if any) reaches the cluster before any request is
/// handled.
pub fn spawn(spawn: Spawn, shared: Arc<Shared>) -> JoinHandle<()> {
    let (requests, inbox) = crossbeam_channel::unbounded();
    let id = spawn.id;
    shared.set_sender(id, Some(requests));
    std::thread::Builder::new()
        .name(format!("n{id}"))
        .spawn(move || {
            let guard = PanicGuard {
                id,
                shared: shared.clone(),
            };
            // A clone shares the persisted log's storage: restarting copies no entry.
            let state = spawn.storage.lock().clone();
            let core = Node::restart(id, spawn.members, spawn.config, spawn.seed, state);
            let mut thread = NodeThread {
                core,
                storage: spawn.storage,
                kv: KvStore::new(),
                auto_snapshot: spawn.auto_snapshot,
                clock: spawn.now,
                pending: false,
            };
            let first = thread.report(Answer::Done);
            shared.tell_cluster(ToCluster::Report(Box::new(first)));
            thread.serve(&inbox, &shared);
            drop(guard);
        })
        .expect("the OS can start a thread")
}

impl NodeThread {
    /// Handles requests until a crash or until the cluster hangs up. A round's report
    /// goes to the round engine; any other goes straight to the cluster.
    fn serve(&mut self, inbox: &Receiver<Request>, shared: &Shared) {
        while let Some(request) = receive(inbox) {
            let round = matches!(request, Request::Round { .. });
            let crash = matches!(request, Request::Crash);
            let report = self.handle(request);
            if round {
                shared.finished(report);
            } else {
                shared.tell_cluster(ToCluster::Report(Box::new(report)));
            }
            if crash {
                return;
            }
        }
    }

    fn handle(&mut self, request: Request) -> Report {
        match request {
            Request::Round { now, inbox } => {
                self.catch_up(now - 1);
                for envelope in inbox {
                    self.core.step(envelope);
                }
                self.core.tick();
                self.clock = now;
                self.pending = false;
                self.report(Answer::Done)
            }
            Request::Propose { now, commands } => {
                self.catch_up(now);
                let mut result = Err(NotLeader { leader: None });
                for (position, command) in commands.into_iter().enumerate() {
                    let proposed = self.core.propose(command);
                    if position == 0 {
                        result = proposed;
                    }
                    if proposed.is_err() {
                        break;
                    }
                }
                self.pending |= result.is_ok();
                // No `ready()` here: the entries are persisted and sent with the next round.
                self.report_without_output(Answer::Proposed(result))
            }
            Request::Deliver { now, envelope } => {
                self.catch_up(now);
                self.core.step(envelope);
                self.report(Answer::Done)
            }
            Request::TimeoutNow { now } => {
                self.catch_up(now);
                let fired = self.core.timeout_now();
                self.report(Answer::TimedOut(fired))
            }
            Request::Snapshot { now } => {
                self.catch_up(now);
                let index = self.kv.applied_index();
                let result = self
                    .core
                    .snapshot(index, self.kv.snapshot().into())
                    .map(|()| index);
                self.report(Answer::Snapshotted(result))
            }
            Request::SetAutoSnapshot(every) => {
                self.auto_snapshot = every;
                self.report_without_output(Answer::Done)
            }
            Request::SetConfig(config) => {
                self.core.set_config(config);
                self.report_without_output(Answer::Done)
            }
            Request::Inspect => {
                let view = NodeView {
                    log: self.core.log().clone(),
                    kv: self.kv.clone(),
                };
                self.report_without_output(Answer::Inspected(Box::new(view)))
            }
            Request::Crash => self.report_without_output(Answer::Crashed),
        }
    }

    /// Applies the ticks this node was skipped for. The cluster skips a node only
    /// while no timer of its fires, so these ticks produce no output.
    fn catch_up(&mut self, now: u64) {
        while self.clock < now {
            debug_assert!(
                self.core.ticks_until_due() > 1,
                "a skipped tick must not fire a timer"
            );
            self.core.tick();
            self.clock += 1;
        }
    }

    /// Handles all of the core's output, then describes the node.
    fn report(&mut self, answer: Answer) -> Report {
        let mut readies = Vec::new();
        loop {
            let ready = self.core.ready();
            if ready.is_empty() {
                break;
            }
            let loaded = self.handle_ready(&ready);
            readies.push((ready, loaded));
        }
        let mut report = self.report_without_output(answer);
        report.readies = readies;
        report
    }

    /// Describes the node without collecting output.
    fn report_without_output(&self, answer: Answer) -> Report {
        Report {
            id: self.core.id(),
            answer,
            status: self.core.status(),
            clock: self.clock,
            ticks_until_due: self.core.ticks_until_due(),
            readies: Vec::new(),
            pending: self.pending,
        }
    }

    /// Persists, then applies one `Ready` (its messages are routed by the cluster,
    /// after this returns: after persisting). Snapshots taken automatically while
    /// applying reach the core now and storage with the next `Ready`.
    fn handle_ready(&mut self, ready: &Ready) -> Option<LoadedSnapshot> {
        self.storage.lock().persist(ready);
        let loaded = ready.apply_snapshot.as_ref().map(|snapshot| {
            let index = snapshot.last_included_index;
            match KvStore::restore(&snapshot.data) {
                Ok(kv) => {
                    self.kv = kv;
                    LoadedSnapshot {
                        index,
                        state_index: Some(self.kv.applied_index()),
                        digest: self.kv.digest(),
                    }
                }
                Err(_) => LoadedSnapshot {
                    index,
                    state_index: None,
                    digest: 0,
                },
            }
        });
        for entry in ready.committed.refs() {
            self.kv.apply(entry.index, entry.command);
            if let Some(every) = self.auto_snapshot
                && entry.index % every == 0
            {
                // Refused only if a snapshot already covers this index: nothing to do then.
                let _ = self.core.snapshot(entry.index, self.kv.snapshot().into());
            }
        }
        loaded
    }
}
