//! A node's thread: one Raft core, its storage and its state machine.
//!
//! The thread waits for a [`Request`] from the cluster, feeds it to the core, handles
//! the core's output in the order [`Ready`] demands (persist, then send, then apply),
//! and answers with a [`Report`]. The cluster sends work to several nodes at once and
//! waits for all their reports before it moves time on, so threads run in parallel
//! within a tick and the run stays a pure function of the seed and the calls.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::Receiver;

use super::checker::LoadedSnapshot;
use super::engine::{Shared, ToCluster};
use super::protocol::{Answer, NodeView, Report, Request, panic_message, receive};
use super::storage::Storage;
use crate::kv::KvStore;
use crate::raft::snapshot::SnapshotError;
use crate::raft::{Index, Node, NodeId, NotLeader, ProposeError, RaftConfig, Ready};

/// A copy of what a node thread holds besides its storage, taken between two
/// actions: the core (with its random generator and any proposals waiting for the
/// next round), the state machine, and the thread's own clock. A thread started from
/// it with [`spawn_restored`] continues exactly as the original would have.
#[derive(Clone, Debug)]
pub struct NodeState {
    /// The Raft core.
    core: Node,
    /// The state machine.
    kv: KvStore,
    /// The auto-snapshot interval.
    auto_snapshot: Option<u64>,
    /// The last tick the core has seen.
    clock: u64,
    /// True while proposals wait for the next round.
    pending: bool,
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
    /// A panic planted by a test ([`Request::PlantPanic`]), due in the next round.
    planted_panic: Option<String>,
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
    start_thread(spawn.id, shared, move |inbox, shared| {
        // A clone shares the persisted log's storage: restarting copies no entry.
        let state = spawn.storage.lock().clone();
        let core = Node::restart(spawn.id, spawn.members, spawn.config, spawn.seed, state);
        let mut thread = NodeThread {
            core,
            storage: spawn.storage,
            kv: KvStore::new(),
            auto_snapshot: spawn.auto_snapshot,
            clock: spawn.now,
            pending: false,
            planted_panic: None,
        };
        let first = thread.guarded(|thread| thread.report(Answer::Done));
        let panicked = matches!(first.answer, Answer::Panicked(_));
        shared.tell_cluster(ToCluster::Report(Box::new(first)));
        if !panicked {
            thread.serve(inbox, shared);
        }
    })
}

/// Registers node `id`'s request channel in `shared` and runs `body` on a thread named
/// after it. A panic outside a request (building the core, or absorbing a round on
/// this thread) cannot be a report: the cluster hears of it and gives up.
fn start_thread(
    id: NodeId,
    shared: Arc<Shared>,
    body: impl FnOnce(&Receiver<Request>, &Arc<Shared>) + Send + 'static,
) -> JoinHandle<()> {
    let (requests, inbox) = crossbeam_channel::unbounded();
    shared.set_sender(id, Some(requests));
    std::thread::Builder::new()
        .name(format!("n{id}"))
        .spawn(move || {
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| body(&inbox, &shared))) {
                let message = panic_message(&*payload);
                shared.tell_cluster(ToCluster::Panicked(id, message));
            }
        })
        .expect("the OS can start a thread")
}

/// Starts a node thread again from a [`NodeState`] captured earlier, over `storage`
/// (a copy of what the node had persisted then), and registers its request channel.
/// Unlike [`spawn`] it sends no first report: the cluster restoring it already knows
/// the node's status from the same moment.
pub fn spawn_restored(state: NodeState, storage: Storage, shared: Arc<Shared>) -> JoinHandle<()> {
    start_thread(state.core.id(), shared, move |inbox, shared| {
        let mut thread = NodeThread {
            core: state.core,
            storage,
            kv: state.kv,
            auto_snapshot: state.auto_snapshot,
            clock: state.clock,
            pending: state.pending,
            planted_panic: None,
        };
        thread.serve(inbox, shared);
    })
}

impl NodeThread {
    /// Handles requests until a crash or until the cluster hangs up. A round's report
    /// goes to the round engine; any other goes straight to the cluster.
    ///
    /// A request whose handling panics is answered with [`Answer::Panicked`] (the
    /// round, if it was one, completes without this node), and the thread ends: the
    /// core may be left in any state, so the node counts as crashed.
    fn serve(&mut self, inbox: &Receiver<Request>, shared: &Shared) {
        while let Some(request) = receive(inbox) {
            let round = matches!(request, Request::Round { .. });
            let crash = matches!(request, Request::Crash);
            let report = self.guarded(|thread| thread.handle(request));
            let panicked = matches!(report.answer, Answer::Panicked(_));
            if round {
                shared.finished(report);
            } else {
                shared.tell_cluster(ToCluster::Report(Box::new(report)));
            }
            if crash || panicked {
                return;
            }
        }
    }

