//! The safety checker: watches every node's output and records broken invariants.
//!
//! It sees each [`Ready`] right after the node persisted and applied it, and checks
//! what the nodes persisted, sent and applied; it never asks a node whether it
//! behaved. Each [`Invariant`] has a stable name (in brackets), which violations show
//! and a script's `expect violation NAME` takes:
//!
//! - **Election Safety** (`election-safety`): at most one leader per term (§5.2).
//! - **Log Matching** (`log-matching`): two logs with an entry of the same index and
//!   term hold the same command there and agree on the term just before it (§5.3).
//!   Each new entry is compared with every other node's persisted log when it is
//!   written, which by induction keeps whole prefixes equal.
//! - **Leader Completeness** (`leader-completeness`): a new leader's log holds every
//!   entry applied by anyone (§5.4).
//! - **State Machine Safety** (`state-machine-safety`): no two nodes apply different
//!   commands at one index, and a snapshot's state equals the state after the
//!   commands it replaces (§5.4.3).
//! - Applies come in order without gaps (`apply-order`): after a snapshot through S,
//!   the next is S + 1; a snapshot never moves the state machine backwards. A loaded
//!   snapshot decodes and holds the state at its own index (`snapshot-state`).
//! - On a live node, term, commit index and last applied never decrease (`monotonic`).
//! - What a node promised is what it persisted (`checker/promises.rs`): nothing is
//!   sent that depends on state not yet persisted (`persist-before-send`); a leader's
//!   commit is of its own term's entry and held by a majority of persisted logs
//!   (`commit-justified`); a persisted log keeps every entry the node acknowledged in
//!   its current term (`acked-entries-kept`).
//! - A node thread that panics is reported here too (`node-panic`).
//!
//! It also keeps what the lab's tester keeps: which command each node applied at each
//! index, so tests can ask how many nodes applied an index and what. It keeps no copy
//! of those commands: a digest every 64 indexes, and clones of the logs they were
//! applied from, which share the nodes' storage (see `checker/history.rs`). To keep memory
//! flat in long runs, it forgets the command at an index once every node holds that
//! index inside a snapshot and [`HISTORY_WINDOW`] newer entries exist: no node can
//! apply it from a log again, and nothing is left to compare it with.

mod history;
mod invariant;
mod promises;

use std::collections::BTreeMap;

use serde::Serialize;

use self::history::History;
pub use self::invariant::Invariant;
use self::promises::Acked;
use crate::raft::log::Entries;
use crate::raft::{Event, Index, LogSuffix, NodeId, PersistentState, Ready, Status, Term};

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// When it was found.
    pub tick: u64,
    /// The node whose output broke it.
    pub node: NodeId,
    /// Which invariant.
    pub invariant: Invariant,
    /// What was broken, in words.
    pub text: String,
}

impl std::fmt::Display for Violation {
    /// `tick 40: n2: commit-justified: ...`, the line every report shows.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tick {}: n{}: {}: {}",
            self.tick, self.node, self.invariant, self.text
        )
    }
}

/// What the state machine reported after loading a snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadedSnapshot {
    /// The snapshot's last included index (from Raft).
    pub index: Index,
    /// The index the state machine says it reflects, or `None` if the data did not decode.
    pub state_index: Option<Index>,
    /// The state machine's digest of all commands it reflects.
    pub digest: u64,
}

/// How many entries below the oldest snapshot the checker keeps, so recent indexes
/// can still be looked up after every node compacted them.
pub const HISTORY_WINDOW: u64 = 1024;

/// What the checker remembers of one node.
#[derive(Clone, Debug, Default)]
struct NodeRecord {
    /// Last reported term, commit index and last applied (monotonic while up).
    status: Option<(u64, u64, u64)>,
    /// The highest index reflected in the node's state machine (kept while it is down).
    last_applied: u64,
    /// The index ranges it applied from its log (not through a snapshot), this life.
    applied_ranges: Vec<(u64, u64)>,
    /// The term it leads, from its events: won, and not stepped down since (nor
    /// restarted).
    leading: Option<Term>,
    /// The highest entry it acknowledged in its current term (kept across restarts:
    /// its persisted log must keep it).
    acked: Option<Acked>,
}

