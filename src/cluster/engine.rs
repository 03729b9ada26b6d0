//! The round engine: what one lockstep tick does, and which thread does it.
//!
//! A *round* is one tick at which something is due. The engine takes the messages due
//! at that tick from the router, hands every node with work its inbox, and waits for
//! all of them; then it *absorbs* their reports in node-id order (checker, trace,
//! routing of their messages) and starts the next round.
//!
//! The waiting is where time goes, so no thread waits just to pass work on. The
//! [`Engine`] (router, checker, trace, what is known of each node) is a value that
//! travels: `Cluster::tick` hands it to [`Shared::run`], which starts a round and
//! parks the engine; the *last* node thread to finish that round takes it, absorbs
//! the round and starts the next one itself; when no round is due before the target
//! tick, the engine goes back to the cluster. A tick thus costs one hand-off between
//! threads, not two. Reports are absorbed in id order whichever thread finishes last,
//! so the run stays a pure function of the seed and the calls.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};

use crossbeam_channel::Sender;

use super::checker::Checker;
use super::protocol::{Answer, Report, Request};
use super::router::{DropReason, InFlight, Router};
use super::storage::Storage;
use super::trace::{Trace, TraceKind};
use crate::raft::{Envelope, Index, Log, NodeId, PersistentState, Status};

/// What the engine knows of one node.
#[derive(Debug)]
pub struct Slot {
    /// True while the node runs.
    pub up: bool,
    /// What it persisted (outlives its threads).
    pub storage: Storage,
    /// Its last reported status.
    pub status: Status,
    /// The tick at which its next timer fires (any of them: it gets a round then).
    pub due_at: u64,
    /// The tick at which its role's main timer fires (election or heartbeat), the
    /// one a view draws.
    pub timer_due_at: u64,
    /// The full length of that timer, in ticks (it started at
    /// `timer_due_at - timer_length`).
    pub timer_length: u64,
    /// True if it holds proposals waiting for the next round.
    pub pending: bool,
    /// A candidate's votes, itself included (`None` unless a candidate).
    pub votes: Option<Vec<NodeId>>,
    /// True once a committed configuration left it out (dissertation §4.1): it takes
    /// part in nothing any more, and its id is never used again.
    pub removed: bool,
}

impl Slot {
    /// A slot for node `id` of a cluster founded by `founding`, not started yet.
    pub fn new(id: NodeId, founding: &[NodeId]) -> Slot {
        Slot {
            up: false,
            storage: Storage::default(),
            status: Status::at_rest(id, founding, &PersistentState::default()),
            due_at: 0,
            timer_due_at: 0,
            timer_length: 0,
            pending: false,
            votes: None,
            removed: false,
        }
    }

    /// True if the node runs and is a member of the cluster.
    pub fn is_active(&self) -> bool {
        self.up && !self.removed
    }
}

/// The state lockstep rounds work on. See the module documentation.
#[derive(Debug)]
pub struct Engine {
    /// The current tick.
    pub now: u64,
    /// The tick the current run of rounds stops at.
    pub target: u64,
    /// The nodes, by id - 1.
    pub slots: Vec<Slot>,
    /// Messages in flight and the network's faults.
    pub router: Router,
    /// The safety checker.
    pub checker: Checker,
    /// What happened.
    pub trace: Trace,
    /// Nodes whose thread panicked and ended, for the cluster to join.
    pub panicked: Vec<NodeId>,
    /// The latest configuration known to be committed (some node applied its entry):
    /// the entry's index and its members. A member it leaves out is removed.
    pub committed_members: (Index, BTreeSet<NodeId>),
}

/// What node threads tell the cluster's own thread.
#[derive(Debug)]
pub enum ToCluster {
    /// A node handled a request outside a round (a proposal, a crash, ...).
    Report(Box<Report>),
    /// A run of rounds reached its target tick: the engine comes back.
    Done(Box<Engine>),
    /// A node thread panicked: a bug, with its message.
    Panicked(NodeId, String),
}

