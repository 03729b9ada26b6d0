//! The safety checker: watches every node's output and records broken invariants.
//!
//! It sees each [`Ready`] right after the node persisted and applied it, and checks:
//!
//! - **Election Safety**: at most one leader per term (§5.2).
//! - **Log Matching**: two logs with an entry of the same index and term hold the same
//!   command there and agree on the term just before it (§5.3). Each new entry is
//!   compared with every other node's persisted log when it is written, which by
//!   induction keeps whole prefixes equal.
//! - **Leader Completeness**: a new leader's log holds every entry applied by anyone
//!   (§5.4).
//! - **State Machine Safety**: no two nodes apply different commands at one index, and
//!   a snapshot's state equals the state after the commands it replaces (§5.4.3).
//! - Applies come in order without gaps: after a snapshot through S, the next is S + 1;
//!   a snapshot never moves the state machine backwards.
//! - On a live node, term, commit index and last applied never decrease.
//!
//! It also keeps what the lab's tester keeps: which command each node applied at each
//! index, so tests can ask how many nodes applied an index and what. It keeps no copy
//! of those commands: a digest per index, and clones of the logs they were applied
//! from, which share the nodes' storage (see `checker/history.rs`). To keep memory
//! flat in long runs, it forgets the command at an index once every node holds that
//! index inside a snapshot and [`HISTORY_WINDOW`] newer entries exist: no node can
//! apply it from a log again, and nothing is left to compare it with.

mod history;

use std::collections::BTreeMap;

use serde::Serialize;

use self::history::History;
use crate::raft::log::Entries;
use crate::raft::{Command, Event, Index, NodeId, PersistentState, Ready, Status};

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// When it was found.
    pub tick: u64,
    /// The node whose output broke it.
    pub node: NodeId,
    /// What was broken, in words.
    pub text: String,
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
}

/// See the module documentation.
#[derive(Debug, Default)]
pub struct Checker {
    /// Everything broken so far, in order.
    violations: Vec<Violation>,
    /// The leader of each term seen so far.
    leaders: BTreeMap<u64, NodeId>,
    /// The command applied at each index.
    history: History,
    /// Per node, by id - 1.
    nodes: Vec<NodeRecord>,
    /// How many times each node was started, by id - 1.
    lives: Vec<u64>,
}

impl Checker {
    /// A checker for nodes `1..=nodes`.
    pub fn new(nodes: usize) -> Checker {
        Checker {
            nodes: vec![NodeRecord::default(); nodes],
            lives: vec![0; nodes],
            ..Checker::default()
        }
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
        if index == 0 {
            return (0, None);
        }
        let count = self
            .nodes
            .iter()
            .filter(|record| record.last_applied >= index)
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

    /// The highest index reflected in `node`'s state machine.
    pub fn last_applied(&self, node: NodeId) -> Index {
        self.nodes[node - 1].last_applied
    }

    /// Records a broken invariant.
    fn violation(&mut self, tick: u64, node: NodeId, text: String) {
        self.violations.push(Violation { tick, node, text });
    }

    /// A node restarted: its volatile state starts over.
    pub fn on_restart(&mut self, node: NodeId) {
        self.nodes[node - 1] = NodeRecord::default();
        self.lives[node - 1] += 1;
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
                    self.violation(tick, node, format!("{name} went back from {was} to {is}"));
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
        for event in &ready.events {
            if let Event::BecameLeader { term } = *event {
                self.check_new_leader(tick, node, term, logs[node - 1]);
            }
        }
        if let Some(suffix) = &ready.log {
            self.check_log_matching(tick, node, &suffix.entries(), logs);
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
                    format!("Election Safety: n{node} and n{other} both won term {term}"),
                );
            }
        } else {
            self.leaders.insert(term, node);
        }
        let committed = self.max_applied();
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
                format!(
                    "Leader Completeness: n{node} leads term {term} but holds {} at committed index {committed} (term {expected})",
                    held.map_or("nothing".to_string(), |held| format!("term {held}")),
                ),
            ),
        }
    }

    /// Log Matching for entries `node` just wrote, against every other node's log.
    fn check_log_matching(
        &mut self,
        tick: u64,
        node: NodeId,
        entries: &crate::raft::log::Entries,
        logs: &[&PersistentState],
    ) {
        let mine = &logs[node - 1].log;
        for entry in entries {
            for (position, other) in logs.iter().enumerate() {
                let other_id = position + 1;
                if other_id == node {
                    continue;
                }
                let Some(theirs) = other.log.get(entry.index) else {
                    continue;
                };
                if theirs.term != entry.term {
                    continue;
                }
                let same_command = theirs.command == entry.command;
                let previous = entry.index - 1;
                let prev_terms = (mine.term_at(previous), other.log.term_at(previous));
                let same_prefix = match prev_terms {
                    (Some(a), Some(b)) => a == b,
                    // One side compacted the previous entry: it is committed, nothing to compare.
                    _ => true,
                };
                if !same_command || !same_prefix {
                    self.violation(
                        tick,
                        node,
                        format!(
                            "Log Matching: n{node} and n{other_id} both hold index {} term {} but differ {}",
                            entry.index,
                            entry.term,
                            if same_command { "before it" } else { "in its command" },
                        ),
                    );
                }
            }
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
                        format!("snapshot through {index} holds the state at {state_index}"),
                    );
                } else if let Some(applied) = self.history.get(index)
                    && applied.digest != digest
                {
                    self.violation(
                        tick,
                        node,
                        format!("State Machine Safety: snapshot through {index} differs from the applied commands"),
                    );
                }
            }
            Some(LoadedSnapshot {
                state_index: None, ..
            }) => self.violation(
                tick,
                node,
                format!("snapshot through {index} does not decode"),
            ),
            None => {}
        }
        let record = &mut self.nodes[node - 1];
        record.last_applied = index;
    }

    /// The entries `node` applied from its log, one by one. Those nobody applied before
    /// are afterwards found in the log they were taken from.
    fn check_applies(&mut self, tick: u64, node: NodeId, committed: &Entries) {
        let known = self.history.last_index();
        let extends =
            committed.first_index() <= Some(known + 1) && committed.last_index() > Some(known);
        if extends {
            self.history
                .add_source(node, self.lives[node - 1], committed);
        }
        for entry in committed {
            self.check_apply(tick, node, entry.index, entry.term, &entry.command);
        }
    }

    /// One applied entry: in order, and the same command every node applied there.
    fn check_apply(&mut self, tick: u64, node: NodeId, index: u64, term: u64, command: &Command) {
        let expected = self.nodes[node - 1].last_applied + 1;
        if index != expected {
            self.violation(
                tick,
                node,
                format!("applied index {index} out of order (expected {expected})"),
            );
        }
        let known = self.history.last_index();
        if index <= known {
            if let Some(applied) = self.history.get(index)
                && (applied.term != term || applied.command != command)
            {
                let text = format!(
                    "State Machine Safety: n{node} applied {command:?} (term {term}) at index {index}, where {:?} (term {}) was applied before",
                    applied.command, applied.term
                );
                self.violation(tick, node, text);
            }
        } else if index == known + 1 {
            self.history.push(command);
        } else {
            self.violation(
                tick,
                node,
                format!("applied index {index} before anyone applied {}", known + 1),
            );
            return;
        }
        let record = &mut self.nodes[node - 1];
        record.last_applied = record.last_applied.max(index);
        match record.applied_ranges.last_mut() {
            Some((_, to)) if *to + 1 == index => *to = index,
            _ => record.applied_ranges.push((index, index)),
        }
    }
}