/// See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct Checker {
    /// Everything broken so far, in order.
    violations: Vec<Violation>,
    /// The leader of each term seen so far.
    leaders: BTreeMap<u64, NodeId>,
    /// The highest index a leader of each term committed: Leader Completeness
    /// (§5.4) asks a leader of term L for the entries committed in terms below L.
    committed_in: BTreeMap<u64, Index>,
    /// The command applied at each index.
    history: History,
    /// Per node, by id - 1.
    nodes: Vec<NodeRecord>,
    /// How many times each node was started, by id - 1.
    lives: Vec<u64>,
    /// How many nodes the cluster was founded with (`1..=founding` vote until a
    /// configuration entry says otherwise).
    founding: usize,
}

impl Checker {
    /// A checker for nodes `1..=nodes`.
    pub fn new(nodes: usize) -> Checker {
        Checker {
            nodes: vec![NodeRecord::default(); nodes],
            lives: vec![0; nodes],
            founding: nodes,
            ..Checker::default()
        }
    }

    /// Starts keeping records of a new node, `node` (the next id).
    pub fn add_node(&mut self, node: NodeId) {
        assert_eq!(node, self.nodes.len() + 1, "node ids are given in order");
        self.nodes.push(NodeRecord::default());
        self.lives.push(0);
    }

    /// Everything broken so far.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The highest index any node applied.
    pub fn max_applied(&self) -> Index {
        self.history.last_index()
    }

    /// How many nodes applied `index` (from their log or inside a snapshot; a crashed
    /// node counts with what it had applied), and the command there.
    pub fn applied_count(&self, index: Index) -> (usize, Option<String>) {
        let all: Vec<NodeId> = (1..=self.nodes.len()).collect();
        self.applied_count_among(index, &all)
    }

    /// Like [`Checker::applied_count`], counting only `nodes` (the members of a
    /// cluster whose membership changed).
    pub fn applied_count_among(&self, index: Index, nodes: &[NodeId]) -> (usize, Option<String>) {
        if index == 0 {
            return (0, None);
        }
        let count = nodes
            .iter()
            .filter(|&&node| self.nodes[node - 1].last_applied >= index)
            .count();
        let command = self
            .history
            .get(index)
            .map(|applied| applied.command.to_string());
        (count, command)
    }

    /// The command `node` applied at `index` from its log in its current life.
    pub fn applied(&self, node: NodeId, index: Index) -> Option<String> {
        let record = &self.nodes[node - 1];
        record
            .applied_ranges
            .iter()
            .any(|&(from, to)| (from..=to).contains(&index))
            .then(|| self.history.get(index))
            .flatten()
            .map(|applied| applied.command.to_string())
    }

    /// Records a broken invariant.
    fn violation(&mut self, tick: u64, node: NodeId, invariant: Invariant, text: String) {
        self.violations.push(Violation {
            tick,
            node,
            invariant,
            text,
        });
    }

    /// The entries every node starts with, committed before the cluster began
    /// (`cluster N log K`): they count as applied in order, so the snapshots that
    /// hold them are checked against them.
    pub fn start_with(&mut self, entries: &[crate::raft::Entry]) {
        let Some(last) = entries.last() else {
            return;
        };
        let mut log = crate::raft::Log::new();
        for entry in entries {
            log.push(entry.clone());
        }
        assert_eq!(
            self.history.last_index(),
            0,
            "the starting entries come before anything is applied"
        );
        // They were applied before any node of this cluster lived: node 0, life 0.
        self.history.add_source(0, 0, &log.entries(1, last.index));
        for entry in entries {
            self.history.push(&entry.command);
        }
    }