/// What the cluster and its node threads share.
#[derive(Debug)]
pub struct Shared {
    /// Each node's request channel, by id - 1 (`None` while the node is down).
    senders: RwLock<Vec<Option<Sender<Request>>>>,
    /// The engine while a round runs.
    parked: Mutex<Option<Box<Engine>>>,
    /// The reports of the round that runs.
    reports: Mutex<Vec<Report>>,
    /// How many nodes of the round that runs have not reported yet.
    remaining: AtomicUsize,
    /// Where node threads talk to the cluster's thread.
    to_cluster: Sender<ToCluster>,
}

/// Locks a mutex; a panic elsewhere is reported through [`ToCluster::Panicked`], so
/// a poisoned lock is still good to read.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    /// Shared state for `nodes` nodes, none running yet.
    pub fn new(nodes: usize, to_cluster: Sender<ToCluster>) -> Shared {
        Shared {
            senders: RwLock::new(vec![None; nodes]),
            parked: Mutex::new(None),
            reports: Mutex::new(Vec::new()),
            remaining: AtomicUsize::new(0),
            to_cluster,
        }
    }

    /// Tells the cluster's thread something.
    pub fn tell_cluster(&self, message: ToCluster) {
        // The cluster outlives its node threads; if it is gone, nobody is listening.
        let _ = self.to_cluster.send(message);
    }

    /// Sets (or with `None`, removes) the request channel of `node`.
    pub fn set_sender(&self, node: NodeId, sender: Option<Sender<Request>>) {
        let mut senders = self
            .senders
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        senders[node - 1] = sender;
    }

    /// Makes room for the request channel of a new node, `node` (the next id).
    pub fn add_node(&self, node: NodeId) {
        let mut senders = self
            .senders
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        assert_eq!(node, senders.len() + 1, "node ids are given in order");
        senders.push(None);
    }

    /// Sends a request to a running node.
    pub fn send(&self, node: NodeId, request: Request) {
        let senders = self
            .senders
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        senders[node - 1]
            .as_ref()
            .expect("requests go to running nodes")
            .send(request)
            .expect("a running node accepts requests");
    }

    /// Runs rounds until the engine's target tick: starts the next round and parks
    /// the engine for the node that finishes it last, or, if nothing is due before
    /// the target, hands the engine back to the cluster.
    pub fn run(&self, mut engine: Box<Engine>) {
        match engine.prepare_round() {
            Some(work) => {
                self.remaining.store(work.len(), Ordering::SeqCst);
                *lock(&self.parked) = Some(engine);
                for (node, request) in work {
                    self.send(node, request);
                }
            }
            None => self.tell_cluster(ToCluster::Done(engine)),
        }
    }

    /// A node thread finished its part of the round. The last one absorbs the round
    /// and runs the next.
    pub fn finished(&self, report: Report) {
        lock(&self.reports).push(report);
        if self.remaining.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let mut engine = lock(&self.parked)
            .take()
            .expect("the engine is parked while a round runs");
        let mut reports = std::mem::take(&mut *lock(&self.reports));
        reports.sort_by_key(|report| report.id);
        for report in reports {
            engine.absorb(report);
        }
        self.run(engine);
    }
}

impl Slot {
    /// A copy whose storage is a copy too, not shared with this slot's node.
    fn duplicate(&self) -> Slot {
        // Every field by name, so that a new one cannot be forgotten here.
        let Slot {
            up,
            storage,
            status,
            due_at,
            timer_due_at,
            timer_length,
            pending,
            votes,
            removed,
        } = self;
        Slot {
            up: *up,
            storage: storage.copy(),
            status: status.clone(),
            due_at: *due_at,
            timer_due_at: *timer_due_at,
            timer_length: *timer_length,
            pending: *pending,
            votes: votes.clone(),
            removed: *removed,
        }
    }
}

impl Engine {
    /// A copy of the engine between rounds, for a checkpoint: router (with its random
    /// generator and messages in flight), checker and trace, and each node's slot with
    /// a copy of its storage (a cloned [`Storage`] would share the original's).
    pub fn duplicate(&self) -> Engine {
        Engine {
            now: self.now,
            target: self.target,
            slots: self.slots.iter().map(Slot::duplicate).collect(),
            router: self.router.clone(),
            checker: self.checker.clone(),
            trace: self.trace.clone(),
            panicked: self.panicked.clone(),
            committed_members: self.committed_members.clone(),
        }
    }