    /// Runs `work`, turning a panic into a report that carries its message.
    fn guarded(&mut self, work: impl FnOnce(&mut NodeThread) -> Report) -> Report {
        match panic::catch_unwind(AssertUnwindSafe(|| work(self))) {
            Ok(report) => report,
            Err(payload) => Report {
                id: self.core.id(),
                answer: Answer::Panicked(panic_message(&*payload)),
                status: self.core.status(),
                clock: self.clock,
                ticks_until_due: 1,
                timer_due_in: self.core.timer_due_in(),
                timer_length: self.core.timer_length(),
                readies: Vec::new(),
                pending: false,
                votes: None,
            },
        }
    }

    fn handle(&mut self, request: Request) -> Report {
        match request {
            Request::Round { now, inbox } => {
                if let Some(message) = self.planted_panic.take() {
                    panic!("{message}");
                }
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
                let mut result = Err(ProposeError::NotLeader(NotLeader { leader: None }));
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
            Request::ProposeChange { now, change } => {
                self.catch_up(now);
                let result = self.core.propose_change(change);
                self.pending |= result.is_ok();
                // Like a proposal, the entry is persisted and sent with the next round.
                self.report_without_output(Answer::ChangeProposed(result))
            }
            Request::Transfer { now, target } => {
                self.catch_up(now);
                let result = self.core.transfer_leadership(target);
                self.report(Answer::Transferring(result))
            }
            Request::TimeoutNow { now } => {
                self.catch_up(now);
                let fired = self.core.timeout_now();
                self.report(Answer::TimedOut(fired))
            }
            Request::HeartbeatNow { now } => {
                self.catch_up(now);
                let fired = self.core.heartbeat_now();
                self.report(Answer::TimedOut(fired))
            }
            Request::Flush { now } => {
                self.catch_up(now);
                self.pending = false;
                self.report(Answer::Done)
            }
            Request::SnapshotAt { now, index } => {
                self.catch_up(now);
                let result = self.state_at(index).and_then(|state| {
                    self.core
                        .snapshot(index, state.snapshot().into())
                        .map(|()| index)
                });
                self.report(Answer::Snapshotted(result))
            }
            Request::Progress => {
                let progress = self.core.progress();
                self.report_without_output(Answer::Progress(progress))
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
            Request::Capture => {
                let state = NodeState {
                    core: self.core.clone(),
                    kv: self.kv.clone(),
                    auto_snapshot: self.auto_snapshot,
                    clock: self.clock,
                    pending: self.pending,
                };
                self.report_without_output(Answer::Captured(Box::new(state)))
            }
            Request::Inspect => {
                let view = NodeView {
                    log: self.core.log().clone(),
                    kv: self.kv.clone(),
                };
                self.report_without_output(Answer::Inspected(Box::new(view)))
            }
            Request::Crash => self.report_without_output(Answer::Crashed),
            Request::PlantPanic(message) => {
                self.planted_panic = Some(message);
                self.report_without_output(Answer::Done)
            }
        }
    }

    /// The state machine as it was right after applying `index`: the persisted
    /// snapshot's state, then the log's entries up to `index` (the state machine
    /// itself is already further on).
    fn state_at(&self, index: Index) -> Result<KvStore, SnapshotError> {
        let log = self.core.log();
        if index > self.kv.applied_index() {
            return Err(SnapshotError::NotApplied {
                index,
                last_applied: self.kv.applied_index(),
            });
        }
        if index <= log.snapshot_index() {
            return Err(SnapshotError::AlreadyCompacted {
                snapshot_index: log.snapshot_index(),
            });
        }
        let mut state = match &self.storage.lock().snapshot {
            Some(snapshot) => KvStore::restore(&snapshot.data)
                .expect("a snapshot this node persisted decodes (the checker verified it)"),
            None => KvStore::new(),
        };
        assert_eq!(
            state.applied_index(),
            log.snapshot_index(),
            "the persisted snapshot is the core's snapshot (persist before the next request)"
        );
        for entry in log.slice(log.snapshot_index() + 1, index) {
            state.apply(entry.index, &entry.command);
        }
        Ok(state)
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
            // Handling a Ready (loading a snapshot, say) may make a little more output,
            // never an endless stream: a core that keeps producing it is broken.
            assert!(
                readies.len() < 100,
                "n{}: the core still has output after 100 Readies",
                self.core.id()
            );
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
            timer_due_in: self.core.timer_due_in(),
            timer_length: self.core.timer_length(),
            readies: Vec::new(),
            pending: self.pending,
            votes: self
                .core
                .votes_received()
                .map(|votes| votes.iter().copied().collect()),
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
            // No-ops and configuration entries are Raft's own: the state machine
            // only counts their index.
            if entry.kind.is_command() {
                self.kv.apply(entry.index, entry.command);
            } else {
                self.kv.skip(entry.index);
            }
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