    /// A node restarted: its volatile state starts over (what it acknowledged is in
    /// its persisted log, which a restart keeps).
    pub fn on_restart(&mut self, node: NodeId) {
        let acked = self.nodes[node - 1].acked.take();
        self.nodes[node - 1] = NodeRecord {
            acked,
            ..NodeRecord::default()
        };
        self.lives[node - 1] += 1;
    }

    /// A node's thread panicked with `message`: a bug, reported like a broken invariant.
    pub fn on_panic(&mut self, tick: u64, node: NodeId, message: &str) {
        let text = format!("n{node} panicked: {message}");
        self.violation(tick, node, Invariant::NodePanic, text);
    }

    /// Checks one node's status after it handled some input.
    pub fn on_status(&mut self, tick: u64, status: &Status) {
        let node = status.id;
        let now = (status.term, status.commit_index, status.last_applied);
        if let Some(before) = self.nodes[node - 1].status {
            let names = ["term", "commit index", "last applied"];
            let pairs = [(before.0, now.0), (before.1, now.1), (before.2, now.2)];
            for (name, (was, is)) in names.iter().zip(pairs) {
                if is < was {
                    let text = format!("{name} went back from {was} to {is}");
                    self.violation(tick, node, Invariant::Monotonic, text);
                }
            }
        }
        self.nodes[node - 1].status = Some(now);
    }

    /// Checks one [`Ready`] of `node`, after it was persisted and applied. `logs` holds
    /// every node's persisted state (by id - 1); `loaded` what the state machine said
    /// about the snapshot in `ready.apply_snapshot`, if any.
    pub fn on_ready(
        &mut self,
        tick: u64,
        node: NodeId,
        ready: &Ready,
        logs: &[&PersistentState],
        loaded: Option<LoadedSnapshot>,
    ) {
        self.check_kept_acks(tick, node, logs[node - 1]);
        self.check_sent(tick, node, &ready.messages, logs);
        for event in &ready.events {
            match *event {
                Event::BecameLeader { term } => {
                    self.check_new_leader(tick, node, term, logs[node - 1]);
                    self.nodes[node - 1].leading = Some(term);
                }
                Event::SteppedDown { .. } => self.nodes[node - 1].leading = None,
                Event::Committed { index } => {
                    if let Some(term) = self.nodes[node - 1].leading {
                        self.check_leader_commit(tick, node, term, index, logs);
                        let highest = self.committed_in.entry(term).or_default();
                        *highest = (*highest).max(index);
                    }
                }
                Event::ElectionTimeout { .. }
                | Event::VoteGranted { .. }
                | Event::VoteDenied { .. }
                | Event::Appended { .. }
                | Event::Truncated { .. }
                | Event::SnapshotTaken { .. }
                | Event::SnapshotInstalled { .. }
                | Event::StaleTermIgnored { .. }
                | Event::VoteCounted { .. }
                | Event::AppendRejected { .. }
                | Event::ProgressUpdated { .. } => {}
                // The mechanisms beyond Lab 3 add no claim the checker reads from
                // events: what they change shows in the votes, logs and commits.
                Event::PreVoteStarted { .. }
                | Event::PreVoteGranted { .. }
                | Event::PreVoteDenied { .. }
                | Event::VoteIgnored { .. }
                | Event::LostQuorum { .. }
                | Event::TransferStarted { .. }
                | Event::TransferAborted { .. }
                | Event::TimeoutNowReceived { .. }
                | Event::ConfigurationChanged { .. }
                | Event::LeftCluster { .. } => {}
            }
        }
        self.note_acks(node, &ready.messages, logs[node - 1]);
        if let Some(suffix) = &ready.log {
            self.check_log_matching(tick, node, suffix, logs);
        }
        if let Some(snapshot) = &ready.apply_snapshot {
            self.check_snapshot_load(tick, node, snapshot.last_included_index, loaded);
        }
        self.check_applies(tick, node, &ready.committed);
        // Every node holds everything up to its snapshot index: no node applies those
        // from a log again, so their commands may go (keeping a window of recent ones).
        let oldest_snapshot = logs
            .iter()
            .map(|state| state.log.snapshot_index())
            .min()
            .unwrap_or(0);
        self.history
            .forget_through(oldest_snapshot.saturating_sub(HISTORY_WINDOW));
    }