    /// The next tick at which some node has work, if any will.
    fn next_event(&self) -> Option<u64> {
        let soonest_node = self
            .slots
            .iter()
            .filter(|slot| slot.is_active())
            .map(|slot| {
                if slot.pending {
                    self.now + 1
                } else {
                    slot.due_at
                }
            })
            .min();
        let next = match (soonest_node, self.router.next_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        next.map(|next| next.max(self.now + 1))
    }

    /// Moves time to the next tick with work, up to the target, and says which node
    /// gets which round request; `None` (time now at the target) if no work is due.
    fn prepare_round(&mut self) -> Option<Vec<(NodeId, Request)>> {
        while let Some(now) = self.next_event().filter(|&next| next <= self.target) {
            self.now = now;
            let mut inboxes: BTreeMap<NodeId, Vec<Envelope>> = BTreeMap::new();
            for message in self.router.take_due(now) {
                if let Some(envelope) = self.admit(message) {
                    inboxes.entry(envelope.to).or_default().push(envelope);
                }
            }
            let mut work = Vec::new();
            for (position, slot) in self.slots.iter().enumerate() {
                let id = position + 1;
                if !slot.is_active() {
                    continue;
                }
                let inbox = inboxes.remove(&id).unwrap_or_default();
                if inbox.is_empty() && slot.due_at > now && !slot.pending {
                    continue;
                }
                work.push((id, Request::Round { now, inbox }));
            }
            // Messages due only to down nodes give nobody work: on to the next tick.
            if !work.is_empty() {
                return Some(work);
            }
        }
        self.now = self.target;
        None
    }

    /// True if the node is running and a member of the cluster.
    pub fn is_up(&self, node: NodeId) -> bool {
        self.slots[node - 1].is_active()
    }

    /// A due message reaches its recipient if the link and the recipient are up; the
    /// trace records which happened.
    pub fn admit(&mut self, message: InFlight) -> Option<Envelope> {
        let InFlight { id, envelope, .. } = message;
        let reason = if self.slots[envelope.to - 1].removed {
            Some(DropReason::Removed)
        } else if !self.is_up(envelope.to) {
            Some(DropReason::Down)
        } else if !self.router.linked(envelope.from, envelope.to) {
            Some(DropReason::Cut)
        } else {
            None
        };
        match reason {
            Some(reason) => {
                self.router.count_dropped();
                self.record_drop(id, &envelope, reason);
                None
            }
            None => {
                self.router.count_delivered();
                let from = envelope.from;
                self.record(envelope.to, TraceKind::Delivered { id, from });
                Some(envelope)
            }
        }
    }

    /// Hands a message a node sent to the router, and records its send (and its copy,
    /// or its loss) in the trace.
    fn route(&mut self, envelope: Envelope) {
        let (from, to, term) = (envelope.from, envelope.to, envelope.term);
        let message = envelope.message.info();
        let kind = message.kind();
        let routed = self.router.send(self.now, envelope);
        for (id, copy) in
            std::iter::once((routed.id, false)).chain(routed.copy.map(|id| (id, true)))
        {
            let sent = TraceKind::Sent {
                id,
                to,
                term,
                message,
                copy,
            };
            self.record(from, sent);
        }
        if let Some(reason) = routed.dropped {
            let dropped = TraceKind::Dropped {
                id: routed.id,
                to,
                message: kind,
                reason,
            };
            self.record(from, dropped);
        }
    }

    /// Takes in a node's report: checks it, records it, routes its messages.
    pub fn absorb(&mut self, report: Report) -> Answer {
        if let Answer::Panicked(message) = &report.answer {
            self.node_panicked(report.id, message);
            return report.answer;
        }
        let Report {
            id,
            answer,
            status,
            clock,
            ticks_until_due,
            timer_due_in,
            timer_length,
            readies,
            pending,
            votes,
        } = report;
        let now = self.now;
        self.checker.on_status(now, &status);
        let slot = &mut self.slots[id - 1];
        slot.status = status;
        slot.due_at = clock + ticks_until_due;
        slot.timer_due_at = clock + timer_due_in;
        slot.timer_length = timer_length;
        slot.pending = pending;
        slot.votes = votes;
        for (ready, loaded) in readies {
            let known = self.checker.violations().len();
            {
                let guards: Vec<_> = self.slots.iter().map(|slot| slot.storage.lock()).collect();
                let logs: Vec<&_> = guards.iter().map(|guard| &**guard).collect();
                self.checker.on_ready(now, id, &ready, &logs, loaded);
            }
            for event in ready.events {
                self.trace.record(now, id, TraceKind::Raft { event });
            }
            if let Some(snapshot) = &ready.apply_snapshot {
                let index = snapshot.last_included_index;
                self.trace
                    .record(now, id, TraceKind::SnapshotLoaded { index });
            }
            let committed = &ready.committed;
            if let (Some(from), Some(to)) = (committed.first_index(), committed.last_index()) {
                self.trace.record(now, id, TraceKind::Applied { from, to });
                self.note_committed_configurations(from, to, committed.log());
            }
            self.record_violations(known);
            for envelope in ready.messages {
                self.route(envelope);
            }
        }
        answer
    }

    /// A node's thread panicked (a bug) and ended: the checker reports it like a
    /// broken invariant, and the node is down from now on, as if crashed (its storage
    /// keeps what it persisted, and a restart starts from there).
    fn node_panicked(&mut self, id: NodeId, message: &str) {
        let known = self.checker.violations().len();
        self.checker.on_panic(self.now, id, message);
        self.record_violations(known);
        self.slots[id - 1].up = false;
        self.slots[id - 1].pending = false;
        self.record(id, TraceKind::Crashed);
        for message in self.router.forget_node(id) {
            self.record_drop(message.id, &message.envelope, DropReason::Down);
        }
        self.panicked.push(id);
    }

    /// Records in the trace the checker's violations from number `known` on.
    pub fn record_violations(&mut self, known: usize) {
        for violation in &self.checker.violations()[known..] {
            let kind = TraceKind::Violation {
                invariant: violation.invariant.name(),
                text: violation.text.clone(),
            };
            self.trace.record(violation.tick, violation.node, kind);
        }
    }

    /// Configuration entries among the entries `from..=to` of `log` that a node just
    /// applied are committed: a member the newest one leaves out is removed (it was
    /// removed by a committed configuration, §4.2.2, so it can never count again).
    fn note_committed_configurations(&mut self, from: Index, to: Index, log: &Log) {
        let newest = log
            .configuration_entries()
            .filter(|&(index, _)| (from..=to).contains(&index))
            .last();
        let Some((index, configuration)) = newest else {
            return;
        };
        if index <= self.committed_members.0 {
            return;
        }
        let members: BTreeSet<NodeId> = configuration.members().collect();
        let left: Vec<NodeId> = self
            .committed_members
            .1
            .difference(&members)
            .copied()
            .collect();
        self.committed_members = (index, members);
        for node in left {
            self.retire(node, index);
        }
    }

    /// Node `node` was removed by the configuration committed at `index`: it gets no
    /// more work and no more messages (those it sent still arrive, like the last words
    /// of a server being shut down). Its thread is stopped by the cluster.
    pub fn retire(&mut self, node: NodeId, index: Index) {
        let slot = &mut self.slots[node - 1];
        if slot.removed {
            return;
        }
        slot.removed = true;
        slot.pending = false;
        self.record(node, TraceKind::Removed { index });
        for message in self.router.forget_messages_to(node) {
            self.record_drop(message.id, &message.envelope, DropReason::Removed);
        }
    }

    /// Records in the trace, at the current tick, that `kind` happened to `node`.
    pub fn record(&mut self, node: NodeId, kind: TraceKind) {
        self.trace.record(self.now, node, kind);
    }

    /// Records that message `id` (`envelope`) was dropped, at its sender.
    pub fn record_drop(&mut self, id: u64, envelope: &Envelope, reason: DropReason) {
        let kind = TraceKind::Dropped {
            id,
            to: envelope.to,
            message: envelope.message.kind(),
            reason,
        };
        self.record(envelope.from, kind);
    }
}