    /// Election Safety and Leader Completeness for a node that just won `term`.
    fn check_new_leader(&mut self, tick: u64, node: NodeId, term: u64, state: &PersistentState) {
        if let Some(&other) = self.leaders.get(&term) {
            if other != node {
                self.violation(
                    tick,
                    node,
                    Invariant::ElectionSafety,
                    format!("n{node} and n{other} both won term {term}"),
                );
            }
        } else {
            self.leaders.insert(term, node);
        }
        // What leaders of earlier terms committed (and someone applied, so its term is
        // known): an entry committed in this term or a later one is not required. A
        // late winner of an older term (its vote replies held back) may lead after a
        // newer term committed more; it holds none of that, and need not.
        let committed_before = self
            .committed_in
            .range(..term)
            .map(|(_, &index)| index)
            .max()
            .unwrap_or(0);
        let committed = committed_before.min(self.max_applied());
        if committed == 0 || committed <= state.log.snapshot_index() {
            return;
        }
        let expected = self
            .history
            .get(committed)
            .expect("the last applied command is never forgotten")
            .term;
        match state.log.term_at(committed) {
            Some(held) if held == expected => {}
            held => self.violation(
                tick,
                node,
                Invariant::LeaderCompleteness,
                format!(
                    "n{node} leads term {term} but holds {} at committed index {committed} (term {expected})",
                    held.map_or("nothing".to_string(), |held| format!("term {held}")),
                ),
            ),
        }
    }

    /// Log Matching for entries `node` just wrote, against every other node's log.
    /// Each other log is walked alongside the new entries where both hold them.
    fn check_log_matching(
        &mut self,
        tick: u64,
        node: NodeId,
        suffix: &LogSuffix,
        logs: &[&PersistentState],
    ) {
        let mine = &suffix.log;
        let first = suffix.first.max(mine.snapshot_index() + 1);
        let last = mine.last_index();
        // (index, other node, text), reported by index, then node.
        let mut broken = Vec::new();
        for (position, other) in logs.iter().enumerate() {
            let other_id = position + 1;
            let theirs = &other.log;
            let from = first.max(theirs.snapshot_index() + 1);
            let to = last.min(theirs.last_index());
            if other_id == node || from > to {
                continue;
            }
            // The terms just before the entry compared, in both logs (`None` where one
            // side compacted it: it is committed, nothing to compare).
            let mut previous = (mine.term_at(from - 1), theirs.term_at(from - 1));
            for (entry, their) in mine.refs(from, to).zip(theirs.refs(from, to)) {
                let previous_terms =
                    std::mem::replace(&mut previous, (Some(entry.term), Some(their.term)));
                if their.term != entry.term {
                    continue;
                }
                let same_command = their.command == entry.command;
                let same_prefix = match previous_terms {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                if !same_command || !same_prefix {
                    let text = format!(
                        "n{node} and n{other_id} both hold index {} term {} but differ {}",
                        entry.index,
                        entry.term,
                        if same_command {
                            "before it"
                        } else {
                            "in its command"
                        },
                    );
                    broken.push((entry.index, other_id, text));
                }
            }
        }
        broken.sort_by_key(|&(index, other, _)| (index, other));
        for (_, _, text) in broken {
            self.violation(tick, node, Invariant::LogMatching, text);
        }
    }

    /// A snapshot loaded into a state machine: never backwards, and equal to the state
    /// the commands it replaces produce.
    fn check_snapshot_load(
        &mut self,
        tick: u64,
        node: NodeId,
        index: u64,
        loaded: Option<LoadedSnapshot>,
    ) {
        let record = &self.nodes[node - 1];
        if index <= record.last_applied {
            let was = record.last_applied;
            self.violation(
                tick,
                node,
                Invariant::ApplyOrder,
                format!("snapshot through {index} would move the state machine back from {was}"),
            );
            return;
        }
        match loaded {
            Some(LoadedSnapshot {
                state_index: Some(state_index),
                digest,
                ..
            }) => {
                if state_index != index {
                    self.violation(
                        tick,
                        node,
                        Invariant::SnapshotState,
                        format!("snapshot through {index} holds the state at {state_index}"),
                    );
                } else if let Some(expected) = self.history.digest_at(index)
                    && expected != digest
                {
                    self.violation(
                        tick,
                        node,
                        Invariant::StateMachineSafety,
                        format!("snapshot through {index} differs from the applied commands"),
                    );
                }
            }
            Some(LoadedSnapshot {
                state_index: None, ..
            }) => self.violation(
                tick,
                node,
                Invariant::SnapshotState,
                format!("snapshot through {index} does not decode"),
            ),
            None => {}
        }
        let record = &mut self.nodes[node - 1];
        record.last_applied = index;
    }

    /// The entries `node` applied from its log: in order, and the same command every
    /// node applied at each index. Indexes applied before are compared with the
    /// history, walking both in order; the first application of an index is recorded,
    /// and the command is afterwards found in the log it was taken from.
    fn check_applies(&mut self, tick: u64, node: NodeId, committed: &Entries) {
        let (Some(first), Some(last)) = (committed.first_index(), committed.last_index()) else {
            return;
        };
        let known = self.history.last_index();
        if first <= known + 1 && last > known {
            self.history
                .add_source(node, self.lives[node - 1], committed);
        }
        let mut entries = committed.refs().peekable();
        // Indexes someone applied before.
        {
            let Checker {
                history,
                nodes,
                violations,
                ..
            } = self;
            let mut before = history.range(first, known).peekable();
            while let Some(entry) = entries.next_if(|entry| entry.index <= known) {
                check_order(violations, &nodes[node - 1], tick, node, entry.index);
                if let Some(applied) = before.next_if(|applied| applied.index == entry.index)
                    && (applied.term != entry.term || applied.command != entry.command)
                {
                    let text = format!(
                        "n{node} applied {:?} (term {}) at index {}, where {:?} (term {}) was applied before",
                        entry.command, entry.term, entry.index, applied.command, applied.term
                    );
                    let invariant = Invariant::StateMachineSafety;
                    violations.push(Violation {
                        tick,
                        node,
                        invariant,
                        text,
                    });
                }
                nodes[node - 1].note_applied(entry.index);
            }
        }
        // Indexes nobody applied before.
        for entry in entries {
            check_order(
                &mut self.violations,
                &self.nodes[node - 1],
                tick,
                node,
                entry.index,
            );
            let known = self.history.last_index();
            if entry.index != known + 1 {
                self.violation(
                    tick,
                    node,
                    Invariant::ApplyOrder,
                    format!(
                        "applied index {} before anyone applied {}",
                        entry.index,
                        known + 1
                    ),
                );
                continue;
            }
            self.history.push(entry.command);
            self.nodes[node - 1].note_applied(entry.index);
        }
    }
}

/// Applies come in order: `index` must follow what `record`'s node applied last.
fn check_order(
    violations: &mut Vec<Violation>,
    record: &NodeRecord,
    tick: u64,
    node: NodeId,
    index: Index,
) {
    let expected = record.last_applied + 1;
    if index != expected {
        let text = format!("applied index {index} out of order (expected {expected})");
        let invariant = Invariant::ApplyOrder;
        violations.push(Violation {
            tick,
            node,
            invariant,
            text,
        });
    }
}

impl NodeRecord {
    /// Notes that the node applied `index` from its log.
    fn note_applied(&mut self, index: Index) {
        self.last_applied = self.last_applied.max(index);
        match self.applied_ranges.last_mut() {
            Some((_, to)) if *to + 1 == index => *to = index,
            _ => self.applied_ranges.push((index, index)),
        }
    }
}

#[cfg(test)]
mod tests;
